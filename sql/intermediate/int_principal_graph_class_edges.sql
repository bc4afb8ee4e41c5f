-- int_principal_graph_class_edges
-- The edges of the principal graph as they are found, by class of sources
-- (int_principal_graph_classes): int_principal_graph_edges hands them to the members (a view),
-- so the 2 million edges of a dense organization are never written out with their lists. A row
-- with `only_source` is the edge of that one member (self edges, and the edges found per
-- source: assume-role, write-then-assume, `*+assumed-by`); one without is the edge of every
-- member of `class_key` but its target (and joining a group only for members not in it yet).
-- Methods (`method`):
--   assume-role      int_principal_graph_assume_edges: the assume-role candidates whose identity
--                    side holds (across accounts, or for a trust of the account root or `*`, the
--                    source's identity permissions must allow sts:AssumeRole on the role);
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
-- of the steps it lists (int_policy_set_method_actions_evaluated), so this table stays narrow.
-- `edge_key`: a number naming the row (a hash of its grain), which the search carries instead
-- of the method and `via`.
-- Built per principal bucket (the classes of one bucket's policy sets at a time, against every
-- target): its memory follows a bucket, not the organization (one dense account of 1,000
-- principals has 14 M class edges). Its joins build their hash tables on the side written on the
-- right (DuckDB's `build_side_probe_side` is off while it is built): the estimates of a
-- bucket's candidates are far below the rows read (82 thousand for 448 thousand on forty
-- adversarial accounts), and DuckDB otherwise built its look-ups of the organization's ARNs on
-- them, so the bucket's memory grew with the organization (1.8 GB on forty accounts against
-- 1.4 GB on ten; 1.2 GB with this).
-- grain: class_key, only_source, method, target_arn, via_arn
-- partition: principal_bucket
-- disabled_optimizers: build_side_probe_side

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

