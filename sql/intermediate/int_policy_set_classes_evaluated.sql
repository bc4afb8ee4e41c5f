-- int_policy_set_classes_evaluated
-- For every policy set (see int_principal_policy_sets) and every action class of it
-- (int_policy_set_action_classes) that its identity policies allow: the granting statements and
-- the resource patterns they grant, whether the permission boundary and every SCP level allow the
-- class, and what explicit Denies take back. All actions of a class are covered by the same
-- statements, so they have the same answer: int_policy_set_actions_evaluated gives it to each.
-- Each Deny is evaluated with its own Resource and Condition (see int_policy_set_grants): the
-- class is removed when every granting statement is cut by an unconditional Deny; a
-- conditional Deny that covers a grant makes it conditional (allowed only when the Deny's
-- condition does not hold), it never removes it. `${aws:username}` and `${aws:PrincipalAccount}`
-- in Resource are substituted with the representative principal's values (such principals have
-- a set of their own; see int_policy_set_statements). Resource intersection with the boundary
-- and SCPs is evaluated at action level here; `ciem explain` evaluates it per resource.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
-- grain: policy_set_key, class_key
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

set_statements as materialized (
    select * from int_policy_set_statements
),

grants as (
    -- `action` here, and up to class_results: the action class
    select *, class_key as action from int_policy_set_grants
),

class_statements as materialized (
    select * from int_policy_set_class_statements
),

scp_levels as (
    select * from int_account_scp_levels
),

boundary_statements as (
    select * from set_statements
    where source = 'boundary'
),

scp_statements as (
    -- the set's SCP statements, their Conditions resolved for it
    select * from int_policy_set_scp_statements
),

grant_statements as (
    -- One row per granting statement of a set: what a surviving grant contributes to the lists.
    select
        policy_set_key,
        grant_id,
        condition_keys,
        case
            when not_resources is not null then list_transform(not_resources, lambda r: '!' || r)
            else coalesce(resources, ['*'])
        end as grant_resources,
        {
            'policy': policy_name,
            'policy_arn': policy_arn,
            'kind': attachment,
            'statement': statement_index,
            'sid': sid,
            'via': via,
            'conditional': has_condition
        } as grant_entry
    from set_statements
    where source = 'identity' and effect = 'Allow'
),

denies as (
    -- The Denies of each set: identity policies, boundary and its account's SCPs.
    select
        policy_set_key,
        class_key as action,
        has_condition,
        applies_to_all_resources,
        resources,
        not_resources,
        condition_keys
    from int_policy_set_class_denies
),

deny_summary as (
    select
        policy_set_key,
        action,
        bool_or(has_condition or not applies_to_all_resources) as partial_deny,
        list_sort(list_distinct(flatten(list(
            case
                when not_resources is not null then list_transform(not_resources, lambda r: '!' || r)
                else coalesce(resources, ['*'])
            end
        )))) as denied_resources,
        list_sort(list_distinct(flatten(list(condition_keys) filter (where has_condition))))
            as deny_condition_keys
    from denies
    group by all
),

identity_allows as (
    -- Aggregates over the grants that survive the Denies; when none does, the action is removed
    -- and the flags fall back to every grant (to say what was there).
    select
        policy_set_key,
        action,
        bool_and(is_cut) as is_removed,
        bool_and(is_cut_by_identity) as denied_by_identity,
        bool_and(is_cut_by_boundary) as denied_by_boundary,
        bool_and(is_cut_by_scp) as denied_by_scp,
        coalesce(
            bool_or(not has_condition) filter (where not is_cut), bool_or(not has_condition)
        ) as has_unconditional_allow,
        coalesce(
            bool_or(not has_condition and applies_to_all_resources) filter (where not is_cut),
            bool_or(not has_condition and applies_to_all_resources)
        ) as allows_all_unconditionally,
        coalesce(
            bool_and(has_condition or is_conditionally_denied) filter (where not is_cut),
            bool_and(has_condition)
        ) as allow_is_conditional,
        coalesce(
            bool_and(not applies_to_all_resources) filter (where not is_cut),
            bool_and(not applies_to_all_resources)
        ) as resource_scoped,
        coalesce(list_sort(list(grant_key) filter (where not is_cut)), []) as grant_keys
    from grants
    group by policy_set_key, action
),

identity_allows_keyed as (
    select *, md5(array_to_string(grant_keys, chr(31))) as combination_key
    from identity_allows
),

grant_combinations as (
    -- The lists (granting statements, resources, condition keys) depend only on which grants
    -- survive: computed once per distinct combination, not per action.
    select policy_set_key, combination_key, any_value(grant_keys) as grant_keys
    from identity_allows_keyed
    group by policy_set_key, combination_key
),

