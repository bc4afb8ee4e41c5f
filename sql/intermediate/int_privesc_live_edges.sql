-- int_privesc_live_edges
-- The edges of the privilege-escalation search that a shortest path takes (int_privesc_graph,
-- in numbers): an edge between principals that shortens the distance to an administrator by
-- one (int_privesc_distances: `target_id`'s `hops` is `source_id`'s less one), or, for a
-- principal that escalates in one step without an administrator at the end, its edge to its
-- `terminal_id` (a self edge, or one that writes an administrator policy into its target first:
-- `is_terminal`). `edge_key`, `is_conditional`, `method_rank`, `via_rank`: the graph's.
-- Built per principal bucket (the bucket's sources); the search's parts read every bucket's.
-- grain: source_id, target_id, is_terminal
-- partition: principal_bucket

with graph as not materialized (
    -- The bucket's edges, read where used (twice).
    select * from int_privesc_graph
),

distances as (
    select node_id, hops, terminal_id from int_privesc_distances
),

final as (
    select
        g.source_id,
        g.target_id,
        false as is_terminal,
        g.edge_key,
        g.is_conditional,
        g.method_rank,
        g.via_rank
    from graph as g
    inner join distances as s on s.node_id = g.source_id
    inner join distances as t on t.node_id = g.target_id and t.hops = s.hops - 1
    where not g.is_self and not g.makes_target_admin

    union all

    select
        g.source_id,
        g.target_id,
        true as is_terminal,
        g.edge_key,
        g.is_conditional,
        g.method_rank,
        g.via_rank
    from graph as g
    inner join distances as s on s.node_id = g.source_id and s.terminal_id = g.target_id
    where g.is_self or g.makes_target_admin
)

select * from final
