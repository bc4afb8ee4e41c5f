-- int_principal_actions_evaluated
-- For every identity and every catalog action its identity policies allow: whether the
-- permission boundary and every SCP level allow it too, and whether an explicit Deny in any of
-- them removes it. A Deny removes the action only when it applies to every resource without a
-- condition; a scoped or conditional Deny is kept as `has_partial_deny` (the action stays
-- possible on other resources / under other conditions).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
-- grain: principal_arn, action

with identities as (
    select * from int_identities
),

principal_policies as (
    select * from int_principal_policies
),

statements as (
    select * from stg_policy_statements
),

documents as (
    select policy_key, policy_name, policy_arn, policy_kind from stg_policy_documents
),

expanded as (
    select * from int_statement_actions_expanded
),

scp_levels as (
    select * from int_account_scp_levels
),

statement_actions as (
    select
        e.policy_key,
        e.statement_index,
        e.action,
        s.effect,
        s.sid,
        s.has_condition,
        s.applies_to_all_resources
    from expanded as e
    inner join statements as s
        on s.policy_key = e.policy_key
        and s.statement_index = e.statement_index
),

identity_allows as (
    select
        pp.principal_arn,
        sa.action,
        bool_or(not sa.has_condition) as has_unconditional_allow,
        bool_or(not sa.has_condition and sa.applies_to_all_resources) as allows_all_unconditionally,
        bool_and(not sa.applies_to_all_resources) as resource_scoped,
        list(distinct {
            'policy': d.policy_name,
            'policy_arn': d.policy_arn,
            'kind': pp.attachment,
            'statement': sa.statement_index,
            'sid': sa.sid,
            'via': pp.via,
            'conditional': sa.has_condition
        }) as granted_by
    from principal_policies as pp
    inner join statement_actions as sa on sa.policy_key = pp.policy_key
    inner join documents as d on d.policy_key = pp.policy_key
    where sa.effect = 'Allow'
    group by pp.principal_arn, sa.action
),

identity_denies as (
    select
        pp.principal_arn,
        sa.action,
        bool_or(not sa.has_condition and sa.applies_to_all_resources) as full_deny,
        bool_or(sa.has_condition or not sa.applies_to_all_resources) as partial_deny
    from principal_policies as pp
    inner join statement_actions as sa on sa.policy_key = pp.policy_key
    where sa.effect = 'Deny'
    group by pp.principal_arn, sa.action
),

boundary_actions as (
    select
        i.principal_arn,
        sa.action,
        bool_or(sa.effect = 'Allow') as allows,
        bool_or(sa.effect = 'Allow' and not sa.has_condition and sa.applies_to_all_resources)
            as allows_all_unconditionally,
        bool_or(sa.effect = 'Deny' and not sa.has_condition and sa.applies_to_all_resources)
            as full_deny,
        bool_or(sa.effect = 'Deny' and (sa.has_condition or not sa.applies_to_all_resources))
            as partial_deny
    from identities as i
    inner join statement_actions as sa on sa.policy_key = i.boundary_policy_key
    group by i.principal_arn, sa.action
),

scp_level_count as (
    select account_id, count(distinct node_id) as levels
    from scp_levels
    group by account_id
),

scp_actions_by_level as (
    select
        l.account_id,
        l.node_id,
        sa.action,
        bool_or(sa.effect = 'Allow') as allows,
        bool_or(sa.effect = 'Deny' and not sa.has_condition and sa.applies_to_all_resources)
            as full_deny,
        bool_or(sa.effect = 'Deny' and (sa.has_condition or not sa.applies_to_all_resources))
            as partial_deny
    from scp_levels as l
    inner join statement_actions as sa on sa.policy_key = l.policy_key
    group by l.account_id, l.node_id, sa.action
),

scp_actions as (
    select
        a.account_id,
        a.action,
        count(distinct a.node_id) filter (where a.allows) = max(c.levels) as allows,
        bool_or(a.full_deny) as full_deny,
        bool_or(a.partial_deny) as partial_deny
    from scp_actions_by_level as a
    inner join scp_level_count as c on c.account_id = a.account_id
    group by a.account_id, a.action
),

final as (
    select
        i.principal_arn,
        i.principal_type,
        i.account_id,
        a.action,
        a.has_unconditional_allow,
        a.allows_all_unconditionally,
        a.resource_scoped,
        a.granted_by,
        i.boundary_policy_key is not null as has_boundary,
        coalesce(b.allows, false) as boundary_allows,
        coalesce(b.allows_all_unconditionally, false) as boundary_allows_all_unconditionally,
        i.scp_applies,
        coalesce(s.allows, false) as scp_allows,
        coalesce(d.full_deny, false) as denied_by_identity,
        coalesce(b.full_deny, false) as denied_by_boundary,
        i.scp_applies and coalesce(s.full_deny, false) as denied_by_scp,
        coalesce(d.partial_deny, false)
            or coalesce(b.partial_deny, false)
            or (i.scp_applies and coalesce(s.partial_deny, false)) as has_partial_deny,
        (i.boundary_policy_key is null or coalesce(b.allows, false))
            and (not i.scp_applies or coalesce(s.allows, false))
            and not coalesce(d.full_deny, false)
            and not coalesce(b.full_deny, false)
            and not (i.scp_applies and coalesce(s.full_deny, false)) as is_effective
    from identity_allows as a
    inner join identities as i on i.principal_arn = a.principal_arn
    left join identity_denies as d
        on d.principal_arn = a.principal_arn
        and d.action = a.action
    left join boundary_actions as b
        on b.principal_arn = a.principal_arn
        and b.action = a.action
    left join scp_actions as s
        on s.account_id = i.account_id
        and s.action = a.action
)

select * from final
