-- int_privesc_steps
-- The steps of the privilege-escalation paths, listed: one row per row of
-- int_privesc_next_steps (the first step of a shortest path from `source_arn` to the
-- administrator `target_arn`; a path's later steps are the rows of the principals it passes,
-- for the same target). `step_json`: the step as privilege_escalation_paths lists it in `path`
-- (`from`, `to`, `method`, `via`, `actions`, `granted_by`, `trust_statements`, `conditional`,
-- `condition_keys`, `caller_can_satisfy`, `compute_presumed`, `makes_target_admin`, as JSON);
-- `method`, `via_arn`, `actions`, `compute_presumed`, `is_conditional`, `condition_keys` (sorted,
-- distinct) and `needs_environment` are the step's.
-- Built per principal bucket (the steps that start from the bucket's principals, with their
-- class edges and policy sets): a dense organization has a million steps, whose lists never
-- have to be held at once.
-- grain: source_arn, target_arn
-- partition: principal_bucket

with path_steps as materialized (
    -- The steps that start from the bucket's principals (held: read twice, and a bucket's).
    select source_arn, target_arn, hops, next_arn, edge_key
    from int_privesc_next_steps
    where source_arn in (select principal_arn from int_principal_policy_sets)
),

step_sets as (
    select principal_arn, policy_set_key from int_principal_policy_sets
    where principal_arn in (select source_arn from path_steps)
),

step_edges as materialized (
    -- The steps with their class edges (only the steps' rows of the class edges are read with
    -- their lists: a semi join on the edge numbers) and the policy set they start from.
    select
        p.source_arn,
        p.target_arn,
        p.hops,
        p.next_arn,
        s.policy_set_key,
        e.method,
        e.via_arn,
        coalesce(e.actions, []) as actions,
        e.checked,
        e.trust_statements,
        e.is_conditional,
        e.condition_keys,
        e.compute_presumed,
        e.makes_target_admin
    from path_steps as p
    inner join (
        select * from int_principal_graph_class_edges
        where edge_key in (select edge_key from path_steps)
    ) as e on e.edge_key = p.edge_key
    inner join step_sets as s on s.principal_arn = p.source_arn
),

step_actions as materialized (
    -- Each step's actions, one row each, with the resource it was checked on.
    select
        e.source_arn,
        e.target_arn,
        e.policy_set_key,
        u.action,
        -- the resource-checked actions first
        (not list_contains(list_transform(e.checked, lambda c: c.action), u.action))::int
            || u.action as sort_key,
        list_filter(e.checked, lambda c: c.action = u.action)[1].resource as resource
    from step_edges as e, unnest(e.actions) as u(action)
),

action_grants as (
    -- The statements granting each (policy set, action) a step needs, parsed once
    -- (int_policy_set_method_actions_evaluated: the view of every catalog action would hand the
    -- join every (set, action) and its statements first).
    select
        s.policy_set_key,
        s.action,
        from_json(
            v.granted_by_json,
            '[{"policy": "VARCHAR", "policy_arn": "VARCHAR", "kind": "VARCHAR",
               "statement": "INTEGER", "sid": "VARCHAR", "via": "VARCHAR",
               "conditional": "BOOLEAN"}]'
        ) as granted_by
    from (select distinct policy_set_key, action from step_actions) as s
    left join int_policy_set_method_actions_evaluated as v
        on v.policy_set_key = s.policy_set_key
        and v.action = s.action
),

step_lists as (
    select
        a.source_arn,
        a.target_arn,
        list_sort(list({
            'sort_key': a.sort_key,
            'action': a.action,
            'resource': a.resource,
            'granted_by': g.granted_by
        })) as action_list
    from step_actions as a
    left join action_grants as g on g.policy_set_key = a.policy_set_key and g.action = a.action
    group by a.source_arn, a.target_arn
),

steps as (
    select
        e.source_arn,
        e.target_arn,
        e.hops,
        {
            'from': e.source_arn,
            'to': e.next_arn,
            'method': e.method,
            'via': e.via_arn,
            'actions': list_transform(coalesce(l.action_list, []), lambda x: x.action),
            'granted_by': list_transform(
                coalesce(l.action_list, []),
                lambda x: {'action': x.action, 'resource': x.resource, 'granted_by': x.granted_by}
            ),
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
    from step_edges as e
    left join step_lists as l on l.source_arn = e.source_arn and l.target_arn = e.target_arn
),

final as (
    select
        source_arn,
        target_arn,
        hops,
        step.to as next_arn,
        step.method as method,
        step.via as via_arn,
        step.actions as actions,
        step.compute_presumed as compute_presumed,
        to_json(step)::varchar as step_json,
        step.conditional as is_conditional,
        list_sort(list_distinct(step.condition_keys)) as condition_keys,
        step.conditional and not coalesce(step.caller_can_satisfy, false) as needs_environment
    from steps
)

select * from final
