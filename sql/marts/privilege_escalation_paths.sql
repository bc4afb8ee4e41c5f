-- privilege_escalation_paths
-- Who can become an administrator, how, and in how many steps: for every principal that is not
-- an administrator (int_admin_identities), its shortest paths through the principal graph
-- (int_principal_graph_edges) to an administrator, within `max_hops` steps (run_params, 5 by
-- default). A path ends at an administrator, or with a self edge (the last principal makes
-- itself one: it rewrites or attaches its own policies, or its group's); `target_arn` is the
-- principal whose administrator power the source ends up holding. One row per (source,
-- target) at the source's shortest distance to any administrator: targets farther away than
-- that are not listed (reaching the nearest is enough). Where several shortest paths lead to a
-- target, each step prefers an unconditional edge, then the method, then the next principal's
-- ARN (a stable choice). `path` is a JSON array of steps, in order: `from`, `to`, `method`,
-- `via` (the group, policy, compute or role acted on), `actions`, `granted_by` (each action
-- with the resource it was checked on and the statements granting it), `trust_statements`
-- (assume-role), `conditional`, `condition_keys` (the request keys a conditional step still
-- needs), `caller_can_satisfy` (a conditional step whose keys are all ones the caller sets in its
-- own request: `aws:RequestedRegion`, `aws:RequestTag/*`, `aws:TagKeys`, `aws:SecureTransport`,
-- `aws:UserAgent`, `aws:Referer`; null for an unconditional step), `compute_presumed`,
-- `makes_target_admin`. `is_conditional`: some step is; `condition_keys`: every step's keys;
-- `needs_environment`: some conditional step is not one the caller can satisfy (a key of the
-- network, the session or the time, such as `aws:SourceIp`, `aws:MultiFactorAuthPresent`,
-- `aws:TokenIssueTime`, or keys not known): only such a path may count as less likely.
-- The search: distances to the administrators first (breadth-first, backwards, over
-- (principal, hops) pairs), then only edges that shorten the distance by one are followed. It
-- reads one edge per pair of principals (int_principal_graph_pair_edges), not every method's.
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
    -- target) pairs.
    select distinct source_id, target_id
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

next_steps as materialized (
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

edge_names as (
    -- The method and `via` of the chosen edges only (a semi join: the hash table holds their
    -- numbers, not every class edge's names).
    select edge_key, method, via_arn from int_principal_graph_class_edges
    where edge_key in (select chosen.edge_key from next_steps)
),

chosen_edges as materialized (
    select distinct
        s.node_arn as source_arn,
        k.method,
        t.node_arn as target_arn,
        k.via_arn,
        n.chosen.edge_key as edge_key
    from next_steps as n
    inner join node_ids as s on s.node_id = n.node_id
    inner join node_ids as t on t.node_id = n.chosen.next_id
    inner join edge_names as k on k.edge_key = n.chosen.edge_key
),

principal_sets as (
    select principal_arn, policy_set_key from int_principal_policy_sets
),

chosen_graph_edges as materialized (
    -- The chosen edges with their lists (read from the class edges by number) and the source's
    -- policy set.
    select
        c.source_arn,
        c.target_arn,
        e.* exclude (class_key, only_source, target_arn, edge_key),
        c.source_arn = c.target_arn as is_self,
        c.edge_key,
        p.policy_set_key
    from chosen_edges as c
    inner join (
        -- only the chosen rows of the class edges are read with their lists (a semi join: the
        -- hash table holds the chosen numbers, not the class edges)
        select * from int_principal_graph_class_edges
        where edge_key in (select edge_key from chosen_edges)
    ) as e on e.edge_key = c.edge_key
    inner join principal_sets as p on p.principal_arn = c.source_arn
),

step_actions as (
    -- Each chosen edge's actions, the resource-checked ones first (null: an edge without).
    select
        e.source_arn,
        e.method,
        e.target_arn,
        e.via_arn,
        e.policy_set_key,
        u.action,
        (not list_contains(list_transform(e.checked, lambda c: c.action), u.action))::int
            || coalesce(u.action, '') as sort_key,
        list_filter(e.checked, lambda c: c.action = u.action)[1].resource as resource
    from chosen_graph_edges as e,
        unnest(case when len(e.actions) = 0 then [null::varchar] else e.actions end) as u(action)
),

step_grants as materialized (
    -- The statements granting each (policy set, action) a chosen step needs, parsed once.
    select
        s.policy_set_key,
        s.action,
        from_json(
            v.granted_by_json,
            '[{"policy": "VARCHAR", "policy_arn": "VARCHAR", "kind": "VARCHAR",
               "statement": "INTEGER", "sid": "VARCHAR", "via": "VARCHAR",
               "conditional": "BOOLEAN"}]'
        ) as granted_by
    from (
        select distinct policy_set_key, action from step_actions where action is not null
    ) as s
    -- the evaluation of the methods' actions (int_policy_set_method_actions_evaluated: the view
    -- of every catalog action would hand the join every (set, action) and its statements first)
    left join int_policy_set_method_actions_evaluated as v
        on v.policy_set_key = s.policy_set_key
        and v.action = s.action
),

