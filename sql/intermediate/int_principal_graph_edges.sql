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
-- Every action of a method must be effective for the source (int_policy_set_actions_evaluated:
-- identity ∩ boundary ∩ SCPs, minus Denies). The principals of one policy set and type (a
-- class) share all of that, so the method edges are found once per class and handed to its
-- members at the end (the self edges to their own member, the others to every member but the
-- target); assume-role edges depend on the trust, so they are found per principal. The actions that name a resource (`actions`
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
-- it lists (int_policy_set_actions_evaluated), so this table stays narrow.
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

policy_sets as (
    select principal_arn, account_id, policy_set_key, scp_applies from int_principal_policy_sets
),

members as (
    -- Each source with its class: the principals of one policy set and type share every grant,
    -- boundary, Deny and SCP, so the edges that do not depend on who the source is are found
    -- once per class and handed to its members at the end.
    select
        s.principal_arn,
        s.principal_type,
        s.account_id,
        p.policy_set_key,
        p.scp_applies,
        p.policy_set_key || '|' || s.principal_type || '|' || s.account_id || '|'
            || coalesce(p.scp_applies::varchar, '') as class_key
    from sources as s
    inner join policy_sets as p on p.principal_arn = s.principal_arn
),

classes as (
    select distinct class_key, policy_set_key, principal_type, account_id, scp_applies
    from members
),

set_evaluated as (
    -- Only the actions some edge needs, effective for the policy set.
    select policy_set_key, action, is_conditional, granted_resources
    from int_policy_set_actions_evaluated
    where is_effective
        and action in (select action from method_actions)
),

class_evaluated as (
    select c.class_key, c.principal_type, c.account_id, e.action, e.is_conditional
    from classes as c
    inner join set_evaluated as e on e.policy_set_key = c.policy_set_key
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

-- Method edges (per class) ------------------------------------------------------------------

method_grants as (
    -- Classes that can perform every action of a method at action level (of an allowed type).
    select
        e.class_key,
        e.principal_type,
        e.account_id,
        m.method_id,
        m.target_kind,
        m.target_type,
        m.service_principal,
        m.target_actions,
        bool_or(e.is_conditional) as is_conditional
    from methods as m,
        unnest(list_distinct(list_concat(m.required_actions, m.target_actions))) as r(action)
    inner join class_evaluated as e on e.action = r.action
    where list_contains(m.principal_types, e.principal_type)
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
    -- (class, method, target, via): `resource_actions` must be granted on `via_arn`.
    -- `only_source`: the one member the candidate is for (a self edge); null: every member of
    -- the class but the target itself.
    select
        g.class_key,
        m.principal_arn as only_source,
        g.method_id,
        m.principal_arn as target_arn,
        s.via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join members as m on m.class_key = g.class_key
    inner join self_targets as s on s.principal_arn = m.principal_arn
    where g.target_kind = 'self'
        and s.via_type = g.target_type

    union all

    select
        g.class_key,
        m.principal_arn as only_source,
        g.method_id,
        m.principal_arn as target_arn,
        o.policy_arn as via_arn,
        g.target_actions as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join members as m on m.class_key = g.class_key
    inner join own_policies as o on o.principal_arn = m.principal_arn
    where g.target_kind = 'own_policy'

    union all

    -- Another user (credentials), a group to join, or a role to re-trust and assume.
    select
        g.class_key,
        null::varchar as only_source,
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
    where g.target_kind = 'privileged'
        -- only a user (or the members of a group) can join a group
        and (g.method_id <> 'add-user-to-group' or g.principal_type in ('user', 'group'))

    union all

    -- Pass a role to a new resource of the service.
    select
        g.class_key,
        null::varchar as only_source,
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
    where g.target_kind = 'service_role'
        and len(g.target_actions) > 0

    union all

    -- Take over existing compute of the snapshot.
    select
        g.class_key,
        null::varchar as only_source,
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
    where g.target_kind = 'service_role'
        and len(g.target_actions) = 0

    union all

    -- Compute not collected for the account: any role the service may assume is presumed run.
    select
        g.class_key,
        null::varchar as only_source,
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
    where g.target_kind = 'service_role'
        and len(g.target_actions) = 0
        and not exists (
            select 1 from compute_collected as cc
            where cc.account_id = g.account_id
                and cc.service_principal = g.service_principal
        )

    union all

    -- Create a role that trusts the source and give it a policy: the source becomes admin.
    select
        g.class_key,
        m.principal_arn as only_source,
        g.method_id,
        m.principal_arn as target_arn,
        null::varchar as via_arn,
        []::varchar[] as resource_actions,
        false as compute_presumed,
        g.is_conditional
    from method_grants as g
    inner join members as m on m.class_key = g.class_key
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
    from method_candidates as c
    left join credential_states as r on r.user_arn = c.target_arn
    -- a protected role is never the target of a method that changes a role
    where not (
        c.method_id in ('update-assume-role-policy', 'attach-role-policy', 'put-role-policy')
        and c.target_arn in (select principal_arn from protected_roles)
    )
),

-- Assume-role edges (per source) ------------------------------------------------------------

assume_holders as (
    -- Sources whose identity policies allow sts:AssumeRole (on some resource).
    select m.principal_arn
    from members as m
    inner join set_evaluated as e
        on e.policy_set_key = m.policy_set_key
        and e.action = 'sts:assumerole'
),

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
            or i.principal_arn in (select principal_arn from assume_holders)
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

modify_grants as (
    -- Classes that can write the policies of users, roles or groups (at action level).
    select e.class_key, e.account_id, m.method_id, m.action, m.written_type, e.is_conditional
    from class_evaluated as e
    inner join modify_actions as m on m.action = e.action
),

all_modify_candidates as (
    -- A class can write the policies of another user or role of its account (directly, or
    -- through a group the user belongs to): `via_arn` is what it writes to, `target_arn` the
    -- principal whose power grows (never the member itself: see the expansion).
    select
        g.class_key,
        g.method_id,
        g.action,
        t.principal_arn as target_arn,
        t.principal_arn as via_arn,
        g.is_conditional
    from modify_grants as g
    inner join identities as t
        on t.account_id = g.account_id
        and t.principal_type = g.written_type
    where g.written_type in ('user', 'role')
        and t.principal_arn not in (select principal_arn from protected_roles)

    union all

    select
        g.class_key,
        g.method_id,
        g.action,
        ms.user_arn as target_arn,
        ms.group_arn as via_arn,
        g.is_conditional
    from modify_grants as g
    inner join memberships as ms on split_part(ms.group_arn, ':', 5) = g.account_id
    where g.written_type = 'group'
),

class_act_targets as (
    -- Principals a class may act as through a method, before the resource checks.
    select distinct class_key, target_arn
    from candidate_states
    where method_id in ('create-access-key', 'create-login-profile', 'update-login-profile',
        'update-assume-role-policy')
        and coalesce(state_allows, true)
),

assumed_targets as (
    -- Roles a member may assume, by class (before the resource checks).
    select distinct m.class_key, a.target_arn
    from assume_candidates as a
    inner join members as m on m.principal_arn = a.source_arn
),

assumers as (
    -- (principal, role it may assume), by the role's class: whoever holds a session of the role
    -- came from one of them (before the resource checks).
    select m.class_key, a.source_arn as assumer_arn, a.target_arn as role_arn
    from assume_candidates as a
    inner join members as m on m.principal_arn = a.target_arn
),

modify_candidates as materialized (
    -- Only the principals the class may act as are worth writing an administrator policy into:
    -- those it has credentials of or may assume, and those that may assume a member.
    select c.*
    from all_modify_candidates as c
    where exists (
        select 1 from class_act_targets as a
        where a.class_key = c.class_key and a.target_arn = c.target_arn
    )
        or exists (
            select 1 from assumed_targets as a
            where a.class_key = c.class_key and a.target_arn = c.target_arn
        )
        or exists (
            select 1 from assumers as a
            where a.class_key = c.class_key and a.assumer_arn = c.target_arn
        )
),

assumer_joins as (
    -- A role that may add users to groups, and a user that may assume it: the session's holder
    -- (that user) can be added to any group of the account it is not in.
    select distinct
        a.class_key,
        a.role_arn,
        a.assumer_arn,
        g.group_arn,
        e.is_conditional
    from assumers as a
    inner join class_evaluated as e
        on e.class_key = a.class_key
        and e.action = 'iam:addusertogroup'
        and e.principal_type = 'role'
    inner join identities as u on u.principal_arn = a.assumer_arn and u.principal_type = 'user'
    inner join (
        select principal_arn as group_arn, account_id from identities where principal_type = 'group'
    ) as g on g.account_id = u.account_id
    where not exists (
        select 1 from memberships as ms
        where ms.user_arn = a.assumer_arn and ms.group_arn = g.group_arn
    )
),

assumer_join_sets as (
    select j.*, k.policy_set_key, k.account_id as source_account_id, k.scp_applies
    from assumer_joins as j
    inner join classes as k on k.class_key = j.class_key
),

-- Resource checks (per policy set) ------------------------------------------------------------

candidate_sets as materialized (
    select c.*, k.policy_set_key, k.account_id as source_account_id, k.scp_applies
    from candidate_states as c
    inner join classes as k on k.class_key = c.class_key
    where coalesce(c.state_allows, true)
),

assume_sets as (
    select a.*, p.policy_set_key, p.account_id as source_account_id, p.scp_applies
    from assume_candidates as a
    inner join policy_sets as p on p.principal_arn = a.source_arn
),

modify_sets as (
    select m.*, k.policy_set_key, k.account_id as source_account_id, k.scp_applies
    from modify_candidates as m
    inner join classes as k on k.class_key = m.class_key
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
    union
    select policy_set_key, source_account_id as account_id, scp_applies,
        'iam:addusertogroup' as action, group_arn as resource_arn
    from assumer_join_sets
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
        c.class_key,
        c.only_source,
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
    group by c.class_key, c.only_source, c.method_id, c.target_arn, c.via_arn
),

method_edges as materialized (
    select
        c.class_key,
        c.only_source,
        c.method_id as method,
        c.target_arn,
        c.via_arn,
        c.compute_presumed,
        c.target_state_known,
        c.is_conditional,
        list_distinct(list_concat(m.required_actions, m.target_actions)) as actions,
        list_transform(
            list_distinct(c.resource_actions), lambda a: {'action': a, 'resource': c.via_arn}
        ) as checked
    from method_checked as c
    inner join methods as m on m.method_id = c.method_id
    where c.allowed_actions = len(list_distinct(c.resource_actions))
),

assume_edges as materialized (
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

modify_allowed as (
    -- The writes that hold on their resource.
    select
        m.class_key,
        m.method_id,
        m.action,
        m.target_arn,
        m.via_arn,
        m.is_conditional or r.is_conditional as is_conditional
    from modify_sets as m
    inner join set_allowed as r
        on r.policy_set_key = m.policy_set_key
        and r.action = m.action
        and r.resource_arn = m.via_arn
),

class_combo_edges as (
    -- Write an administrator policy into another principal, then act as it through a method
    -- of the class (its credentials, or a rewritten trust): one edge whose target becomes an
    -- administrator.
    select
        m.class_key,
        null::varchar as only_source,
        m.method_id || '+' || a.method as method,
        m.target_arn,
        m.via_arn,
        a.compute_presumed,
        a.target_state_known,
        m.is_conditional or a.is_conditional as is_conditional,
        list_concat([m.action], a.actions) as actions,
        list_concat([{'action': m.action, 'resource': m.via_arn}], a.checked) as checked
    from modify_allowed as m
    inner join method_edges as a
        on a.class_key = m.class_key
        and a.target_arn = m.target_arn
        and a.only_source is null
        and a.method in (
            'update-assume-role-policy', 'create-access-key', 'create-login-profile',
            'update-login-profile'
        )
),

class_edges as (
    select *, []::struct(
        statement integer, sid varchar, trusted_as varchar, condition_keys varchar[]
    )[] as trust_statements, false as makes_target_admin
    from method_edges
    union all by name
    select *, []::struct(
        statement integer, sid varchar, trusted_as varchar, condition_keys varchar[]
    )[] as trust_statements, true as makes_target_admin
    from class_combo_edges
),

expanded_edges as (
    -- The class edges handed to the members: a self edge to its own member, any other edge to
    -- every member but its target (and joining a group only for those not in it yet).
    select m.principal_arn as source_arn, e.* exclude (class_key, only_source)
    from class_edges as e
    inner join members as m on m.class_key = e.class_key
    where (e.only_source is null or e.only_source = m.principal_arn)
        and (e.only_source is not null or e.target_arn <> m.principal_arn)
        and not (
            e.method = 'add-user-to-group'
            and exists (
                select 1 from memberships as ms
                where ms.user_arn = m.principal_arn and ms.group_arn = e.target_arn
            )
        )
),

assume_combo_edges as (
    -- Write an administrator policy into a role (or user) it then assumes.
    select
        a.source_arn,
        m.method_id || '+' || a.method as method,
        m.target_arn,
        m.via_arn,
        a.compute_presumed,
        a.target_state_known,
        m.is_conditional or a.is_conditional as is_conditional,
        list_concat([m.action], a.actions) as actions,
        list_concat([{'action': m.action, 'resource': m.via_arn}], a.checked) as checked,
        a.trust_statements,
        true as makes_target_admin
    from assume_edges as a
    inner join members as s on s.principal_arn = a.source_arn
    inner join modify_allowed as m on m.class_key = s.class_key and m.target_arn = a.target_arn
),

assumed_by_edges as (
    -- A role writes an administrator policy into a principal that may assume it (the user or
    -- role itself, or a group of the user): the session's holder came from that principal, so
    -- it holds its credentials. `trust_statements`: the trust admitting that principal.
    select
        m.role_arn as source_arn,
        w.method_id || '+assumed-by' as method,
        w.target_arn,
        w.via_arn,
        false as compute_presumed,
        null::boolean as target_state_known,
        w.is_conditional or a.is_conditional as is_conditional,
        [w.action] as actions,
        [{'action': w.action, 'resource': w.via_arn}] as checked,
        a.trust_statements,
        true as makes_target_admin
    from (select distinct class_key, assumer_arn, role_arn from assumers) as m
    inner join assume_edges as a on a.source_arn = m.assumer_arn and a.target_arn = m.role_arn
    inner join modify_allowed as w on w.class_key = m.class_key and w.target_arn = m.assumer_arn

    union all

    -- A role adds a user that may assume it to a group: the session's holder acts through the
    -- group's policies (`via_arn`: the user added).
    select
        j.role_arn as source_arn,
        'add-user-to-group+assumed-by' as method,
        j.group_arn as target_arn,
        j.assumer_arn as via_arn,
        false as compute_presumed,
        null::boolean as target_state_known,
        j.is_conditional or r.is_conditional or a.is_conditional as is_conditional,
        ['iam:addusertogroup'] as actions,
        [{'action': 'iam:addusertogroup', 'resource': j.group_arn}] as checked,
        a.trust_statements,
        false as makes_target_admin
    from assumer_join_sets as j
    inner join assume_edges as a on a.source_arn = j.assumer_arn and a.target_arn = j.role_arn
    inner join set_allowed as r
        on r.policy_set_key = j.policy_set_key
        and r.action = 'iam:addusertogroup'
        and r.resource_arn = j.group_arn
),

edges as (
    select * from expanded_edges
    union all by name
    select *, false as makes_target_admin from assume_edges
    union all by name
    select * from assume_combo_edges
    union all by name
    select * from assumed_by_edges
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
