-- relationships
-- The identity graph of the snapshot, one edge per row (the "Relationships" tab): `member_of`
-- (user → group), `has_policy` (user/group/role → managed policy, or inline policy
-- `<principal_arn>#inline/<name>`), `has_boundary` (user/role → its permission boundary),
-- `can_assume` (trusted principal → role, from the role's trust policy Allow statements covering
-- sts:AssumeRole / AssumeRoleWithWebIdentity / AssumeRoleWithSAML; the source is an IAM or STS
-- ARN, an account root `arn:aws:iam::<id>:root`, a service such as `ec2.amazonaws.com`, an OIDC
-- or SAML provider, or `*`), `runs_as` (EC2 instance through its instance profile, Lambda
-- function through its execution role → role) and `resource_policy_grant` (principal, account,
-- service or `*` → resource whose resource-based policy allows it actions). `is_risky` with
-- `risk_reason` (comma-separated, in this order): `trust-wildcard-principal`,
-- `cross-account-trust-without-external-id`, `trust-outside-organization`,
-- `oidc-trust-without-subject` (same semantics as those rules), `assumes-admin-role` (can_assume
-- into an administrator role), `runs-as-admin-role`, `public-resource-policy` (an Allow to `*`
-- without a condition restricting the caller, nor a perimeter Deny of the same policy:
-- `is_public` of int_resource_policy_grants).
-- `can_escalate_to` (user/role/group → user/role/group): a step of a privilege-escalation path
-- (privilege_escalation_paths), one row per (source, target) with the steps' methods in
-- `details` ({methods: [{method, via, actions, conditional, compute_presumed}]}); always risky
-- (`privilege-escalation`). A self step (a principal making itself admin) is an edge to itself.
-- Those rows are int_can_escalate_to's.
-- Resource-policy Allows that a Deny of the same policy takes back unconditionally are left out.
-- `details` is a JSON object: the statements, actions and conditions behind the edge.
-- Neighbourhood of a resource: `where source_arn = $arn or target_arn = $arn`.
-- grain: source_arn, relationship, target_arn

with identities as (
    select * from int_identities
),

memberships as (
    select * from raw_iam_group_memberships
),

attachments as (
    select * from raw_iam_policy_attachments
),

inline as (
    select * from raw_iam_inline_policies
),

trust as (
    select * from int_role_trust_principals
    where grants_assume
),

admin_roles as (
    select principal_arn as role_arn from int_admin_identities
    where principal_type = 'role'
),

instances as (
    select * from raw_ec2_instances
),

profiles as (
    select * from raw_iam_instance_profiles
),

functions as (
    select * from raw_lambda_functions
),

resource_grants as (
    select * from int_resource_policy_grants
    where policy_kind <> 'trust'
        and effect = 'Allow'
        and not denied_unconditionally
),

member_of as (
    select
        m.user_arn as source_arn,
        'iam_user' as source_type,
        'member_of' as relationship,
        m.group_arn as target_arn,
        'iam_group' as target_type,
        m.account_id as source_account_id,
        m.account_id as target_account_id,
        null::varchar as risk_reason,
        '{}' as details
    from memberships as m
),

has_policy as (
    select
        a.principal_arn as source_arn,
        'iam_' || a.principal_type as source_type,
        'has_policy' as relationship,
        a.policy_arn as target_arn,
        'managed_policy' as target_type,
        a.account_id as source_account_id,
        nullif(regexp_extract(a.policy_arn, '^arn:aws[a-z-]*:iam::([0-9]{12}):', 1), '')
            as target_account_id,
        null::varchar as risk_reason,
        to_json({
            'attachment': 'managed',
            'aws_managed': regexp_matches(a.policy_arn, '^arn:aws[a-z-]*:iam::aws:policy/')
        })::varchar as details
    from attachments as a

    union all

    select
        i.principal_arn as source_arn,
        'iam_' || i.principal_type as source_type,
        'has_policy' as relationship,
        i.principal_arn || '#inline/' || i.policy_name as target_arn,
        'inline_policy' as target_type,
        i.account_id as source_account_id,
        i.account_id as target_account_id,
        null::varchar as risk_reason,
        to_json({'attachment': 'inline', 'policy_name': i.policy_name})::varchar as details
    from inline as i
),

has_boundary as (
    select
        principal_arn as source_arn,
        'iam_' || principal_type as source_type,
        'has_boundary' as relationship,
        permissions_boundary_arn as target_arn,
        'managed_policy' as target_type,
        account_id as source_account_id,
        nullif(
            regexp_extract(permissions_boundary_arn, '^arn:aws[a-z-]*:iam::([0-9]{12}):', 1), ''
        ) as target_account_id,
        null::varchar as risk_reason,
        '{}' as details
    from identities
    where permissions_boundary_arn is not null
),

