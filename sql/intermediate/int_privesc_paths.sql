-- int_privesc_paths
-- One-step privilege-escalation paths: for every user, role and group, each published method
-- (ref_privesc_methods: Rhino Security Labs' list as in PMapper, cloudsplaining and
-- iam-vulnerable) whose actions it can all perform, with the targets that make it a path to
-- administrator. Actions count when effective (identity ∩ boundary ∩ SCPs, minus Denies) and
-- allowed by at least one statement without a Condition (a conditional Allow is not a path:
-- its condition values are not evaluated). A target is reached when every `target_actions`
-- action grants a resource pattern matching its ARN (IAM wildcards, case-sensitive). Targets by
-- `target_kind`:
--   own_policy   a customer-managed policy in force for the principal (a user: with its groups');
--   self         the principal itself (a user: also its groups; a group: also its members);
--   privileged   another user, group or role of its account that is an administrator
--                (int_admin_identities) or can make itself one (a self / own_policy path);
--   service_role a privileged role of its account that `service_principal` may assume (its
--                trust policy allows the service; for EC2 it also has an instance profile). The
--                methods acting on an existing resource (UpdateFunctionCode, UpdateDevEndpoint,
--                SendCommand…) presume a resource runs as that role (the snapshot lists no stacks,
--                dev endpoints or notebooks).
-- Some methods need the target user in a given state, read from the credential report
-- (raw_credential_report, int_access_keys) when it lists the user: iam:CreateLoginProfile only
-- works on a user without a console password, iam:UpdateLoginProfile only on one with a
-- password, iam:CreateAccessKey only on a user holding fewer than 2 access keys (AWS's limit
-- counts active and inactive keys). A user the report does not list (no report for its account,
-- or created after it) is kept as a target; `target_state_known` says whether every target of
-- such a method was checked (null for the other methods).
-- Plainly assuming an admin role is the rule can-assume-admin-role, not a method here.
-- IAM Identity Center (SSO-reserved) and service-linked roles are never the target of a method
-- that changes a role's policies or trust: AWS refuses it.
-- Not evaluated: Condition values, Denies on specific resources that do not remove the action,
-- Deny statements of trust policies, permission boundaries of the target.
-- grain: principal_arn, method_id

with methods as (
    select
        method_id,
        title,
        target_kind,
        target_type,
        service_principal,
        string_split(principal_types, ' ') as principal_types,
        list_filter(string_split(lower(coalesce(required_actions, '')), ' '), lambda a: a <> '')
            as required_actions,
        list_filter(string_split(lower(coalesce(target_actions, '')), ' '), lambda a: a <> '')
            as target_actions
    from ref_privesc_methods
),

identities as (
    select * from int_identities
),

admins as (
    select principal_arn from int_admin_identities
),

memberships as (
    select user_arn, group_arn from raw_iam_group_memberships
),

principal_policies as (
    select * from int_principal_policies
),

instance_profiles as (
    select distinct role_arn from raw_iam_instance_profiles
),

credential_states as (
    -- Users of the credential report: console password set, access keys held (either state).
    select
        c.account_id,
        c.arn as user_arn,
        any_value(c.password_enabled) as has_password,
        count(distinct k.key_slot) as key_count
    from raw_credential_report as c
    left join int_access_keys as k on k.account_id = c.account_id and k.arn = c.arn
    where c.user <> '<root_account>'
    group by c.account_id, c.arn
),

service_trusts as (
    select * from int_resource_policy_grants
    where policy_kind = 'trust'
        and principal_scope = 'service'
        and effect = 'Allow'
        and action = 'sts:assumerole'
        and not coalesce(denied_unconditionally, false)
),

method_actions as (
    select distinct m.method_id, a.action
    from methods as m,
        unnest(list_concat(m.required_actions, m.target_actions)) as a(action)
),

evaluated as (
    -- Only the actions some method needs.
    select
        e.principal_arn,
        e.principal_type,
        e.account_id,
        e.action,
        e.granted_resources,
        e.granted_by
    from int_principal_actions_evaluated as e
    where e.is_effective
        and e.has_unconditional_allow
        and e.action in (select action from method_actions)
),

granted_patterns as (
    select
        principal_arn,
        action,
        starts_with(pattern, '!') as is_negated,
        replace(replace(replace(replace(replace(
            ltrim(pattern, '!'), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_')
            as pattern_like
    from evaluated, unnest(granted_resources) as r(pattern)
),

method_grants as (
    -- Principals that can perform every required action of a method (of an allowed type), with
    -- what the target search needs of the method and the principal's account.
    select
        e.principal_arn,
        i.account_id,
        m.method_id,
        m.target_kind,
        m.target_type,
        m.service_principal,
        list({'action': e.action, 'granted_by': e.granted_by} order by e.action) as actions
    from methods as m,
        unnest(m.required_actions) as r(action)
    inner join evaluated as e on e.action = r.action
    inner join identities as i on i.principal_arn = e.principal_arn
    where list_contains(m.principal_types, i.principal_type)
    group by e.principal_arn, i.account_id, m.method_id, m.target_kind, m.target_type,
        m.service_principal
    having count(distinct e.action) = max(len(m.required_actions))
),

self_targets as (
    select principal_arn, principal_arn as target_arn from identities
    union all
    select user_arn as principal_arn, group_arn as target_arn from memberships
    union all
    select group_arn as principal_arn, user_arn as target_arn from memberships
),

own_policies as (
    select distinct principal_arn, split_part(policy_key, '|', 2) as target_arn
    from principal_policies
    where attachment = 'managed'
        and not regexp_matches(split_part(policy_key, '|', 2), '^arn:aws[a-z-]*:iam::aws:policy/')
),

potentially_privileged as (
    -- Admins and every principal holding a self-escalation method before its resource check (a
    -- superset of the privileged targets; the final filter keeps only the real ones).
    select principal_arn from admins
    union
    select principal_arn
    from method_grants
    where target_kind in ('self', 'own_policy')
),

privileged_identities as (
    select i.*
    from identities as i
    where i.principal_arn in (select principal_arn from potentially_privileged)
),

service_roles as (
    select distinct t.principal as service_principal, r.principal_arn as role_arn, r.account_id
    from service_trusts as t
    inner join privileged_identities as r on r.principal_arn = t.resource_arn
    where t.principal <> 'ec2.amazonaws.com'
        or r.principal_arn in (select role_arn from instance_profiles)
),

candidate_targets as (
    select g.principal_arn, g.method_id, s.target_arn
    from method_grants as g
    inner join self_targets as s on s.principal_arn = g.principal_arn
    where g.target_kind = 'self'
        and s.target_arn like '%:' || g.target_type || '/%'

    union all

    select g.principal_arn, g.method_id, o.target_arn
    from method_grants as g
    inner join own_policies as o on o.principal_arn = g.principal_arn
    where g.target_kind = 'own_policy'

    union all

    select g.principal_arn, g.method_id, t.principal_arn as target_arn
    from method_grants as g
    inner join privileged_identities as t
        on t.account_id = g.account_id
        and t.principal_type = g.target_type
        and t.principal_arn <> g.principal_arn
    where g.target_kind = 'privileged'

    union all

    select g.principal_arn, g.method_id, s.role_arn as target_arn
    from method_grants as g
    inner join service_roles as s
        on s.account_id = g.account_id
        and s.service_principal = g.service_principal
        and s.role_arn <> g.principal_arn
    where g.target_kind = 'service_role'
),

candidate_states as (
    -- What the credential report says of each candidate target, for the methods that need it:
    -- state_known (null: the method needs no state) and state_allows (null: not known).
    select
        c.principal_arn,
        c.method_id,
        c.target_arn,
        case
            when list_has_any(m.target_actions, ['iam:createloginprofile', 'iam:updateloginprofile'])
                then r.has_password is not null
            when list_contains(m.target_actions, 'iam:createaccesskey')
                then r.user_arn is not null
        end as state_known,
        case
            when list_contains(m.target_actions, 'iam:createloginprofile') then not r.has_password
            when list_contains(m.target_actions, 'iam:updateloginprofile') then r.has_password
            when list_contains(m.target_actions, 'iam:createaccesskey') then r.key_count < 2
        end as state_allows
    from candidate_targets as c
    inner join methods as m on m.method_id = c.method_id
    inner join identities as p on p.principal_arn = c.principal_arn
    left join credential_states as r
        on r.account_id = p.account_id
        and r.user_arn = c.target_arn
        and m.target_type = 'user'
),

protected_roles as (
    -- IAM Identity Center roles and service-linked roles: no principal can change their
    -- policies or trust (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html,
    -- https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
    select principal_arn
    from identities
    where principal_type = 'role'
        and (
            is_sso_reserved
            or is_service_linked
            or principal_arn like '%:role/aws-reserved/sso.amazonaws.com/%'
        )
),

candidates as (
    -- The targets the method works on; a user the report does not list is kept; a protected
    -- role is never the target of a method that changes a role.
    select c.principal_arn, c.method_id, c.target_arn, c.state_known
    from candidate_states as c
    inner join methods as m on m.method_id = c.method_id
    where coalesce(c.state_allows, true)
        and not (
            c.target_arn in (select principal_arn from protected_roles)
            and list_has_any(
                m.target_actions,
                [
                    'iam:attachrolepolicy', 'iam:putrolepolicy', 'iam:updateassumerolepolicy',
                    'iam:putrolepermissionsboundary', 'iam:deleterolepermissionsboundary'
                ]
            )
        )
),

target_matches as (
    -- How many of the method's target actions grant a pattern covering the target.
    select c.principal_arn, c.method_id, c.target_arn, count(distinct gp.action) as matched
    from candidates as c
    inner join methods as m on m.method_id = c.method_id
    inner join granted_patterns as gp
        on gp.principal_arn = c.principal_arn
        and list_contains(m.target_actions, gp.action)
        and (c.target_arn like gp.pattern_like escape '\') <> gp.is_negated
    group by all
),

reached as (
    select c.principal_arn, c.method_id, c.target_arn, c.state_known, m.target_kind
    from candidates as c
    inner join methods as m on m.method_id = c.method_id
    left join target_matches as t
        on t.principal_arn = c.principal_arn
        and t.method_id = c.method_id
        and t.target_arn = c.target_arn
    where len(m.target_actions) = 0
        or coalesce(t.matched, 0) = len(m.target_actions)
),

privileged as (
    select principal_arn from admins
    union
    select principal_arn from reached where target_kind in ('self', 'own_policy')
),

paths as (
    select
        principal_arn,
        method_id,
        list_sort(list(distinct target_arn)) as target_arns,
        bool_and(state_known) as target_state_known
    from reached
    where target_kind in ('self', 'own_policy')
        or target_arn in (select principal_arn from privileged)
    group by principal_arn, method_id
),

final as (
    select
        p.principal_arn,
        i.principal_type,
        i.account_id,
        p.method_id,
        m.title as method_title,
        m.target_kind,
        p.target_arns,
        p.target_state_known,
        g.actions
    from paths as p
    inner join identities as i on i.principal_arn = p.principal_arn
    inner join methods as m on m.method_id = p.method_id
    inner join method_grants as g
        on g.principal_arn = p.principal_arn
        and g.method_id = p.method_id
)

select * from final
