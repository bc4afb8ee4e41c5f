-- int_principal_policies
-- Which identity policies apply to each user, group and role: its own inline and attached
-- managed policies, and — for a user — those of every group it belongs to.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_id-based
-- grain: principal_arn, policy_key, via

with attachments as (
    select * from raw_iam_policy_attachments
),

inline as (
    select * from raw_iam_inline_policies
),

memberships as (
    select * from raw_iam_group_memberships
),

direct_policies as (
    select
        principal_arn,
        principal_type,
        account_id,
        account_id || '|' || policy_arn as policy_key,
        'managed' as attachment,
        'direct' as via
    from attachments

    union all

    select
        principal_arn,
        principal_type,
        account_id,
        principal_arn || '|inline|' || policy_name as policy_key,
        'inline' as attachment,
        'direct' as via
    from inline
),

group_policies as (
    select
        m.user_arn as principal_arn,
        'user' as principal_type,
        m.account_id,
        g.policy_key,
        g.attachment,
        'group:' || g.principal_arn as via
    from memberships as m
    inner join direct_policies as g
        on g.principal_arn = m.group_arn
        and g.principal_type = 'group'
),

final as (
    select distinct principal_arn, principal_type, account_id, policy_key, attachment, via
    from (
        select * from direct_policies
        union all
        select * from group_policies
    )
)

select * from final