can_assume as (
    select
        t.trusted_arn as source_arn,
        case t.principal_kind
            when 'account_root' then 'aws_account'
            when 'assumed_role' then 'sts_assumed_role'
            else t.principal_kind
        end as source_type,
        'can_assume' as relationship,
        t.role_arn as target_arn,
        'iam_role' as target_type,
        t.principal_account_id as source_account_id,
        t.role_account_id as target_account_id,
        nullif(concat_ws(
            ', ',
            case when bool_or(t.is_wildcard_trust) then 'trust-wildcard-principal' end,
            case
                when bool_or(t.is_cross_account_without_external_id)
                    then 'cross-account-trust-without-external-id'
            end,
            case when bool_or(t.is_outside_organization) then 'trust-outside-organization' end,
            case when bool_or(t.is_oidc_without_subject) then 'oidc-trust-without-subject' end,
            case when bool_or(a.role_arn is not null) then 'assumes-admin-role' end
        ), '') as risk_reason,
        to_json({
            'statements': list({
                'statement': t.statement_index,
                'sid': t.sid,
                'principal': t.principal,
                'assume_actions': t.assume_actions,
                'condition': t.condition_json::json
            } order by t.statement_index, t.principal),
            'has_external_id': bool_or(t.has_external_id),
            'organization_account': any_value(t.is_org_account),
            'oidc_provider': any_value(t.oidc_provider),
            'subject_condition_key': any_value(t.subject_condition_key)
        })::varchar as details
    from trust as t
    left join admin_roles as a on a.role_arn = t.role_arn
    group by t.trusted_arn, t.principal_kind, t.role_arn, t.principal_account_id, t.role_account_id
),

runs_as as (
    select
        i.arn as source_arn,
        'ec2_instance' as source_type,
        'runs_as' as relationship,
        p.role_arn as target_arn,
        'iam_role' as target_type,
        i.account_id as source_account_id,
        p.account_id as target_account_id,
        case
            when p.role_arn in (select role_arn from admin_roles) then 'runs-as-admin-role'
        end as risk_reason,
        to_json({
            'instance_id': i.instance_id,
            'region': i.region,
            'state': i.state,
            'instance_profile_arn': i.instance_profile_arn
        })::varchar as details
    from instances as i
    inner join profiles as p on p.arn = i.instance_profile_arn

    union all

    select
        f.function_arn as source_arn,
        'lambda_function' as source_type,
        'runs_as' as relationship,
        f.role_arn as target_arn,
        'iam_role' as target_type,
        f.account_id as source_account_id,
        nullif(regexp_extract(f.role_arn, '^arn:aws[a-z-]*:iam::([0-9]{12}):', 1), '')
            as target_account_id,
        case
            when f.role_arn in (select role_arn from admin_roles) then 'runs-as-admin-role'
        end as risk_reason,
        to_json({'function_name': f.function_name, 'region': f.region, 'runtime': f.runtime})
            ::varchar as details
    from functions as f
    where f.role_arn is not null
),

can_escalate_to as (
    -- built per principal bucket (int_can_escalate_to): a dense organization has a million steps
    select * from int_can_escalate_to
),

resource_grant_rows as (
    select
        *,
        case
            when principal_scope = 'account' and regexp_full_match(principal, '[0-9]{12}')
                then 'arn:aws:iam::' || principal || ':root'
            else principal
        end as source_arn
    from resource_grants
),

resource_policy_grant as (
    select
        source_arn,
        case
            when principal_scope = 'anyone' then 'anyone'
            when principal_scope = 'account' then 'aws_account'
            when principal_scope = 'service' then 'service'
            when regexp_matches(source_arn, '^arn:aws[a-z-]*:iam::[0-9]{12}:user/') then 'iam_user'
            when regexp_matches(source_arn, '^arn:aws[a-z-]*:iam::[0-9]{12}:role/') then 'iam_role'
            when regexp_matches(source_arn, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/')
                then 'sts_assumed_role'
            else 'aws_principal'
        end as source_type,
        'resource_policy_grant' as relationship,
        resource_arn as target_arn,
        resource_type as target_type,
        principal_account_id as source_account_id,
        resource_account_id as target_account_id,
        case when bool_or(is_public) then 'public-resource-policy' end as risk_reason,
        to_json({
            'statements': list(distinct statement_index order by statement_index),
            'action_count': count(distinct action),
            'actions': list(distinct action order by action),
            'conditional': bool_and(is_conditional),
            'condition_keys': list_sort(list_distinct(flatten(list(condition_keys))))
        })::varchar as details
    from resource_grant_rows
    group by source_arn, principal_scope, resource_arn, resource_type, principal_account_id,
        resource_account_id
),

edges as (
    select * from member_of
    union all
    select * from has_policy
    union all
    select * from has_boundary
    union all
    select * from can_assume
    union all
    select * from runs_as
    union all
    select * from resource_policy_grant
    union all
    select * from can_escalate_to
),

final as (
    select
        source_arn,
        source_type,
        relationship,
        target_arn,
        target_type,
        source_account_id,
        target_account_id,
        risk_reason is not null as is_risky,
        risk_reason,
        details
    from edges
)

select * from final
