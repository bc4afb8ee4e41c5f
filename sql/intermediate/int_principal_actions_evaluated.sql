-- int_principal_actions_evaluated
-- For every identity and every catalog action its identity policies allow: whether the
-- permission boundary and every SCP level allow it too, which resource patterns are granted,
-- and what explicit Denies (each with its own Resource and Condition) take back. The
-- evaluation runs once per policy set (int_policy_set_actions_evaluated); every principal of the
-- set gets its rows here. A Deny removes the action only when it covers every granted resource
-- pattern without a condition; otherwise it is kept as `has_partial_deny` (and a conditional
-- Deny covering the grant makes it `is_conditional`).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
-- A view: the rows are the per-set rows repeated for every principal of the set, so they are
-- not stored twice; effective_permissions materializes what is effective.
-- grain: principal_arn, action
-- materialized: view

with principal_sets as (
    select * from int_principal_policy_sets
),

set_actions as (
    select * from int_policy_set_actions_evaluated
),

final as (
    select
        p.principal_arn,
        p.principal_type,
        p.account_id,
        a.action,
        a.action_name,
        a.service,
        a.access_level,
        a.catalog_version,
        a.is_effective,
        a.is_conditional,
        a.has_unconditional_allow,
        a.allows_all_unconditionally,
        a.resource_scoped,
        from_json(
            a.granted_by_json,
            '[{"policy": "VARCHAR", "policy_arn": "VARCHAR", "kind": "VARCHAR",
               "statement": "INTEGER", "sid": "VARCHAR", "via": "VARCHAR",
               "conditional": "BOOLEAN"}]'
        ) as granted_by,
        a.granted_by_json,
        a.granted_resources,
        a.denied_resources,
        a.condition_keys,
        a.has_boundary,
        a.boundary_allows,
        a.boundary_allows_all_unconditionally,
        a.scp_applies,
        a.scp_allows,
        a.denied_by_identity,
        a.denied_by_boundary,
        a.denied_by_scp,
        a.has_partial_deny,
        p.policy_set_key
    from principal_sets as p
    inner join set_actions as a on a.policy_set_key = p.policy_set_key
)

select * from final
