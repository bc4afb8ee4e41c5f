-- int_privesc_distances
-- How far each principal is from administrator power: `hops`, the fewest steps of a
-- privilege-escalation path from it (`node_id`, int_privesc_nodes) to an administrator, for the
-- principals within `max_hops` (run_params) of one (an administrator is 0). `terminal_id`: the
-- principal a one-step escalation without an administrator at its end acts as (itself for a
-- self edge; else, for writing an administrator policy into a principal it then acts as, the
-- first such principal: an unconditional edge first, then by ARN), or null.
-- Breadth-first and backwards over (principal, hops) pairs of the edges between principals
-- (int_privesc_graph): its state is one row per principal and hop, never one per path.
-- Its joins build on the side the SQL names (the frontier of the search, not the edges).
-- grain: node_id
-- disabled_optimizers: build_side_probe_side

with recursive params as (
    select max_hops from run_params
),

admin_ids as (
    select node_id from int_privesc_nodes where is_admin
),

terminal_edges as materialized (
    -- One step to admin power without an administrator at the end: a self edge, or (for a
    -- principal that has none) writing an administrator policy into a principal it then acts
    -- as; any such principal will do, so only the first is kept (an unconditional one if there
    -- is one, then by ARN: the numbers follow the ARNs' order). Held (a row per principal at
    -- most): it is read twice.
    select distinct source_id as node_id, target_id
    from int_privesc_graph
    where is_self
    union
    select
        source_id as node_id,
        arg_min(target_id, is_conditional::int::bigint * 1000000000 + target_id) as target_id
    from int_privesc_graph
    where makes_target_admin
        and not is_self
        and source_id not in (select source_id from int_privesc_graph where is_self)
    group by source_id
),

edges as (
    -- The edges between principals (not self edges nor write-then-act ones).
    select source_id, target_id
    from int_privesc_graph
    where not is_self and not makes_target_admin
),

distance_steps(node_id, hops) as (
    -- (principal, hops): some path of that many steps reaches an administrator.
    select node_id, 0 as hops from admin_ids
    union
    select node_id, 1 as hops from terminal_edges
    union
    select e.source_id as node_id, d.hops + 1 as hops
    from edges as e
    inner join distance_steps as d on d.node_id = e.target_id
    where d.hops < (select max_hops from params)
),

final as (
    select d.node_id, min(d.hops) as hops, any_value(t.target_id) as terminal_id
    from distance_steps as d
    left join terminal_edges as t on t.node_id = d.node_id
    group by d.node_id
)

select * from final
