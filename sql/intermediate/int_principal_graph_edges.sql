-- int_principal_graph_edges
-- The edges of the principal graph: "source can act as target" (or, when source = target, "the
-- source can make itself an administrator"), one row per (source, method, target, via). Nodes
-- are int_principal_graph_nodes (users, roles, groups; a group acts through its members).
-- Methods (`method`):
--   assume-role      the role's trust policy allows the source (its ARN, a session of it, its
--                    account root or `*`, aws:PrincipalArn conditions matched; OIDC, SAML and
--                    service principals are not sources) and no unconditional trust Deny names
--                    it; across accounts, or for a trust of the account root or `*`, the
--                    source's identity permissions must also allow sts:AssumeRole on the role.
--   ref_privesc_methods (PMapper's and Rhino Security Labs' methods), by `target_kind`:
--     own_policy     a customer-managed policy in force for the source (create or set a policy
--                    version): a self edge, `via_arn` the policy;
--     self           attach/put a policy on itself or a group it belongs to: a self edge,
--                    `via_arn` the user or group written to;
--     privileged     add itself to a group (target: the group), create an access key or a login
--                    profile, or update a login profile, of another user of its account
--                    (target: the user), update a role's trust policy and assume it (target:
--                    the role). Any target: whether it leads to an administrator is the
--                    search's question (privilege_escalation_paths);
--     service_role   pass a role of its account that the service may assume (EC2: with an
--                    instance profile) to a new resource that runs it; or, for the methods that
--                    act on an existing resource (lambda:UpdateFunctionCode, ssm:SendCommand,
--                    ssm:StartSession, ec2-instance-connect), take over an existing Lambda
--                    function or EC2 instance (not terminated, stopping or stopped) of the
--                    snapshot: the target is the role it runs as, `via_arn` the compute. Where
--                    the snapshot lists no compute of that kind for the account (not collected),
--                    and for Glue dev endpoints, CloudFormation stacks and SageMaker notebooks
--                    (never collected), the edge goes to every role the service may assume,
--                    with `compute_presumed`.
-- Every action of a method must be effective for the source (int_principal_actions_evaluated:
-- identity ∩ boundary ∩ SCPs, minus Denies). The actions that name a resource (`actions`
-- entries with a `resource`) must be granted on that resource (the target user, group, role or
-- policy, or the compute), and an unconditional Deny of the source's policies, boundary or SCPs
-- naming that resource breaks the edge. `is_conditional`: some action is allowed only under a
-- Condition (of the Allow, the boundary, an SCP, or a conditional Deny covering the resource),
-- or a trust statement that admits the source has a Condition: the edge is kept and marked.
-- Credential state (credential report, when it lists the user): iam:CreateLoginProfile needs a
-- user without a console password, iam:UpdateLoginProfile one with a password,
-- iam:CreateAccessKey one holding fewer than 2 keys; `target_state_known` is false when the
-- report does not list the target (null for other methods). Service-linked roles are never
-- sources; IAM Identity Center and service-linked roles are never the target of a method that
-- changes a role's policies or trust (AWS refuses it). `actions` are the edge's IAM actions, `checked` those checked on a resource
-- ({action, resource}); privilege_escalation_paths adds the granting statements of the steps
-- it lists (int_principal_actions_evaluated), so this table stays narrow.
-- grain: source_arn, method, target_arn, via_arn

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

sources as (
    select * from identities
    where not is_service_linked
),

memberships as (
    select user_arn, group_arn from raw_iam_group_memberships
),

