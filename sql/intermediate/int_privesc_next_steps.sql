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
-- The search: distances to the administrators first (breadth-first, backwards, over
-- (principal, hops) pairs), then only edges that shorten the distance by one are followed. It
-- reads one edge per pair of principals (int_principal_graph_pair_edges), not every method's,
-- and only numbers: privilege_escalation_paths lists the steps, with their statements.
-- grain: source_arn, target_arn

with recursive params as (
    select max_hops from run_params
),

admins as (
    select principal_arn from int_admin_identities
),

node_ids as materialized (
    -- Principals as integers: the distance search joins numbers, not ARNs.
    select principal_arn as node_arn, (row_number() over (order by principal_arn))::integer as node_id
    from int_identities
),

admin_ids as (
    select n.node_id from node_ids as n
    inner join admins as a on a.principal_arn = n.node_arn
),

method_ranks as (
    -- The methods and the `via` ARNs numbered in their order: a step's choice compares numbers
    -- (the same order as the names), so it is made as the candidates stream by.
    select method, (row_number() over (order by method))::integer as method_rank
    from (select distinct method from int_principal_graph_pair_edges)
),

via_ranks as (
    select via_arn, (row_number() over (order by via_arn))::integer as via_rank
    from (select distinct via_arn from int_principal_graph_pair_edges where via_arn is not null)
),

graph as materialized (
    -- Every edge out of a non-administrator as numbers: the principals', the class edge's, and
    -- the ranks of its method and `via` (no `via` ranks first, as the empty name did). Of the
    -- edges between two principals only the one a step would choose is read
    -- (int_principal_graph_pair_edges, chosen in the same order as below): the choice among
    -- all is the choice among each pair's first.
    select
        s.node_id as source_id,
        t.node_id as target_id,
        e.edge_key,
        e.source_arn = e.target_arn as is_self,
        e.makes_target_admin,
        e.is_conditional,
        m.method_rank,
        coalesce(v.via_rank, 0) as via_rank
    from int_principal_graph_pair_edges as e
    inner join node_ids as s on s.node_arn = e.source_arn
    inner join node_ids as t on t.node_arn = e.target_arn
    inner join method_ranks as m on m.method = e.method
    left join via_ranks as v on v.via_arn = e.via_arn
    where e.source_arn not in (select principal_arn from admins)
),

edges as materialized (
    -- The edges between principals (not self edges nor write-then-act ones), as (source,
    -- target) pairs (one each: the graph has one edge per pair and kind).
    select source_id, target_id
    from graph
    where not is_self and not makes_target_admin
),

terminal_edges as materialized (
    -- One step to admin power without an admin at the end: a self edge, or (for a principal
    -- that has none) writing an administrator policy into a principal it then acts as
    -- (`makes_target_admin`); any such principal will do, so only the first is kept (an
    -- unconditional one if there is one, then by ARN: the numbers follow the ARNs' order).
    select distinct source_id as node_id, target_id
    from graph
    where is_self
    union
    select
        source_id as node_id,
        arg_min(target_id, is_conditional::int::bigint * 1000000000 + target_id) as target_id
    from graph
    where makes_target_admin
        and not is_self
        and source_id not in (select source_id from graph where is_self)
    group by source_id
),

distance_steps(node_id, hops) as (
    -- (principal, hops): some path of that many steps reaches an administrator.
    select node_id, 0 as hops from admin_ids
    union
    select distinct node_id, 1 as hops from terminal_edges
    union
    select e.source_id as node_id, d.hops + 1 as hops
    from distance_steps as d
    inner join edges as e on e.target_id = d.node_id
    where d.hops < (select max_hops from params)
),

distances as materialized (
    select node_id, min(hops) as hops
    from distance_steps
    group by node_id
),

live_edges as materialized (
    -- The edges between principals that reach an administrator: the only ones a path uses.
    select g.*
    from graph as g
    inner join distances as s on s.node_id = g.source_id
    left join distances as t on t.node_id = g.target_id
    where s.hops > 0
        and (g.is_self or g.makes_target_admin or t.hops = s.hops - 1)
),

reach(node_id, target_id, hops) as (
    -- The administrators each principal reaches at its own shortest distance.
    select node_id, node_id as target_id, 0 as hops from admin_ids
    union
    select node_id, target_id, 1 as hops
    from terminal_edges
    union
    select e.source_id as node_id, r.target_id, r.hops + 1 as hops
    from reach as r
    inner join live_edges as e
        on e.target_id = r.node_id
        and not e.is_self
        and not e.makes_target_admin
    inner join distances as d on d.node_id = e.source_id and d.hops = r.hops + 1
),

next_steps as (
    -- For each (principal, target) the edge that starts a shortest path to the target, chosen
    -- while the candidates stream by (a dense graph has sources x intermediates x targets of
    -- them, too many to hold): an unconditional edge first, then by method, next principal (the
    -- numbers follow the ARNs' order), via, and the edge's number.
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
            r.node_id, r.target_id, g.target_id as next_id, g.edge_key, g.is_conditional,
            g.method_rank, g.via_rank
        from reach as r
        inner join live_edges as g on g.source_id = r.node_id
        inner join reach as n
            on n.node_id = g.target_id
            and n.target_id = r.target_id
            and n.hops = r.hops - 1
        where r.hops > 0
            and not g.is_self
            and not g.makes_target_admin

        union all

        select
            r.node_id, r.target_id, g.target_id as next_id, g.edge_key, g.is_conditional,
            g.method_rank, g.via_rank
        from reach as r
        inner join terminal_edges as t on t.node_id = r.node_id and t.target_id = r.target_id
        inner join (
            select * from live_edges where is_self or makes_target_admin
        ) as g
            on g.source_id = r.node_id
            and g.target_id = r.target_id
        where r.hops = 1
    )
    group by node_id, target_id
),

final as (
    select
        s.node_arn as source_arn,
        t.node_arn as target_arn,
        r.hops,
        x.node_arn as next_arn,
        n.chosen.edge_key as edge_key,
        n.chosen.is_conditional as is_conditional
    from next_steps as n
    inner join reach as r on r.node_id = n.node_id and r.target_id = n.target_id
    inner join node_ids as s on s.node_id = n.node_id
    inner join node_ids as t on t.node_id = n.target_id
    inner join node_ids as x on x.node_id = n.chosen.next_id
)

select * from final
