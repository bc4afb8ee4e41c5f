-- int_principal_graph_class_edges
-- The edges of the principal graph as they are found, by class of sources
-- (int_principal_graph_classes): int_principal_graph_edges hands them to the members (a view),
-- so the 2 million edges of a dense organization are never written out with their lists. A row
-- with `only_source` is the edge of that one member (self edges, and the edges found per
-- source: assume-role, write-then-assume, `*+assumed-by`); one without is the edge of every
-- member of `class_key` but its target (and joining a group only for members not in it yet).
-- Methods (`method`):
--   assume-role      int_principal_graph_assume_candidates whose identity side holds: across
--                    accounts, or for a trust of the account root or `*`, the source's identity
--                    permissions must allow sts:AssumeRole on the role;
--   ref_privesc_methods (int_principal_graph_method_candidates: self edges, credentials of
--                    other users, groups to join, trusts to rewrite, roles to pass, compute to
--                    take over);
--   W+A              write an administrator policy into a user or role (W: attach/put a user or
--                    role policy, or a group policy of the user's group) and then act as it (A:
--                    assume-role, update-assume-role-policy, create-access-key,
--                    create-login-profile, update-login-profile): `makes_target_admin`;
--   W+assumed-by     a role writes an administrator policy into a principal whose own trust
--                    lets it assume the role (or into the user's group): whoever holds the role's
--                    session came from that principal, so it holds its credentials
--                    (`makes_target_admin`; `trust_statements`: the trust admitting it);
--   add-user-to-group+assumed-by   a role adds a user that may assume it to a group (target:
--                    the group, `via_arn`: the user).
-- The actions that name a resource (`checked`: {action, resource}) must be granted on that
-- resource for the source's policy set (the target user, group, role or policy, or the
-- compute), and an unconditional Deny of the source's policies, boundary or SCPs naming that
-- resource breaks the edge. The SCP Denies are the policy set's (int_policy_set_scp_statements):
-- their Conditions decided for the set's principals as the evaluation models decide them, so a
-- Deny the snapshot decides does not apply (a region restriction exempting a role by
-- `aws:PrincipalArn`) is not there, one decided to apply is unconditional, and only one left
-- open by request keys makes the edge conditional. `is_conditional`: some action is allowed
-- only under a Condition (of the Allow, the boundary, an SCP, or a conditional Deny covering the
-- resource), or a trust statement that admits the source has a Condition: the edge is kept and
-- marked; `condition_keys`: the lower-cased request keys those Conditions still need (empty
-- for an unconditional edge; a conditional edge whose keys are not known has none either).
-- `actions` are the edge's IAM actions; privilege_escalation_paths adds the granting statements
-- of the steps it lists (int_policy_set_actions_evaluated), so this table stays narrow.
-- `edge_key`: a number naming the row (a hash of its grain), which the search carries instead
-- of the method and `via`.
-- grain: class_key, only_source, method, target_arn, via_arn

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
    select * from int_principal_graph_classes
),

classes as (
    select distinct class_key, policy_set_key, principal_type, account_id, scp_applies
    from members
),

deny_condition_keys as (
    -- The request keys of the set's conditional Denies on an action (identity policies,
    -- boundary, and SCPs as decided for the set). The graph weighs Denies per resource, so the
    -- keys only Denies name are not the grant's (an action's `condition_keys` lists both).
    select policy_set_key, action, list_distinct(flatten(list(condition_keys))) as keys
    from (
        select policy_set_key, action, condition_keys
        from int_set_deny_actions
        where has_condition and action in (select action from method_actions)
        union all
        select s.policy_set_key, d.action, s.condition_keys
        from int_policy_set_scp_statements as s
        inner join int_scp_deny_actions as d
            on d.account_id = s.account_id
            and d.node_id = s.node_id
            and d.policy_key = s.policy_key
            and d.statement_index = s.statement_index
        where s.effect = 'Deny'
            and s.has_condition
            and d.action in (select action from method_actions)
    )
    group by policy_set_key, action
),