protected_roles as (
    -- IAM Identity Center and service-linked roles: AWS refuses any change to their policies or
    -- trust (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html,
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

principal_policies as (
    select * from int_principal_policies
),

instance_profiles as (
    select distinct role_arn from raw_iam_instance_profiles
),

compute as (
    -- Existing compute that runs as a role, by the service that runs it.
    select
        'lambda.amazonaws.com' as service_principal,
        account_id,
        node_arn as compute_arn,
        runs_as_role_arn
    from int_principal_graph_nodes
    where node_type = 'lambda_function'

    union all

    select
        'ec2.amazonaws.com' as service_principal,
        account_id,
        node_arn as compute_arn,
        runs_as_role_arn
    from int_principal_graph_nodes
    where node_type = 'ec2_instance'
        and coalesce(compute_state, 'running') not in (
            'terminated', 'shutting-down', 'stopping', 'stopped'
        )
),

compute_collected as (
    -- Accounts whose snapshot lists compute of the kind (any state): absence there is a fact.
    select distinct 'lambda.amazonaws.com' as service_principal, account_id
    from raw_lambda_functions
    union
    select distinct 'ec2.amazonaws.com' as service_principal, account_id
    from raw_ec2_instances
),

credential_states as (
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
    select distinct resource_arn as role_arn, principal as service_principal
    from int_resource_policy_grants
    where policy_kind = 'trust'
        and principal_scope = 'service'
        and effect = 'Allow'
        and action = 'sts:assumerole'
        and not coalesce(denied_unconditionally, false)
),

trust as (
    select * from int_role_trust_principals
    where list_contains(assume_actions, 'sts:assumerole')
),

method_actions as (
    select distinct a.action
    from methods as m,
        unnest(list_concat(m.required_actions, m.target_actions)) as a(action)
    union
    select 'sts:assumerole' as action
),

evaluated as (
    -- Only the actions some edge needs, effective for the principal.
    select
        e.principal_arn,
        e.principal_type,
        e.account_id,
        e.policy_set_key,
        e.scp_applies,
        e.action,
        e.is_conditional,
        e.granted_by,
        e.granted_resources
    from int_principal_actions_evaluated as e
    where e.is_effective
        and e.action in (select action from method_actions)
),

policy_sets as (
    select principal_arn, account_id, policy_set_key, scp_applies from int_principal_policy_sets
),

set_denies as (
    select policy_set_key, action, has_condition, resources, not_resources
    from int_set_deny_actions
    where action in (select action from method_actions)
),

scp_denies as (
    select account_id, action, has_condition, resources, not_resources
    from int_scp_deny_actions
    where action in (select action from method_actions)
),

-- Method edges ------------------------------------------------------------------------------

method_grants as (
    -- Sources that can perform every action of a method at action level (of an allowed type).
    select
        e.principal_arn,
        i.principal_type,
        i.account_id,
        m.method_id,
        m.target_kind,
        m.target_type,
        m.service_principal,
        m.target_actions,
        bool_or(e.is_conditional) as is_conditional
    from methods as m,
        unnest(list_distinct(list_concat(m.required_actions, m.target_actions))) as r(action)
    inner join evaluated as e on e.action = r.action
    inner join sources as i on i.principal_arn = e.principal_arn
    where list_contains(m.principal_types, i.principal_type)
    group by all
    having count(distinct e.action)
        = max(len(list_distinct(list_concat(m.required_actions, m.target_actions))))
),

self_targets as (
    -- What "itself" is for a user (also its groups), a group (itself) and a role (itself).
    select principal_arn, principal_arn as via_arn, principal_type as via_type from identities
    union all
    select user_arn as principal_arn, group_arn as via_arn, 'group' as via_type from memberships
),

own_policies as (
    select distinct principal_arn, split_part(policy_key, '|', 2) as policy_arn
    from principal_policies
    where attachment = 'managed'
        and not regexp_matches(split_part(policy_key, '|', 2), '^arn:aws[a-z-]*:iam::aws:policy/')
),

service_roles as (
    select distinct t.service_principal, r.principal_arn as role_arn, r.account_id
    from service_trusts as t
    inner join identities as r on r.principal_arn = t.role_arn
    where t.service_principal <> 'ec2.amazonaws.com'
        or r.principal_arn in (select role_arn from instance_profiles)
),

method_candidates as (
    -- (source, method, target, via): `resource_actions` must be granted on `via_arn`.
    select
        g.principal_arn as source_arn,
        g.method_id,
        g.principal_arn as target_arn,
        s.via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join self_targets as s on s.principal_arn = g.principal_arn
    where g.target_kind = 'self'
        and s.via_type = g.target_type

    union all

    select
        g.principal_arn as source_arn,
        g.method_id,
        g.principal_arn as target_arn,
        o.policy_arn as via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join own_policies as o on o.principal_arn = g.principal_arn
    where g.target_kind = 'own_policy'

    union all

    -- Another user (credentials), a group to join, or a role to re-trust and assume.
    select
        g.principal_arn as source_arn,
        g.method_id,
        t.principal_arn as target_arn,
        t.principal_arn as via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join identities as t
        on t.account_id = g.account_id
        and t.principal_type = g.target_type
        and t.principal_arn <> g.principal_arn
    where g.target_kind = 'privileged'
        -- only a user (or the members of a group) can join a group
        and (g.method_id <> 'add-user-to-group' or g.principal_type in ('user', 'group'))
        and not exists (
            select 1 from memberships as m
            where g.method_id = 'add-user-to-group'
                and m.user_arn = g.principal_arn
                and m.group_arn = t.principal_arn
        )

    union all

    -- Pass a role to a new resource of the service.
    select
        g.principal_arn as source_arn,
        g.method_id,
        s.role_arn as target_arn,
        s.role_arn as via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join service_roles as s
        on s.account_id = g.account_id
        and s.service_principal = g.service_principal
        and s.role_arn <> g.principal_arn
    where g.target_kind = 'service_role'
        and len(g.target_actions) > 0

    union all

    -- Take over existing compute of the snapshot.
    select
        g.principal_arn as source_arn,
        g.method_id,
        c.runs_as_role_arn as target_arn,
        c.compute_arn as via_arn,
        m.required_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join methods as m on m.method_id = g.method_id
    inner join compute as c
        on c.account_id = g.account_id
        and c.service_principal = g.service_principal
        and c.runs_as_role_arn <> g.principal_arn
    where g.target_kind = 'service_role'
        and len(g.target_actions) = 0

    union all

    -- Compute not collected for the account: any role the service may assume is presumed run.
    select
        g.principal_arn as source_arn,
        g.method_id,
        s.role_arn as target_arn,
        null::varchar as via_arn,
        []::varchar[] as resource_actions,
        true as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join service_roles as s
        on s.account_id = g.account_id
        and s.service_principal = g.service_principal
        and s.role_arn <> g.principal_arn
    where g.target_kind = 'service_role'
        and len(g.target_actions) = 0
        and not exists (
            select 1 from compute_collected as cc
            where cc.account_id = g.account_id
                and cc.service_principal = g.service_principal
        )
),

new_role_candidates as (
    -- Create a role that trusts the source and give it a policy: the source becomes admin.
    select
        g.principal_arn as source_arn,
        g.method_id,
        g.principal_arn as target_arn,
        null::varchar as via_arn,
        []::varchar[] as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    where g.target_kind = 'new_role'
),

modify_actions as (
    select * from (values
        ('iam:attachuserpolicy', 'user', 'attach-user-policy'),
        ('iam:putuserpolicy', 'user', 'put-user-policy'),
        ('iam:attachrolepolicy', 'role', 'attach-role-policy'),
        ('iam:putrolepolicy', 'role', 'put-role-policy'),
        ('iam:attachgrouppolicy', 'group', 'attach-group-policy'),
        ('iam:putgrouppolicy', 'group', 'put-group-policy')
    ) as v(action, written_type, method_id)
),

candidate_states as (
    select
        c.*,
        case
            when list_has_any(c.resource_actions, ['iam:createloginprofile', 'iam:updateloginprofile'])
                then r.has_password is not null
            when list_contains(c.resource_actions, 'iam:createaccesskey')
                then r.user_arn is not null
        end as target_state_known,
        case
            when list_contains(c.resource_actions, 'iam:createloginprofile') then not r.has_password
            when list_contains(c.resource_actions, 'iam:updateloginprofile') then r.has_password
            when list_contains(c.resource_actions, 'iam:createaccesskey') then r.key_count < 2
        end as state_allows
    from (
        select * from method_candidates
        union all
        select * from new_role_candidates
    ) as c
    left join credential_states as r on r.user_arn = c.target_arn
    -- a protected role is never the target of a method that changes a role
    where not (
        c.method_id in ('update-assume-role-policy', 'attach-role-policy', 'put-role-policy')
        and c.target_arn in (select principal_arn from protected_roles)
    )
),

-- Assume-role edges -------------------------------------------------------------------------

source_keys as (
    -- What a trust policy may name to admit a user or role: its ARN, a session of it (a role),
    -- its account, or anyone.
    select i.*, k.match_key
    from sources as i,
        unnest([
            'arn|' || i.principal_arn,
            case when i.principal_type = 'role' then 'session|' || i.account_id || '|' || i.name end,
            'account|' || i.account_id,
            'anyone'
        ]) as k(match_key)
    where i.principal_type in ('user', 'role')
        and k.match_key is not null
),

trust_matches as (
    select
        i.principal_arn as source_arn,
        i.account_id,
        t.role_arn as target_arn,
        t.effect,
        t.statement_index,
        t.sid,
        t.principal_kind,
        t.has_condition or len(coalesce(t.restricted_by_deny, [])) > 0 as trust_conditional,
        t.condition_keys,
        not (
            t.principal_kind in ('iam_user', 'iam_role', 'assumed_role')
            and t.role_account_id = i.account_id
        ) as needs_identity_allow
    from source_keys as i
    inner join (
        -- the trusted principal each trust row admits, as an equi-join key: its ARN, a session
        -- of the role (account + role name), its account, or anyone
        select
            *,
            case
                when principal_kind in ('iam_user', 'iam_role') then 'arn|' || trusted_arn
                when principal_kind = 'assumed_role'
                    then 'session|' || principal_account_id || '|' || assumed_role_name
                when principal_kind = 'account_root' then 'account|' || principal_account_id
                when principal_kind = 'anyone' then 'anyone'
            end as match_key
        from trust
    ) as t on t.match_key = i.match_key
    where i.principal_arn <> t.role_arn
        -- where AWS needs an identity grant too, only holders of sts:AssumeRole are candidates
        and (
            (
                t.principal_kind in ('iam_user', 'iam_role', 'assumed_role')
                and t.role_account_id = i.account_id
            )
            or i.principal_arn in (
                select principal_arn from evaluated where action = 'sts:assumerole'
            )
        )
        and coalesce(list_bool_and(list_transform(
            t.principal_arn_conditions,
            lambda vs: list_bool_or(list_transform(
                vs,
                lambda v: like_escape(
                    i.principal_arn,
                    replace(replace(replace(replace(replace(
                        v, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                    '\'
                )
            ))
        )), true)
),

trust_denied as (
    select distinct source_arn, target_arn
    from trust_matches
    where effect = 'Deny' and not trust_conditional
),

assume_candidates as (
    select
        m.source_arn,
        m.target_arn,
        bool_and(m.needs_identity_allow) as needs_identity_allow,
        bool_and(m.trust_conditional) as trust_conditional,
        list({
            'statement': m.statement_index,
            'sid': m.sid,
            'trusted_as': m.principal_kind,
            'condition_keys': m.condition_keys
        } order by m.statement_index, m.principal_kind) as trust_statements
    from trust_matches as m
    where m.effect = 'Allow'
        and not exists (
            select 1 from trust_denied as d
            where d.source_arn = m.source_arn and d.target_arn = m.target_arn
        )
    group by m.source_arn, m.target_arn
),

all_modify_candidates as (
    -- The source can write the policies of another user or role of its account (directly, or
    -- through a group the user belongs to): `via_arn` is what it writes to.
    select
        e.principal_arn as source_arn,
        m.method_id,
        m.action,
        t.principal_arn as target_arn,
        t.principal_arn as via_arn,
        e.is_conditional
    from evaluated as e
    inner join modify_actions as m on m.action = e.action and m.written_type in ('user', 'role')
    inner join sources as s on s.principal_arn = e.principal_arn
    inner join identities as t
        on t.account_id = s.account_id
        and t.principal_type = m.written_type
        and t.principal_arn <> s.principal_arn
    where t.principal_arn not in (select principal_arn from protected_roles)

    union all

    select
        e.principal_arn as source_arn,
        m.method_id,
        m.action,
        g.user_arn as target_arn,
        g.group_arn as via_arn,
        e.is_conditional
    from evaluated as e
    inner join modify_actions as m on m.action = e.action and m.written_type = 'group'
    inner join sources as s on s.principal_arn = e.principal_arn
    inner join memberships as g
        on g.user_arn <> s.principal_arn
        and split_part(g.group_arn, ':', 5) = s.account_id
),

act_targets as (
    -- Principals the source may act as, before the resource checks: the only ones worth writing
    -- an administrator policy into.
    select distinct source_arn, target_arn
    from method_candidates
    where method_id in ('create-access-key', 'create-login-profile', 'update-login-profile',
        'update-assume-role-policy')
    union
    select source_arn, target_arn from assume_candidates
),

modify_candidates as materialized (
    select m.*
    from all_modify_candidates as m
    inner join act_targets as a on a.source_arn = m.source_arn and a.target_arn = m.target_arn
),

-- Resource checks (both kinds of edge) ------------------------------------------------------

candidate_sets as (
    -- Each candidate with the source's policy set: principals of a set share their grants,
    -- boundary, Denies and SCPs, so resources are checked once per set, not per principal.
    select c.*, p.policy_set_key, p.account_id as source_account_id, p.scp_applies
    from candidate_states as c
    inner join policy_sets as p on p.principal_arn = c.source_arn
    where coalesce(c.state_allows, true)
),

assume_sets as (
    select a.*, p.policy_set_key, p.account_id as source_account_id, p.scp_applies
    from assume_candidates as a
    inner join policy_sets as p on p.principal_arn = a.source_arn
),

modify_sets as (
    select m.*, p.policy_set_key, p.account_id as source_account_id, p.scp_applies
    from modify_candidates as m
    inner join policy_sets as p on p.principal_arn = m.source_arn
),

checks as (
    -- (policy set, action, resource): the resources the candidate edges' actions must be
    -- granted on (and not denied on).
    select distinct
        policy_set_key, source_account_id as account_id, scp_applies, a.action,
        via_arn as resource_arn
    from candidate_sets, unnest(resource_actions) as a(action)
    union
    select
        policy_set_key, source_account_id as account_id, scp_applies, 'sts:assumerole' as action,
        target_arn as resource_arn
    from assume_sets
    union
    -- a rewritten trust policy names the source: only a Deny can stop the assumption
    select
        policy_set_key, source_account_id as account_id, scp_applies, 'sts:assumerole' as action,
        target_arn as resource_arn
    from candidate_sets
    where method_id = 'update-assume-role-policy'
    union
    select policy_set_key, source_account_id as account_id, scp_applies, action,
        via_arn as resource_arn
    from modify_sets
),

set_evaluated as (
    select policy_set_key, action, is_conditional, granted_resources
    from int_policy_set_actions_evaluated
    where is_effective
        and action in (select action from method_actions)
),

check_grants as (
    select c.policy_set_key, c.action, c.resource_arn, e.is_conditional
    from checks as c
    inner join set_evaluated as e on e.policy_set_key = c.policy_set_key and e.action = c.action
    where list_contains(e.granted_resources, '*') or list_bool_or(list_transform(
        e.granted_resources,
        lambda p: case
            when starts_with(p, '!') then not like_escape(
                c.resource_arn,
                replace(replace(replace(replace(replace(
                    substr(p, 2), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
            else like_escape(
                c.resource_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        end
    ))
),

applicable_denies as (
    -- Every Deny of the set (identity policies, boundary) and of its account's SCPs on a checked
    -- action, granted or not (a trust naming the source needs no grant).
    select c.policy_set_key, c.action, c.resource_arn, d.has_condition, d.resources,
        d.not_resources
    from checks as c
    inner join set_denies as d on d.policy_set_key = c.policy_set_key and d.action = c.action
    union all
    select c.policy_set_key, c.action, c.resource_arn, d.has_condition, d.resources,
        d.not_resources
    from checks as c
    inner join scp_denies as d
        on c.scp_applies
        and d.account_id = c.account_id
        and d.action = c.action
),

set_deny_hits as (
    -- Denies whose Resource (or NotResource) covers the checked resource.
    select
        policy_set_key,
        action,
        resource_arn,
        bool_or(not has_condition) as denied,
        bool_or(has_condition) as conditionally_denied
    from applicable_denies
    where case
        when not_resources is not null then not list_bool_or(list_transform(
            not_resources,
            lambda p: like_escape(
                resource_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        ))
        else list_bool_or(list_transform(
            coalesce(resources, ['*']),
            lambda p: like_escape(
                resource_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        ))
    end
    group by policy_set_key, action, resource_arn
),

set_allowed as (
    select
        g.policy_set_key,
        g.action,
        g.resource_arn,
        g.is_conditional or coalesce(h.conditionally_denied, false) as is_conditional
    from check_grants as g
    left join set_deny_hits as h
        on h.policy_set_key = g.policy_set_key
        and h.action = g.action
        and h.resource_arn = g.resource_arn
    where not coalesce(h.denied, false)
),

-- Edges -------------------------------------------------------------------------------------

method_checked as (
    -- Each candidate with how many of its resource actions hold on `via_arn`.
    select
        c.source_arn,
        c.method_id,
        c.target_arn,
        c.via_arn,
        any_value(c.compute_presumed) as compute_presumed,
        any_value(c.target_state_known) as target_state_known,
        any_value(c.resource_actions) as resource_actions,
        bool_or(c.is_conditional)
            or coalesce(bool_or(r.is_conditional), false)
            or coalesce(bool_or(d.conditionally_denied), false) as is_conditional,
        count(distinct r.action) as allowed_actions
    from candidate_sets as c
    left join set_allowed as r
        on r.policy_set_key = c.policy_set_key
        and r.resource_arn = c.via_arn
        and list_contains(c.resource_actions, r.action)
    left join (
        select * from set_deny_hits where action = 'sts:assumerole'
    ) as d
        on c.method_id = 'update-assume-role-policy'
        and d.policy_set_key = c.policy_set_key
        and d.resource_arn = c.target_arn
    where not coalesce(d.denied, false)
    group by c.source_arn, c.method_id, c.target_arn, c.via_arn
),

method_edges as (
    select
        c.source_arn,
        c.method_id as method,
        c.target_arn,
        c.via_arn,
        c.compute_presumed,
        c.target_state_known,
        c.is_conditional,
        list_distinct(list_concat(m.required_actions, m.target_actions)) as actions,
        list_transform(
            list_distinct(c.resource_actions), lambda a: {'action': a, 'resource': c.via_arn}
        ) as checked,
        []::struct(
            statement integer, sid varchar, trusted_as varchar, condition_keys varchar[]
        )[] as trust_statements
    from method_checked as c
    inner join methods as m on m.method_id = c.method_id
    where c.allowed_actions = len(list_distinct(c.resource_actions))
),

assume_edges as (
    select
        a.source_arn,
        'assume-role' as method,
        a.target_arn,
        a.target_arn as via_arn,
        false as compute_presumed,
        null::boolean as target_state_known,
        a.trust_conditional
            or coalesce(r.is_conditional, false)
            or coalesce(d.conditionally_denied, false) as is_conditional,
        case when r.policy_set_key is null then [] else ['sts:assumerole'] end as actions,
        case
            when r.policy_set_key is null then []
            else [{'action': 'sts:assumerole', 'resource': a.target_arn}]
        end as checked,
        a.trust_statements
    from assume_sets as a
    left join set_allowed as r
        on r.policy_set_key = a.policy_set_key
        and r.action = 'sts:assumerole'
        and r.resource_arn = a.target_arn
    left join (
        select * from set_deny_hits where action = 'sts:assumerole'
    ) as d on d.policy_set_key = a.policy_set_key and d.resource_arn = a.target_arn
    where (not a.needs_identity_allow or r.policy_set_key is not null)
        and not coalesce(d.denied, false)
),

act_edges as (
    select *, false as makes_target_admin from method_edges
    union all by name
    select *, false as makes_target_admin from assume_edges
),

combo_edges as (
    -- Write an administrator policy into another principal, then act as it (its credentials,
    -- or assuming it): one edge whose target becomes an administrator (`makes_target_admin`).
    select
        m.source_arn,
        m.method_id || '+' || a.method as method,
        m.target_arn,
        m.via_arn,
        a.compute_presumed,
        a.target_state_known,
        m.is_conditional or r.is_conditional or a.is_conditional as is_conditional,
        list_concat([m.action], a.actions) as actions,
        list_concat([{'action': m.action, 'resource': m.via_arn}], a.checked) as checked,
        a.trust_statements,
        true as makes_target_admin
    from modify_sets as m
    inner join set_allowed as r
        on r.policy_set_key = m.policy_set_key
        and r.action = m.action
        and r.resource_arn = m.via_arn
    inner join act_edges as a
        on a.source_arn = m.source_arn
        and a.target_arn = m.target_arn
        and a.method in (
            'assume-role', 'update-assume-role-policy', 'create-access-key',
            'create-login-profile', 'update-login-profile'
        )
),

edges as (
    select * from act_edges
    union all by name
    select * from combo_edges
),

final as (
    select
        e.source_arn,
        s.principal_type as source_type,
        s.account_id,
        e.method,
        e.target_arn,
        t.principal_type as target_type,
        e.via_arn,
        e.source_arn = e.target_arn as is_self,
        e.makes_target_admin,
        e.is_conditional,
        e.compute_presumed,
        e.target_state_known,
        e.actions,
        e.checked,
        e.trust_statements
    from edges as e
    inner join identities as s on s.principal_arn = e.source_arn
    inner join identities as t on t.principal_arn = e.target_arn
)

select * from final
