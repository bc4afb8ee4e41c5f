-- int_privesc_paths
-- One-step privilege-escalation methods: for every user, role and group, each published method
-- (ref_privesc_methods: Rhino Security Labs' list as in PMapper, cloudsplaining and
-- iam-vulnerable) that makes it an administrator in a single step, with its targets. Read from
-- the principal graph (int_principal_graph_edges), so the same checks hold: actions effective
-- (identity ∩ boundary ∩ SCPs, minus Denies), granted on the resources the method acts on and
-- not denied there, compute that exists where the snapshot lists compute, credential state of
-- target users. A method counts when it is a self edge (rewriting or attaching its own
-- policies, or its group's: the targets are the user, group, role or policy written to) or an
-- edge to an administrator (int_admin_identities: the targets are those principals). Plainly
-- assuming an admin role is the rule can-assume-admin-role, not a method here. `is_conditional`:
-- every edge of the method is conditional. Longer paths are privilege_escalation_paths.
-- Built per principal bucket (the bucket's sources, whose edges to the administrators a dense
-- organization has tens of millions of).
-- grain: principal_arn, method_id
-- partition: principal_bucket

with edges as (
    select * from int_principal_graph_edges
    where method <> 'assume-role'
),

admins as (
    select principal_arn from int_admin_identities
),

methods as (
    select method_id, title, target_kind from ref_privesc_methods
),

one_step as (
    select
        *,
        case when is_self then via_arn else target_arn end as reached_arn
    from edges
    where is_self
        or target_arn in (select principal_arn from admins)
),

step_actions as materialized (
    -- Each method's actions, one row each, with the source's policy set.
    select m.source_arn, m.method, p.policy_set_key, unnest(m.actions) as action
    from (select distinct source_arn, method, actions from one_step) as m
    inner join int_principal_policy_sets as p on p.principal_arn = m.source_arn
),

method_actions as (
    -- Each method's actions with the statements granting them (read per policy set).
    select
        a.source_arn,
        a.method,
        list(
            {
                'action': a.action,
                'granted_by': from_json(
                    v.granted_by_json,
                    '[{"policy": "VARCHAR", "policy_arn": "VARCHAR", "kind": "VARCHAR",
                       "statement": "INTEGER", "sid": "VARCHAR", "via": "VARCHAR",
                       "conditional": "BOOLEAN"}]'
                )
            }
            order by a.action
        ) as actions
    from step_actions as a
    left join int_policy_set_method_actions_evaluated as v
        on v.policy_set_key = a.policy_set_key
        and v.action = a.action
    group by a.source_arn, a.method
),

final as (
    select
        o.source_arn as principal_arn,
        any_value(o.source_type) as principal_type,
        any_value(o.account_id) as account_id,
        o.method as method_id,
        any_value(m.title) as method_title,
        any_value(m.target_kind) as target_kind,
        list_sort(list(distinct o.reached_arn)) as target_arns,
        bool_and(o.target_state_known) as target_state_known,
        bool_and(o.is_conditional) as is_conditional,
        any_value(a.actions) as actions
    from one_step as o
    inner join methods as m on m.method_id = o.method
    inner join method_actions as a on a.source_arn = o.source_arn and a.method = o.method
    group by o.source_arn, o.method
)

select * from final
