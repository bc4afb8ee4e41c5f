-- int_principal_graph_assume_edges
-- The assume-role edges of the principal graph, one row per (source, role): the role's trust
-- policy admits the source (int_principal_graph_assume_candidates) and, where the identity side
-- must allow it too (across accounts, or a trust of the account root or `*`), the source's
-- identity permissions allow sts:AssumeRole on the role (int_policy_set_method_actions_evaluated:
-- identity ∩ boundary ∩ SCPs, granted on the role's ARN); no unconditional Deny of the source's
-- policies, boundary or SCPs (as decided for its policy set, int_policy_set_scp_statements) names
-- the role. `is_conditional`: the trust statement, the grant, or a Deny naming the role has a
-- Condition left open; `condition_keys`: the request keys those Conditions need; `actions` and
-- `checked`: sts:AssumeRole on the role where the identity side was checked. Built for the whole
-- organization, apart from the class edges (built per principal bucket): a role's
-- `W+assumed-by` edges need the assume-role edges of whoever may assume it, in any bucket.
-- grain: source_arn, target_arn

with candidates as (
    select a.*, p.policy_set_key
    from int_principal_graph_assume_candidates as a
    inner join int_principal_policy_sets as p on p.principal_arn = a.source_arn
),

set_denies as materialized (
    -- Every Deny of a candidate's set on sts:AssumeRole: its identity policies and boundary
    -- (int_set_deny_actions), and its SCPs as decided for the set.
    select policy_set_key, has_condition, condition_keys, resources, not_resources
    from int_set_deny_actions
    where action = 'sts:assumerole'
        and policy_set_key in (select policy_set_key from candidates)
    union all
    select s.policy_set_key, s.has_condition, s.condition_keys, s.resources, s.not_resources
    from int_policy_set_scp_statements as s
    inner join int_scp_deny_actions as d
        on d.account_id = s.account_id
        and d.node_id = s.node_id
        and d.policy_key = s.policy_key
        and d.statement_index = s.statement_index
    where s.effect = 'Deny'
        and d.action = 'sts:assumerole'
        and s.policy_set_key in (select policy_set_key from candidates)
),

deny_condition_keys as (
    -- The request keys of the set's conditional Denies: Denies are weighed per role below, so
    -- they are not the grant's keys.
    select policy_set_key, list_distinct(flatten(list(condition_keys))) as keys
    from set_denies
    where has_condition
    group by policy_set_key
),

set_evaluated as (
    -- sts:AssumeRole where it is effective for the set, with the keys of its conditional grant.
    select
        e.policy_set_key,
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
    left join deny_condition_keys as d on d.policy_set_key = e.policy_set_key
    where e.is_effective
        and e.action = 'sts:assumerole'
        and e.policy_set_key in (select policy_set_key from candidates)
),

checks as materialized (
    select distinct policy_set_key, target_arn from candidates
),

check_grants as (
    -- The roles each set's sts:AssumeRole grant covers.
    select c.policy_set_key, c.target_arn, e.is_conditional, e.condition_keys
    from checks as c
    inner join set_evaluated as e on e.policy_set_key = c.policy_set_key
    where list_contains(e.granted_resources, '*') or list_bool_or(list_transform(
        e.granted_resources,
        lambda p: case
            when starts_with(p, '!') then not like_escape(
                c.target_arn,
                replace(replace(replace(replace(replace(
                    substr(p, 2), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
            else like_escape(
                c.target_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        end
    ))
),

applicable_denies as (
    -- Each checked role with every Deny of its set.
    select c.policy_set_key, c.target_arn, d.has_condition, d.condition_keys, d.resources,
        d.not_resources
    from checks as c
    inner join set_denies as d on d.policy_set_key = c.policy_set_key
),

deny_hits as (
    -- Denies whose Resource (or NotResource) covers the role.
    select
        policy_set_key,
        target_arn,
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
                target_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        ))
        else list_bool_or(list_transform(
            coalesce(resources, ['*']),
            lambda p: like_escape(
                target_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        ))
    end
    group by policy_set_key, target_arn
),

allowed as (
    select
        g.policy_set_key,
        g.target_arn,
        g.is_conditional or coalesce(h.conditionally_denied, false) as is_conditional,
        list_distinct(list_concat(g.condition_keys, coalesce(h.deny_condition_keys, [])))
            as condition_keys
    from check_grants as g
    left join deny_hits as h
        on h.policy_set_key = g.policy_set_key
        and h.target_arn = g.target_arn
    where not coalesce(h.denied, false)
),

final as (
    select
        a.source_arn,
        a.target_arn,
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
    from candidates as a
    left join allowed as r
        on r.policy_set_key = a.policy_set_key
        and r.target_arn = a.target_arn
    left join deny_hits as d
        on d.policy_set_key = a.policy_set_key
        and d.target_arn = a.target_arn
    where (not a.needs_identity_allow or r.policy_set_key is not null)
        and not coalesce(d.denied, false)
)

select * from final