set_evaluated as (
    -- Only the actions some edge needs, effective for the policy set; `condition_keys`: the
    -- keys of the conditional grant (Allow, boundary, SCP Allow), not of the Denies.
    select
        e.policy_set_key,
        e.action,
        e.is_conditional,
        case
            when e.is_conditional then list_filter(
                coalesce(e.condition_keys, []),
                lambda k: not list_contains(coalesce(d.keys, []), k)
            )
            else []
        end as condition_keys,
        e.granted_resources
    from int_policy_set_actions_evaluated as e
    left join deny_condition_keys as d
        on d.policy_set_key = e.policy_set_key
        and d.action = e.action
    where e.is_effective
        and e.action in (select action from method_actions)
),

class_evaluated as (
    select
        c.class_key, c.principal_type, c.account_id, e.action, e.is_conditional, e.condition_keys
    from classes as c
    inner join set_evaluated as e on e.policy_set_key = c.policy_set_key
),

set_denies as (
    select policy_set_key, action, has_condition, condition_keys, resources, not_resources
    from int_set_deny_actions
    where action in (select action from method_actions)
),

scp_denies as (
    -- The SCP Denies of each policy set, their Conditions decided for it
    -- (int_policy_set_scp_statements: a Deny that does not apply to the set's principals is not
    -- there, one decided to apply is unconditional, one left open keeps the request keys it
    -- needs), with the actions they name (int_scp_deny_actions).
    select
        s.policy_set_key,
        d.action,
        s.has_condition,
        s.condition_keys,
        s.resources,
        s.not_resources
    from int_policy_set_scp_statements as s
    inner join int_scp_deny_actions as d
        on d.account_id = s.account_id
        and d.node_id = s.node_id
        and d.policy_key = s.policy_key
        and d.statement_index = s.statement_index
    where s.effect = 'Deny'
        and d.action in (select action from method_actions)
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
    select * from int_principal_graph_method_candidates
),

assume_candidates as (
    select * from int_principal_graph_assume_candidates
),