arn_ids as materialized (
    -- Every ARN the edges name (principals, and what the methods act on: groups, policies,
    -- compute), numbered once: the candidates, the resource checks and the edges carry these
    -- numbers, and the ARNs are joined back only for the rows written out (as text they held
    -- most of this model's memory).
    select arn, (row_number() over (order by arn))::integer as id
    from (
        select principal_arn as arn from int_identities
        union
        select target_arn from int_principal_graph_method_candidates
        union
        select via_arn from int_principal_graph_method_candidates
        union
        select source_arn from int_principal_graph_assume_candidates
        union
        select target_arn from int_principal_graph_assume_candidates
        union
        select user_arn from raw_iam_group_memberships
        union
        select group_arn from raw_iam_group_memberships
    )
    where arn is not null
),

set_ids as materialized (
    -- The policy sets, numbered.
    select policy_set_key, (row_number() over (order by policy_set_key))::integer as set_id
    from (select distinct policy_set_key from int_principal_policy_sets)
),

identities as (
    select n.id as principal_id, i.principal_type, i.account_id, i.is_sso_reserved,
        i.is_service_linked, i.principal_arn
    from int_identities as i
    inner join arn_ids as n on n.arn = i.principal_arn
),

memberships as (
    select u.id as user_id, g.id as group_id, split_part(ms.group_arn, ':', 5) as group_account_id
    from raw_iam_group_memberships as ms
    inner join arn_ids as u on u.arn = ms.user_arn
    inner join arn_ids as g on g.arn = ms.group_arn
),

protected_roles as (
    -- IAM Identity Center and service-linked roles: AWS refuses any change to their policies or
    -- trust (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html,
    -- https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
    select principal_id
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

members as (
    select n.id as principal_id, m.class_key, s.set_id, m.principal_type, m.account_id,
        m.scp_applies
    from int_principal_graph_classes as m
    inner join arn_ids as n on n.arn = m.principal_arn
    inner join set_ids as s on s.policy_set_key = m.policy_set_key
),

classes as (
    select distinct class_key, set_id, principal_type, account_id, scp_applies
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
        s.set_id,
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
    from int_policy_set_method_actions_evaluated as e
    inner join set_ids as s on s.policy_set_key = e.policy_set_key
    left join deny_condition_keys as d
        on d.policy_set_key = e.policy_set_key
        and d.action = e.action
    where e.is_effective
        and e.action in (select action from method_actions)
),

class_evaluated as (
    select
        c.class_key, c.set_id, c.principal_type, c.account_id, e.action, e.is_conditional,
        e.condition_keys
    from classes as c
    inner join set_evaluated as e on e.set_id = c.set_id
),

set_denies as (
    select s.set_id, d.action, d.has_condition, d.condition_keys, d.resources, d.not_resources
    from int_set_deny_actions as d
    inner join set_ids as s on s.policy_set_key = d.policy_set_key
    where d.action in (select action from method_actions)
),

scp_denies as (
    -- The SCP Denies of each policy set, their Conditions decided for it
    -- (int_policy_set_scp_statements: a Deny that does not apply to the set's principals is not
    -- there, one decided to apply is unconditional, one left open keeps the request keys it
    -- needs), with the actions they name (int_scp_deny_actions).
    select
        k.set_id,
        d.action,
        s.has_condition,
        s.condition_keys,
        s.resources,
        s.not_resources
    from int_policy_set_scp_statements as s
    inner join set_ids as k on k.policy_set_key = s.policy_set_key
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

candidate_states as not materialized (
    -- The method candidates, as numbers.
    select
        c.class_key,
        o.id as only_source,
        c.method_id,
        t.id as target_id,
        v.id as via_id,
        c.resource_actions,
        c.compute_presumed,
        c.is_conditional,
        c.condition_keys,
        c.target_state_known,
        c.state_allows
    from int_principal_graph_method_candidates as c
    left join arn_ids as o on o.arn = c.only_source
    left join arn_ids as t on t.arn = c.target_arn
    left join arn_ids as v on v.arn = c.via_arn
),

assume_candidates as not materialized (
    -- The assume-role candidates, as numbers.
    select
        s.id as source_id,
        t.id as target_id,
        a.needs_identity_allow,
        a.trust_conditional,
        a.trust_condition_keys,
        a.trust_statements
    from int_principal_graph_assume_candidates as a
    left join arn_ids as s on s.arn = a.source_arn
    left join arn_ids as t on t.arn = a.target_arn
),

modify_grants as (
    -- Classes that can write the policies of users, roles or groups (at action level).
    select
        e.class_key,
        e.set_id,
        e.account_id,
        m.method_id,
        m.action,
        m.written_type,
        e.is_conditional,
        e.condition_keys
    from class_evaluated as e
    inner join modify_actions as m on m.action = e.action
),

class_act_targets as (
    -- Principals a class may act as through a method, before the resource checks.
    select distinct class_key, target_id
    from candidate_states
    where method_id in ('create-access-key', 'create-login-profile', 'update-login-profile',
        'update-assume-role-policy')
        and coalesce(state_allows, true)
),

assumed_targets as (
    -- Roles a member may assume, by class (before the resource checks).
    select distinct m.class_key, a.target_id
    from assume_candidates as a
    inner join members as m on m.principal_id = a.source_id
),

assumers as (
    -- (principal, role it may assume), by the role's class: whoever holds a session of the role
    -- came from one of them (before the resource checks).
    select m.class_key, a.source_id as assumer_id, a.target_id as role_id
    from assume_candidates as a
    inner join members as m on m.principal_id = a.target_id
),

act_targets as (
    -- Only the principals a class may act as are worth writing an administrator policy into:
    -- those it has credentials of or may assume, and those that may assume a member.
    select class_key, target_id from class_act_targets
    union
    select class_key, target_id from assumed_targets
    union
    select class_key, assumer_id as target_id from assumers
),

modify_candidates as materialized (
    -- A class can write the policies of a principal of its account it may act as (directly,
    -- or through a group the user belongs to): `via_id` is what it writes to, `target_id` the
    -- principal whose power grows (never the member itself: see the expansion). Joined from
    -- the principals it may act as, not filtered from every principal of the account (the
    -- class × account product held the memory).
    select
        g.class_key,
        g.set_id,
        g.method_id,
        g.action,
        t.principal_id as target_id,
        t.principal_id as via_id,
        g.is_conditional,
        g.condition_keys
    from act_targets as a
    inner join modify_grants as g on g.class_key = a.class_key
    inner join identities as t
        on t.principal_id = a.target_id
        and t.account_id = g.account_id
        and t.principal_type = g.written_type
    where g.written_type in ('user', 'role')
        and t.principal_id not in (select principal_id from protected_roles)

    union all

    select
        g.class_key,
        g.set_id,
        g.method_id,
        g.action,
        ms.user_id as target_id,
        ms.group_id as via_id,
        g.is_conditional,
        g.condition_keys
    from act_targets as a
    inner join modify_grants as g on g.class_key = a.class_key
    inner join memberships as ms
        on ms.user_id = a.target_id
        and ms.group_account_id = g.account_id
    where g.written_type = 'group'
),

assumer_joins as (
    -- A role that may add users to groups, and a user that may assume it: the session's holder
    -- (that user) can be added to any group of the account it is not in.
    select distinct
        a.class_key,
        a.role_id,
        a.assumer_id,
        g.group_id,
        e.is_conditional,
        e.condition_keys
    from assumers as a
    inner join class_evaluated as e
        on e.class_key = a.class_key
        and e.action = 'iam:addusertogroup'
        and e.principal_type = 'role'
    inner join identities as u on u.principal_id = a.assumer_id and u.principal_type = 'user'
    inner join (
        select principal_id as group_id, account_id from identities where principal_type = 'group'
    ) as g on g.account_id = u.account_id
    where not exists (
        select 1 from memberships as ms
        where ms.user_id = a.assumer_id and ms.group_id = g.group_id
    )
),

assumer_join_sets as not materialized (
    select j.*, k.set_id
    from assumer_joins as j
    inner join classes as k on k.class_key = j.class_key
),

candidate_sets as materialized (
    -- The method candidates, numbered (the checks below are aggregated per number), with the
    -- class's policy set.
    select
        (row_number() over ())::integer as cid,
        c.*,
        k.set_id
    from candidate_states as c
    inner join classes as k on k.class_key = c.class_key
    where coalesce(c.state_allows, true)
),

check_ids as (
    -- (policy set, action, resource): the resources the candidate edges' actions must be
    -- granted on (and not denied on).
    select distinct set_id, a.action, via_id as resource_id
    from candidate_sets, unnest(resource_actions) as a(action)
    union
    -- a rewritten trust policy names the source: only a Deny can stop the assumption
    select set_id, 'sts:assumerole' as action, target_id as resource_id
    from candidate_sets
    where method_id = 'update-assume-role-policy'
    union
    select set_id, action, via_id as resource_id
    from modify_candidates
    union
    select set_id, 'iam:addusertogroup' as action, group_id as resource_id
    from assumer_join_sets
),

checks as materialized (
    select set_id, action, resource_id from check_ids
),

check_grants as (
    select c.set_id, c.action, c.resource_id, e.is_conditional, e.condition_keys
    from checks as c
    inner join set_evaluated as e on e.set_id = c.set_id and e.action = c.action
    left join (select id, arn as resource_arn from arn_ids) as r on r.id = c.resource_id
    where list_contains(e.granted_resources, '*') or list_bool_or(list_transform(
        e.granted_resources,
        lambda p: case
            when starts_with(p, '!') then not like_escape(
                r.resource_arn,
                replace(replace(replace(replace(replace(
                    substr(p, 2), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
            else like_escape(
                r.resource_arn,
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
    select d.*, r.arn as resource_arn
    from (
        select c.set_id, c.action, c.resource_id, d.has_condition, d.condition_keys,
            d.resources, d.not_resources
        from checks as c
        inner join set_denies as d on d.set_id = c.set_id and d.action = c.action
        union all
        select c.set_id, c.action, c.resource_id, d.has_condition, d.condition_keys,
            d.resources, d.not_resources
        from checks as c
        inner join scp_denies as d on d.set_id = c.set_id and d.action = c.action
    ) as d
    left join arn_ids as r on r.id = d.resource_id
),

set_deny_hits as (
    -- Denies whose Resource (or NotResource) covers the checked resource; `deny_condition_keys`:
    -- the request keys of the conditional ones.
    select
        set_id,
        action,
        resource_id,
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
    group by set_id, action, resource_id
),

set_allowed as (
    select
        g.set_id,
        g.action,
        g.resource_id,
        g.is_conditional or coalesce(h.conditionally_denied, false) as is_conditional,
        list_distinct(list_concat(g.condition_keys, coalesce(h.deny_condition_keys, [])))
            as condition_keys
    from check_grants as g
    left join set_deny_hits as h
        on h.set_id = g.set_id
        and h.action = g.action
        and h.resource_id = g.resource_id
    where not coalesce(h.denied, false)
),

assume_denies as (
    select * from set_deny_hits where action = 'sts:assumerole'
),

candidate_actions as materialized (
    select cid, set_id, via_id, unnest(list_distinct(resource_actions)) as action
    from candidate_sets
),

candidate_checks as (
    -- Per candidate, how many of its resource actions hold on `via_id`, and on what Conditions.
    select
        a.cid,
        count(*) as allowed_actions,
        bool_or(r.is_conditional) as is_conditional,
        flatten(list(r.condition_keys)) as condition_keys
    from candidate_actions as a
    inner join set_allowed as r
        on r.set_id = a.set_id
        and r.resource_id = a.via_id
        and r.action = a.action
    group by a.cid
),

method_edges as materialized (
    select
        c.class_key,
        c.only_source,
        c.method_id as method,
        c.target_id,
        c.via_id,
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
            list_distinct(c.resource_actions), lambda a: {'action': a, 'resource': v.arn}
        ) as checked
    from candidate_sets as c
    inner join methods as m on m.method_id = c.method_id
    left join arn_ids as v on v.id = c.via_id
    left join candidate_checks as k on k.cid = c.cid
    left join assume_denies as d
        on c.method_id = 'update-assume-role-policy'
        and d.set_id = c.set_id
        and d.resource_id = c.target_id
    where coalesce(k.allowed_actions, 0) = len(list_distinct(c.resource_actions))
        and not coalesce(d.denied, false)
),

assume_edges as materialized (
    -- The assume-role edges (int_principal_graph_assume_edges, built for the whole organization:
    -- the `*+assumed-by` edges of a bucket's roles need those of whoever may assume them).
    select
        s.id as source_id,
        'assume-role' as method,
        t.id as target_id,
        t.id as via_id,
        false as compute_presumed,
        null::boolean as target_state_known,
        e.is_conditional,
        e.condition_keys,
        e.actions,
        e.checked,
        e.trust_statements
    from int_principal_graph_assume_edges as e
    inner join arn_ids as s on s.arn = e.source_arn
    inner join arn_ids as t on t.arn = e.target_arn
),

modify_allowed as (
    -- The writes that hold on their resource (`via_arn`: what it writes to, for the evidence).
    select
        m.class_key,
        m.method_id,
        m.action,
        m.target_id,
        m.via_id,
        v.arn as via_arn,
        m.is_conditional or r.is_conditional as is_conditional,
        list_distinct(list_concat(m.condition_keys, r.condition_keys)) as condition_keys
    from modify_candidates as m
    inner join set_allowed as r
        on r.set_id = m.set_id
        and r.action = m.action
        and r.resource_id = m.via_id
    left join arn_ids as v on v.id = m.via_id
),

class_combo_edges as (
    -- Write an administrator policy into another principal, then act as it through a method
    -- of the class (its credentials, or a rewritten trust): one edge whose target becomes an
    -- administrator.
    select
        m.class_key,
        null::integer as only_source,
        m.method_id || '+' || a.method as method,
        m.target_id,
        m.via_id,
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
        and a.target_id = m.target_id
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
        a.source_id,
        m.method_id || '+' || a.method as method,
        m.target_id,
        m.via_id,
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
    inner join members as s on s.principal_id = a.source_id
    inner join modify_allowed as m on m.class_key = s.class_key and m.target_id = a.target_id
),

assumed_by_edges as (
    -- A role writes an administrator policy into a principal that may assume it (the user or
    -- role itself, or a group of the user): the session's holder came from that principal, so
    -- it holds its credentials. `trust_statements`: the trust admitting that principal.
    select
        m.role_id as source_id,
        w.method_id || '+assumed-by' as method,
        w.target_id,
        w.via_id,
        false as compute_presumed,
        null::boolean as target_state_known,
        w.is_conditional or a.is_conditional as is_conditional,
        list_sort(list_distinct(list_concat(w.condition_keys, a.condition_keys)))
            as condition_keys,
        [w.action] as actions,
        [{'action': w.action, 'resource': w.via_arn}] as checked,
        a.trust_statements,
        true as makes_target_admin
    from (select distinct class_key, assumer_id, role_id from assumers) as m
    inner join assume_edges as a on a.source_id = m.assumer_id and a.target_id = m.role_id
    inner join modify_allowed as w on w.class_key = m.class_key and w.target_id = m.assumer_id

    union all

    -- A role adds a user that may assume it to a group: the session's holder acts through the
    -- group's policies (`via`: the user added).
    select
        j.role_id as source_id,
        'add-user-to-group+assumed-by' as method,
        j.group_id as target_id,
        j.assumer_id as via_id,
        false as compute_presumed,
        null::boolean as target_state_known,
        j.is_conditional or r.is_conditional or a.is_conditional as is_conditional,
        list_sort(list_distinct(list_concat(j.condition_keys, r.condition_keys, a.condition_keys)))
            as condition_keys,
        ['iam:addusertogroup'] as actions,
        [{'action': 'iam:addusertogroup', 'resource': g.arn}] as checked,
        a.trust_statements,
        false as makes_target_admin
    from assumer_join_sets as j
    inner join assume_edges as a on a.source_id = j.assumer_id and a.target_id = j.role_id
    inner join set_allowed as r
        on r.set_id = j.set_id
        and r.action = 'iam:addusertogroup'
        and r.resource_id = j.group_id
    left join arn_ids as g on g.id = j.group_id
),

source_edges as (
    -- The edges found per source, as edges of that one member of its class.
    select * from (
        -- a source's own assume-role edges (only the class's members: the edges of the others
        -- are their buckets')
        select *, false as makes_target_admin from assume_edges
        where source_id in (select principal_id from members)
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
        target_id,
        via_id,
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
        e.source_id as only_source,
        e.method,
        e.target_id,
        e.via_id,
        e.makes_target_admin,
        e.is_conditional,
        e.condition_keys,
        e.compute_presumed,
        e.target_state_known,
        e.actions,
        e.checked,
        e.trust_statements
    from source_edges as e
    left join members as m on m.principal_id = e.source_id
),

arn_list as materialized (
    -- every ARN at its number (ids count from 1, as lists do)
    select list(arn order by id) as arns from arn_ids
),

named_edges as (
    -- The ARNs looked up by number, for the rows written out (joins to arn_ids were built on the
    -- side the planner expects to be small: the edges, lists and all, millions of them).
    select
        e.class_key,
        l.arns[e.only_source] as only_source,
        e.method,
        l.arns[e.target_id] as target_arn,
        l.arns[e.via_id] as via_arn,
        e.makes_target_admin,
        e.is_conditional,
        e.condition_keys,
        e.compute_presumed,
        e.target_state_known,
        e.actions,
        e.checked,
        e.trust_statements
    from all_edges as e
    cross join arn_list as l
),

final as (
    select
        hash(class_key, only_source, method, target_arn, via_arn) as edge_key,
        *
    from named_edges
)

select * from final
