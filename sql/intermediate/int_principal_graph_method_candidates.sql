-- int_principal_graph_method_candidates
-- The candidate edges of the published privilege-escalation methods (ref_privesc_methods:
-- PMapper's and Rhino Security Labs' methods) before the resource checks, one row per class of
-- sources (int_principal_graph_classes) and (method, target, via). A class holds a method when
-- every action of it is effective for its policy set (int_policy_set_method_actions_evaluated:
-- identity ∩ boundary ∩ SCPs, minus Denies). By `target_kind`:
--   own_policy     a customer-managed policy in force for the source (create or set a policy
--                  version): a self edge, `via_arn` the policy;
--   self           attach/put a policy on itself or a group it belongs to: a self edge,
--                  `via_arn` the user or group written to;
--   new_role       create a role that trusts it and give the role a policy: a self edge;
--   privileged     add itself to a group (target: the group), create an access key or a login
--                  profile, or update a login profile, of another user of its account (target:
--                  the user), update a role's trust policy and assume it (target: the role);
--   service_role   pass a role of its account that the service may assume (EC2: with an
--                  instance profile) to a new resource that runs it; or, for the methods that
--                  act on an existing resource (lambda:UpdateFunctionCode, ssm:SendCommand,
--                  ssm:StartSession, ec2-instance-connect), take over an existing Lambda function
--                  or EC2 instance (not terminated, stopping or stopped) of the snapshot: the
--                  target is the role it runs as, `via_arn` the compute. Where the snapshot lists
--                  no compute of that kind for the account (not collected), and for Glue dev
--                  endpoints, CloudFormation stacks and SageMaker notebooks (never collected),
--                  the target is every role the service may assume, with `compute_presumed`.
-- `only_source`: the one member a self edge is for; null: the edge is every member's but the
-- target's own. `resource_actions` must be granted on `via_arn` (int_principal_graph_edges
-- checks them). Credential state (credential report, when it lists the user):
-- iam:CreateLoginProfile needs a user without a console password, iam:UpdateLoginProfile one
-- with a password, iam:CreateAccessKey one holding fewer than 2 keys (`state_allows`);
-- `target_state_known` is false when the report does not list the target. IAM Identity Center
-- and service-linked roles are never the target of a method that changes a role (AWS refuses
-- it). `is_conditional`: some action of the method is allowed only under a Condition;
-- `condition_keys`: the request keys those Conditions need (int_policy_set_method_actions_evaluated).
-- Built per principal bucket (the classes of one bucket's policy sets, against every target),
-- as int_principal_graph_class_edges, its only reader, is: each bucket of the edges reads its
-- own bucket's candidates, not the organization's (23 M rows on ten adversarial accounts, read
-- again by each of 41 buckets).
-- grain: class_key, only_source, method_id, target_arn, via_arn
-- partition: principal_bucket

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

method_actions as (
    select distinct a.action
    from methods as m,
        unnest(list_concat(m.required_actions, m.target_actions)) as a(action)
    union
    select 'sts:assumerole' as action
),

members as (
    -- the classes of this bucket's policy sets
    select * from int_principal_graph_classes
    where policy_set_key in (select policy_set_key from int_principal_policy_sets)
),

classes as (
    select distinct class_key, policy_set_key, principal_type, account_id, scp_applies
    from members
),

set_evaluated as (
    -- Only the actions some edge needs, effective for the policy set; `condition_keys`: the
    -- keys of a conditional action as the evaluation gives them (its Allow, boundary and SCP
    -- Allow, and its conditional Denies, whatever resource they name: an action that names no
    -- resource is not checked again per resource).
    select
        policy_set_key,
        action,
        is_conditional,
        case when is_conditional then coalesce(condition_keys, []) else [] end as condition_keys,
        granted_resources
    from int_policy_set_method_actions_evaluated
    where is_effective
        and action in (select action from method_actions)
),

class_evaluated as (
    select
        c.class_key, c.principal_type, c.account_id, e.action, e.is_conditional, e.condition_keys
    from classes as c
    inner join set_evaluated as e on e.policy_set_key = c.policy_set_key
),

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
        bool_or(e.is_conditional) as is_conditional,
        list_sort(list_distinct(flatten(list(e.condition_keys)))) as condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
    from method_grants as g
    inner join members as m on m.class_key = g.class_key
    where g.target_kind = 'new_role'
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
)

select * from candidate_states
