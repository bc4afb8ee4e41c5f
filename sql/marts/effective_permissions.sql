-- effective_permissions
-- What each IAM user and role can do, at action level: the actions its identity policies
-- (own + groups) allow, within its permission boundary and every SCP level of its account,
-- minus what explicit Denies take back, each evaluated with its own Resource and Condition.
-- `granted_resources` lists the resource patterns granted (`!p` = every resource but p, from a
-- NotResource grant), `denied_resources` the patterns Denies on this action name (cut or not),
-- `condition_keys` the lower-cased condition keys the result depends on (granting statements,
-- boundary, conditional Denies). `granted_by` names each granting statement (policy, statement
-- index, Sid, direct or via a group).
-- `account_incomplete`: some of the account's input (its authorization details, a policy of its
-- principals, an SCP/RCP that applies to it) could not be read in this run
-- (int_account_completeness), so an action here may be gained or lost only because of it: read
-- neither presence nor absence as fact for that account.
-- grain: principal_arn, action
-- partition: principal_bucket

with evaluated as (
    select * from int_principal_actions_evaluated
    where principal_type in ('user', 'role') and is_effective
),

completeness as (
    select * from int_account_completeness
),

final as (
    select
        e.principal_arn,
        e.principal_type,
        e.account_id,
        e.action,
        e.action_name,
        e.service,
        e.access_level,
        e.is_conditional,
        case when list_contains(e.granted_resources, '*') then 'all' else 'scoped' end
            as resource_scope,
        e.has_boundary,
        e.scp_applies,
        e.has_partial_deny,
        e.granted_by_json as granted_by,
        e.catalog_version,
        e.granted_resources,
        e.denied_resources,
        e.condition_keys,
        coalesce(a.is_incomplete, false) as account_incomplete
    -- the catalog entry comes with the action (int_policy_set_actions_evaluated)
    from evaluated as e
    left join completeness as a on a.account_id = e.account_id
)

select * from final
