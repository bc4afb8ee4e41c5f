-- effective_permissions
-- What each IAM user and role can do, at action level: the actions its identity policies
-- (own + groups) allow, within its permission boundary and every SCP level of its account,
-- minus those an explicit Deny removes on every resource. `granted_by` names each granting
-- statement (policy, statement index, Sid, direct or via a group).
-- grain: principal_arn, action

with evaluated as (
    select * from int_principal_actions_evaluated
    where principal_type in ('user', 'role') and is_effective
),

catalog as (
    select * from ref_iam_actions
),

final as (
    select
        e.principal_arn,
        e.principal_type,
        e.account_id,
        e.action,
        c.action_name,
        c.service,
        c.access_level,
        not e.has_unconditional_allow as is_conditional,
        case when e.resource_scoped then 'scoped' else 'all' end as resource_scope,
        e.has_boundary,
        e.scp_applies,
        e.has_partial_deny,
        to_json(e.granted_by)::varchar as granted_by,
        c.catalog_version
    from evaluated as e
    inner join catalog as c on c.action = e.action
)

select * from final
