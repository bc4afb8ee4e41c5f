-- int_privesc_next_steps
-- The search of privilege_escalation_paths, in numbers: for every principal that is not an
-- administrator (int_admin_identities) and every administrator it reaches at its shortest
-- distance to any (within `max_hops` steps, run_params), the first step of a shortest path to
-- it. `hops`: the path's length; `next_arn`: the principal the step acts as (the target itself
-- for the last step, whether it reaches an administrator or makes one: a self edge, or an edge
-- that writes an administrator policy into its target first); `edge_key`: the step's class edge
-- (int_principal_graph_class_edges); `is_conditional`: the step's edge is. The path of a
-- (source, target) follows `next_arn` through the rows of the same target. Where several
-- shortest paths lead to a target, the step prefers an unconditional edge, then the method,
-- then the next principal's ARN, `via` and the edge's number (a stable choice).
-- The search reads the distances (int_privesc_distances) and, in numbers, only the edges that
-- a shortest path takes (int_privesc_live_edges), backwards from each target. Built per part of
-- the targets (`-- partition: target_part`: the targets whose number modulo `ciem_parts` is
-- `ciem_part`, the runner's variables): what it holds is one part's (principal, target) pairs,
-- never the organization's, and a target's paths are all in its part. Its joins build on the
-- side the SQL names, in the order it names them (the part's pairs, never the edges, are held).
-- privilege_escalation_paths lists the steps, with their statements.
-- grain: source_arn, target_arn
-- partition: target_part
-- disabled_optimizers: build_side_probe_side, join_order

with recursive distances as (
    select node_id, hops, terminal_id from int_privesc_distances
),

part_admins as (
    -- The administrators of this part.
    select node_id from int_privesc_nodes
    where is_admin and node_id % getvariable('ciem_parts') = getvariable('ciem_part')
),

part_terminals as (
    -- The one-step escalations without an administrator at the end whose target is of this
    -- part (int_privesc_distances.terminal_id).
    select node_id, terminal_id as target_id from distances
    where terminal_id is not null
        and terminal_id % getvariable('ciem_parts') = getvariable('ciem_part')
),

live_edges as not materialized (
    -- The edges that shorten the distance to an administrator by one, read where used (twice)
    -- and never held.
    select source_id, target_id, edge_key, is_conditional, method_rank, via_rank
    from int_privesc_live_edges
    where not is_terminal
),

reach(node_id, target_id) as (
    -- The targets of this part each principal reaches at its own shortest distance (a
    -- principal's paths to a target all have its distance's length).
    select node_id, node_id as target_id from part_admins
    union
    select node_id, target_id from part_terminals
    union
    select e.source_id as node_id, r.target_id
    from live_edges as e
    inner join reach as r on r.node_id = e.target_id
),

next_steps as (
    -- For each (principal, target) the edge that starts a shortest path to the target, chosen
    -- while the candidates stream by (a dense graph has sources x intermediates x targets of
    -- them, too many to hold): an unconditional edge first, then by method, next principal (the
    -- numbers follow the ARNs' order), via, and the edge's number. A candidate is a live edge
    -- to a principal that reaches the target (so its source does, at one hop more), or a
    -- one-step escalation's own edge.
    select
        node_id,
        target_id,
        arg_min(
            {'next_id': next_id, 'edge_key': edge_key, 'is_conditional': is_conditional},
            {'conditional': is_conditional, 'method': method_rank, 'next': next_id,
             'via': via_rank, 'edge': edge_key}
        ) as chosen
    from (
        select
            e.source_id as node_id, n.target_id, e.target_id as next_id, e.edge_key,
            e.is_conditional, e.method_rank, e.via_rank
        from live_edges as e
        inner join reach as n on n.node_id = e.target_id

        union all

        select
            source_id as node_id, target_id, target_id as next_id, edge_key, is_conditional,
            method_rank, via_rank
        from int_privesc_live_edges
        where is_terminal
            and target_id % getvariable('ciem_parts') = getvariable('ciem_part')
    )
    group by node_id, target_id
),

final as (
    select
        s.principal_arn as source_arn,
        t.principal_arn as target_arn,
        d.hops,
        x.principal_arn as next_arn,
        n.chosen.edge_key as edge_key,
        n.chosen.is_conditional as is_conditional
    from next_steps as n
    inner join distances as d on d.node_id = n.node_id
    inner join int_privesc_nodes as s on s.node_id = n.node_id
    inner join int_privesc_nodes as t on t.node_id = n.target_id
    inner join int_privesc_nodes as x on x.node_id = n.chosen.next_id
)

select * from final