combination_lists as (
    select
        c.policy_set_key,
        c.combination_key,
        to_json(list_sort(list(g.grant_entry)))::varchar as granted_by_json,
        list_sort(list_distinct(flatten(list(
            list_filter(g.grant_resources, lambda r: not list_contains(k.cut, r))
        )))) as granted_resources,
        list_sort(list_distinct(flatten(list(g.condition_keys)))) as allow_condition_keys
    from grant_combinations as c,
        unnest(c.grant_keys) as u(grant_key),
        (
            select
                split_part(u.grant_key, chr(30), 1) as grant_id,
                case
                    when contains(u.grant_key, chr(30))
                        then string_split(split_part(u.grant_key, chr(30), 2), chr(29))
                    else []
                end as cut
        ) as k
    inner join grant_statements as g
        on g.policy_set_key = c.policy_set_key
        and g.grant_id = k.grant_id
    group by c.policy_set_key, c.combination_key
),

boundary_actions as (
    select
        b.policy_set_key,
        e.class_key as action,
        bool_or(b.effect = 'Allow') as allows,
        bool_or(b.effect = 'Allow' and not b.has_condition) as allows_unconditionally,
        bool_or(b.effect = 'Allow' and not b.has_condition and b.applies_to_all_resources)
            as allows_all_unconditionally,
        list_sort(list_distinct(flatten(list(b.condition_keys) filter (where b.effect = 'Allow'))))
            as condition_keys
    from boundary_statements as b
    inner join class_statements as e
        on e.policy_set_key = b.policy_set_key
        and e.policy_key = b.policy_key
        and e.statement_index = b.statement_index
    group by all
),

scp_level_count as (
    select account_id, count(distinct node_id) as levels
    from scp_levels
    group by account_id
),

scp_actions_by_level as (
    select
        st.policy_set_key,
        st.account_id,
        s.node_id,
        e.class_key as action,
        bool_or(s.effect = 'Allow') as allows,
        bool_or(s.effect = 'Allow' and not s.has_condition) as allows_unconditionally
    from sets as st
    inner join scp_statements as s on s.policy_set_key = st.policy_set_key
    inner join class_statements as e
        on e.policy_set_key = st.policy_set_key
        and e.policy_key = s.policy_key
        and e.statement_index = s.statement_index
    where st.scp_applies
    group by all
),

scp_actions as (
    select
        a.policy_set_key,
        a.action,
        count(distinct a.node_id) filter (where a.allows) = max(c.levels) as allows,
        count(distinct a.node_id) filter (where a.allows_unconditionally) = max(c.levels)
            as allows_unconditionally
    from scp_actions_by_level as a
    inner join scp_level_count as c on c.account_id = a.account_id
    group by a.policy_set_key, a.action
),

class_results as (
    select
        st.policy_set_key,
        a.action as class_key,
        a.has_unconditional_allow,
        a.allows_all_unconditionally,
        a.resource_scoped,
        -- granted_by as JSON only: int_principal_actions_evaluated parses it where needed
        coalesce(cl.granted_by_json, '[]') as granted_by_json,
        coalesce(cl.granted_resources, []) as granted_resources,
        coalesce(ds.denied_resources, []) as denied_resources,
        list_sort(list_distinct(list_concat(
            coalesce(cl.allow_condition_keys, []),
            coalesce(b.condition_keys, []),
            coalesce(ds.deny_condition_keys, [])
        ))) as condition_keys,
        st.boundary_policy_key is not null as has_boundary,
        coalesce(b.allows, false) as boundary_allows,
        coalesce(b.allows_all_unconditionally, false) as boundary_allows_all_unconditionally,
        st.scp_applies,
        coalesce(s.allows, false) as scp_allows,
        a.denied_by_identity,
        a.denied_by_boundary,
        st.scp_applies and a.denied_by_scp as denied_by_scp,
        coalesce(ds.partial_deny, false)
            and not a.is_removed as has_partial_deny,
        a.allow_is_conditional
            or (st.boundary_policy_key is not null and not coalesce(b.allows_unconditionally, false))
            or (st.scp_applies and not coalesce(s.allows_unconditionally, false)) as is_conditional,
        (st.boundary_policy_key is null or coalesce(b.allows, false))
            and (not st.scp_applies or coalesce(s.allows, false))
            and not a.is_removed as is_effective
    from identity_allows_keyed as a
    inner join sets as st on st.policy_set_key = a.policy_set_key
    left join combination_lists as cl
        on cl.policy_set_key = a.policy_set_key
        and cl.combination_key = a.combination_key
    left join deny_summary as ds
        on ds.policy_set_key = a.policy_set_key
        and ds.action = a.action
    left join boundary_actions as b
        on b.policy_set_key = a.policy_set_key
        and b.action = a.action
    left join scp_actions as s
        on st.scp_applies
        and s.policy_set_key = a.policy_set_key
        and s.action = a.action
)

select * from class_results