modify_grants as (
    -- Classes that can write the policies of users, roles or groups (at action level).
    select
        e.class_key,
        e.account_id,
        m.method_id,
        m.action,
        m.written_type,
        e.is_conditional,
        e.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        g.is_conditional,
        g.condition_keys
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
        e.is_conditional,
        e.condition_keys
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

candidate_sets as materialized (
    -- The method candidates, numbered (the checks below are aggregated per number), with the
    -- class's policy set.
    select
        (row_number() over ())::integer as cid,
        c.*,
        k.policy_set_key,
        k.account_id as source_account_id,
        k.scp_applies
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
    select distinct policy_set_key, a.action, via_arn as resource_arn
    from candidate_sets, unnest(resource_actions) as a(action)
    union
    select policy_set_key, 'sts:assumerole' as action, target_arn as resource_arn
    from assume_sets
    union
    -- a rewritten trust policy names the source: only a Deny can stop the assumption
    select policy_set_key, 'sts:assumerole' as action, target_arn as resource_arn
    from candidate_sets
    where method_id = 'update-assume-role-policy'
    union
    select policy_set_key, action, via_arn as resource_arn
    from modify_sets
    union
    select policy_set_key, 'iam:addusertogroup' as action, group_arn as resource_arn
    from assumer_join_sets
),

check_grants as (
    select c.policy_set_key, c.action, c.resource_arn, e.is_conditional, e.condition_keys
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
    -- Every Deny of the set (identity policies, boundary, and its SCPs as decided for it) on a
    -- checked action, granted or not (a trust naming the source needs no grant).
    select c.policy_set_key, c.action, c.resource_arn, d.has_condition, d.condition_keys,
        d.resources, d.not_resources
    from checks as c
    inner join set_denies as d on d.policy_set_key = c.policy_set_key and d.action = c.action
    union all
    select c.policy_set_key, c.action, c.resource_arn, d.has_condition, d.condition_keys,
        d.resources, d.not_resources
    from checks as c
    inner join scp_denies as d on d.policy_set_key = c.policy_set_key and d.action = c.action
),

set_deny_hits as (
    -- Denies whose Resource (or NotResource) covers the checked resource; `deny_condition_keys`:
    -- the request keys of the conditional ones.
    select
        policy_set_key,
        action,
        resource_arn,
        bool_or(not has_condition) as denied,
        bool_or(has_condition) as conditionally_denied,
        list_sort(list_distinct(flatten(
            list(coalesce(condition_keys, [])) filter (where has_condition)
        ))) as deny_condition_keys
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
        g.is_conditional or coalesce(h.conditionally_denied, false) as is_conditional,
        list_distinct(list_concat(g.condition_keys, coalesce(h.deny_condition_keys, [])))
            as condition_keys
    from check_grants as g
    left join set_deny_hits as h
        on h.policy_set_key = g.policy_set_key
        and h.action = g.action
        and h.resource_arn = g.resource_arn
    where not coalesce(h.denied, false)
),

assume_denies as (
    select * from set_deny_hits where action = 'sts:assumerole'
),

candidate_actions as materialized (
    select cid, policy_set_key, via_arn, unnest(list_distinct(resource_actions)) as action
    from candidate_sets
),

candidate_checks as (
    -- Per candidate, how many of its resource actions hold on `via_arn`, and on what Conditions.
    select
        a.cid,
        count(*) as allowed_actions,
        bool_or(r.is_conditional) as is_conditional,
        flatten(list(r.condition_keys)) as condition_keys
    from candidate_actions as a
    inner join set_allowed as r
        on r.policy_set_key = a.policy_set_key
        and r.resource_arn = a.via_arn
        and r.action = a.action
    group by a.cid
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
        c.is_conditional
            or coalesce(k.is_conditional, false)
            or coalesce(d.conditionally_denied, false) as is_conditional,
        list_sort(list_distinct(list_concat(
            c.condition_keys,
            coalesce(k.condition_keys, []),
            coalesce(d.deny_condition_keys, [])
        ))) as condition_keys,
        list_distinct(list_concat(m.required_actions, m.target_actions)) as actions,
        list_transform(
            list_distinct(c.resource_actions), lambda a: {'action': a, 'resource': c.via_arn}
        ) as checked
    from candidate_sets as c
    inner join methods as m on m.method_id = c.method_id
    left join candidate_checks as k on k.cid = c.cid
    left join assume_denies as d
        on c.method_id = 'update-assume-role-policy'
        and d.policy_set_key = c.policy_set_key
        and d.resource_arn = c.target_arn
    where coalesce(k.allowed_actions, 0) = len(list_distinct(c.resource_actions))
        and not coalesce(d.denied, false)
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
        list_sort(list_distinct(list_concat(
            a.trust_condition_keys,
            coalesce(r.condition_keys, []),
            coalesce(d.deny_condition_keys, [])
        ))) as condition_keys,
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
    left join assume_denies as d
        on d.policy_set_key = a.policy_set_key
        and d.resource_arn = a.target_arn
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
        m.is_conditional or r.is_conditional as is_conditional,
        list_distinct(list_concat(m.condition_keys, r.condition_keys)) as condition_keys
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
        list_sort(list_distinct(list_concat(m.condition_keys, a.condition_keys)))
            as condition_keys,
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
        list_sort(list_distinct(list_concat(m.condition_keys, a.condition_keys)))
            as condition_keys,
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
        list_sort(list_distinct(list_concat(w.condition_keys, a.condition_keys)))
            as condition_keys,
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
        list_sort(list_distinct(list_concat(j.condition_keys, r.condition_keys, a.condition_keys)))
            as condition_keys,
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

source_edges as (
    -- The edges found per source, as edges of that one member of its class.
    select * from (
        select *, false as makes_target_admin from assume_edges
        union all by name
        select * from assume_combo_edges
        union all by name
        select * from assumed_by_edges
    ) as e
),

all_edges as (
    select
        class_key,
        only_source,
        method,
        target_arn,
        via_arn,
        makes_target_admin,
        is_conditional,
        condition_keys,
        compute_presumed,
        target_state_known,
        actions,
        checked,
        trust_statements
    from class_edges

    union all

    select
        m.class_key,
        e.source_arn as only_source,
        e.method,
        e.target_arn,
        e.via_arn,
        e.makes_target_admin,
        e.is_conditional,
        e.condition_keys,
        e.compute_presumed,
        e.target_state_known,
        e.actions,
        e.checked,
        e.trust_statements
    from source_edges as e
    left join members as m on m.principal_arn = e.source_arn
),

final as (
    select
        hash(class_key, only_source, method, target_arn, via_arn) as edge_key,
        *
    from all_edges
)

select * from final
