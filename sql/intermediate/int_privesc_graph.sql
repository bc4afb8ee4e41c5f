-- int_privesc_graph
-- The edges of the privilege-escalation search as numbers: every edge out of a principal that
-- is not an administrator (int_principal_graph_pair_edges, the one edge per pair and kind a
-- step would choose), with its principals' `node_id`s (int_privesc_nodes): `source_id`,
-- `target_id`; `edge_key`: the class edge (int_principal_graph_class_edges); `is_self`: from a
-- principal to itself; `makes_target_admin`, `is_conditional`: the edge's; `method_rank`,
-- `via_rank`: its method and `via` ARN numbered in their names' order (no `via` is 0, first).
-- The ranks are numbered within a principal bucket: they only ever compare the edges out of one
-- principal, which are all in its bucket.
-- Built per principal bucket (the bucket's sources), like the pair edges it numbers.
-- grain: source_id, target_id, makes_target_admin
-- partition: principal_bucket

with pair_edges as not materialized (
    -- The edges out of the bucket's principals (the pair edges' own part, when it is built per
    -- bucket too), read where used (three times).
    select source_arn, target_arn, makes_target_admin, is_conditional, method, via_arn, edge_key
    from int_principal_graph_pair_edges
    where source_arn in (select principal_arn from int_principal_policy_sets)
),

nodes as (
    select node_id, principal_arn, is_admin from int_privesc_nodes
),

method_ranks as (
    select method, (row_number() over (order by method))::integer as method_rank
    from (select distinct method from pair_edges)
),

via_ranks as (
    select via_arn, (row_number() over (order by via_arn))::integer as via_rank
    from (select distinct via_arn from pair_edges where via_arn is not null)
),

final as (
    select
        s.node_id as source_id,
        t.node_id as target_id,
        e.edge_key,
        e.source_arn = e.target_arn as is_self,
        e.makes_target_admin,
        e.is_conditional,
        m.method_rank,
        coalesce(v.via_rank, 0) as via_rank
    from pair_edges as e
    inner join nodes as s on s.principal_arn = e.source_arn and not s.is_admin
    inner join nodes as t on t.principal_arn = e.target_arn
    inner join method_ranks as m on m.method = e.method
    left join via_ranks as v on v.via_arn = e.via_arn
)

select * from final