step_lists as (
    select
        a.source_arn,
        a.method,
        a.target_arn,
        a.via_arn,
        coalesce(list(a.action order by a.sort_key) filter (where a.action is not null), [])
            as actions,
        coalesce(list(
            {'action': a.action, 'resource': a.resource, 'granted_by': g.granted_by}
            order by a.sort_key
        ) filter (where a.action is not null), []) as granted_by
    from step_actions as a
    left join step_grants as g on g.policy_set_key = a.policy_set_key and g.action = a.action
    group by a.source_arn, a.method, a.target_arn, a.via_arn
),

edge_steps as materialized (
    -- The chosen edges as path steps, with the statements granting each action (read per
    -- policy set), the resource-checked actions first.
    select
        si.node_id as source_id,
        e.edge_key,
        {
            'from': e.source_arn,
            'to': e.target_arn,
            'method': e.method,
            'via': e.via_arn,
            'actions': l.actions,
            'granted_by': l.granted_by,
            'trust_statements': e.trust_statements,
            'conditional': e.is_conditional,
            'condition_keys': e.condition_keys,
            'caller_can_satisfy': case
                when not e.is_conditional then null
                when len(e.condition_keys) = 0 then false
                else list_bool_and(list_transform(
                    e.condition_keys,
                    lambda k: list_contains([
                        'aws:requestedregion', 'aws:tagkeys', 'aws:securetransport',
                        'aws:useragent', 'aws:referer'
                    ], k) or starts_with(k, 'aws:requesttag/')
                ))
            end,
            'compute_presumed': e.compute_presumed,
            'makes_target_admin': e.makes_target_admin
        } as step
    from chosen_graph_edges as e
    inner join node_ids as si on si.node_arn = e.source_arn
    inner join step_lists as l
        on l.source_arn = e.source_arn
        and l.method = e.method
        and l.target_arn = e.target_arn
        and l.via_arn is not distinct from e.via_arn
),

walks(source_id, target_id, current_id, remaining, steps, is_conditional) as (
    select
        r.node_id as source_id,
        r.target_id,
        n.chosen.next_id as current_id,
        r.hops - 1 as remaining,
        [s.step] as steps,
        n.chosen.is_conditional as is_conditional
    from reach as r
    inner join next_steps as n on n.node_id = r.node_id and n.target_id = r.target_id
    inner join edge_steps as s
        on s.source_id = r.node_id
        and s.edge_key = n.chosen.edge_key
    where r.hops > 0
    union all
    select
        w.source_id,
        w.target_id,
        n.chosen.next_id as current_id,
        w.remaining - 1 as remaining,
        list_append(w.steps, s.step) as steps,
        w.is_conditional or n.chosen.is_conditional as is_conditional
    from walks as w
    inner join next_steps as n on n.node_id = w.current_id and n.target_id = w.target_id
    inner join edge_steps as s
        on s.source_id = w.current_id
        and s.edge_key = n.chosen.edge_key
    where w.remaining > 0
),

final as (
    select
        s.node_arn as source_arn,
        t.node_arn as target_arn,
        len(w.steps) as hops,
        to_json(w.steps)::varchar as path,
        w.is_conditional,
        list_sort(list_distinct(flatten(list_transform(w.steps, lambda x: x.condition_keys))))
            as condition_keys,
        list_bool_or(list_transform(
            w.steps, lambda x: x.conditional and not coalesce(x.caller_can_satisfy, false)
        )) as needs_environment
    from walks as w
    inner join node_ids as s on s.node_id = w.source_id
    inner join node_ids as t on t.node_id = w.target_id
    where w.remaining = 0
)

select * from final
