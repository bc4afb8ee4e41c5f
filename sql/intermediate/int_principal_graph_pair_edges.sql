-- int_principal_graph_pair_edges
-- The edge a path takes between two principals: of the edges from `source_arn` to `target_arn`
-- (int_principal_graph_edges, where one pair often has a dozen, one per method and `via`), the
-- one privilege_escalation_paths would choose, kept apart for the edges that write an
-- administrator policy into the target first (`makes_target_admin`) and the others. The choice
-- is the search's: an unconditional edge first, then by `method`, `via_arn` (none first) and
-- `edge_key` (the class edge's number). The search reads this table, not the edges: its graph
-- has one row per pair instead of one per method (a dense account of 1,000 principals has 14 M
-- class edges and 1 M pairs).
-- Built per principal bucket (the bucket's sources against every target), like the class edges.
-- grain: source_arn, target_arn, makes_target_admin
-- partition: principal_bucket

with edges as (
    select source_arn, target_arn, makes_target_admin, is_conditional, method, via_arn, edge_key
    from int_principal_graph_edges
),

chosen as (
    select
        source_arn,
        target_arn,
        makes_target_admin,
        arg_min(
            {'is_conditional': is_conditional, 'method': method, 'via_arn': via_arn,
             'edge_key': edge_key},
            -- '' sorts before every ARN: an edge without `via` comes first, as in the search
            {'conditional': is_conditional, 'method': method, 'via': coalesce(via_arn, ''),
             'edge': edge_key}
        ) as edge
    from edges
    group by source_arn, target_arn, makes_target_admin
),

final as (
    select
        source_arn,
        target_arn,
        makes_target_admin,
        edge.is_conditional as is_conditional,
        edge.method as method,
        edge.via_arn as via_arn,
        edge.edge_key as edge_key
    from chosen
)

select * from final
