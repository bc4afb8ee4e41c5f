-- int_policy_set_grants
-- For every policy set, every action class (int_policy_set_action_classes: `class_key` stands for
-- every catalog action of the class) and every identity statement that allows it (a grant):
-- whether explicit Denies cut the grant, and which Deny source does. Each Deny is
-- evaluated with its own Resource and Condition: an unconditional Deny whose Resource patterns
-- cover every resource pattern of the grant cuts it (a pattern is covered when the Deny's
-- pattern, with `*`/`?` as wildcards, matches it case-sensitively). A conditional Deny that
-- covers the grant makes it conditionally denied, it never cuts it. `grant_key` is the grant and
-- the resource patterns an unconditional Deny cuts from it (if some).
-- Materialized on its own (the largest intermediate result of the evaluation) so that
-- int_policy_set_actions_evaluated aggregates a stored table instead of one long pipeline.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
-- grain: policy_set_key, class_key, grant_id
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

set_statements as materialized (
    select * from int_policy_set_statements
),

class_statements as (
    select * from int_policy_set_class_statements
),

grant_statements as (
    -- One row per granting statement of a set, with everything that does not depend on the
    -- action (the per-action rows below stay narrow).
    select
        policy_set_key,
        grant_id,
        policy_key,
        statement_index,
        account_id,
        scp_applies,
        has_condition,
        applies_to_all_resources,
        resources,
        not_resources,
        case
            when not_resources is not null or resources is null then 1
            else len(list_distinct(resources))
        end as patterns
    from set_statements
    where source = 'identity' and effect = 'Allow'
),

allows as (
    select
        g.policy_set_key,
        g.account_id,
        g.scp_applies,
        cs.class_key as action,
        g.grant_id,
        g.has_condition,
        g.applies_to_all_resources,
        g.patterns
    from grant_statements as g
    inner join class_statements as cs
        on cs.policy_set_key = g.policy_set_key
        and cs.policy_key = g.policy_key
        and cs.statement_index = g.statement_index
),

set_denies as materialized (
    -- the Denies of the set and of its account's SCPs (`action`: the class they cover)
    select *, class_key as action from int_policy_set_class_denies
),

set_deny_patterns as (
    select
        policy_set_key,
        action,
        source,
        has_condition,
        unnest(resources) as pattern,
        unnest(resource_likes) as pattern_like
    from set_denies
    -- Denies on every resource cut every grant: they are flags, not patterns to compare
    where not_resources is null and resources is not null and not applies_to_all_resources
),

denied_grants as (
    -- Only grants of actions some Deny on named resources names need their patterns compared.
    select d.*, g.resources, g.not_resources
    from (
        select a.policy_set_key, a.account_id, a.scp_applies, a.action, a.grant_id
        from allows as a
        semi join set_deny_patterns as d
            on d.policy_set_key = a.policy_set_key
            and d.action = a.action
    ) as d
    inner join grant_statements as g
        on g.policy_set_key = d.policy_set_key
        and g.grant_id = d.grant_id
),

allow_patterns as (
    -- A NotResource grant (or one without Resource) is only covered by a Deny on everything.
    select distinct
        policy_set_key,
        account_id,
        scp_applies,
        action,
        grant_id,
        unnest(
            case when not_resources is not null or resources is null then ['*'] else resources end
        ) as pattern
    from denied_grants
),

covered as (
    -- a `?` of the Deny matches one character, never all that a `*` of the grant does
    select ap.policy_set_key, ap.action, ap.grant_id, ap.pattern, dp.source, dp.has_condition
    from allow_patterns as ap
    inner join set_deny_patterns as dp
        on dp.policy_set_key = ap.policy_set_key
        and dp.action = ap.action
    where ap.pattern like dp.pattern_like escape '\'
        and not (contains(dp.pattern, '?') and contains(ap.pattern, '*') and ap.pattern <> dp.pattern)

),

set_deny_flags as (
    select
        policy_set_key,
        action,
        bool_or(not has_condition and applies_to_all_resources and source = 'identity')
            as all_cut_by_identity,
        bool_or(not has_condition and applies_to_all_resources and source = 'boundary')
            as all_cut_by_boundary,
        bool_or(not has_condition and applies_to_all_resources and source like 'scp:%')
            as all_cut_by_scp,
        bool_or(applies_to_all_resources) as all_covered
    from set_denies
    group by all
),

pattern_cover as (
    select
        policy_set_key,
        action,
        grant_id,
        pattern,
        bool_or(not has_condition) as is_cut,
        bool_or(not has_condition and source = 'identity') as is_cut_by_identity,
        bool_or(not has_condition and source = 'boundary') as is_cut_by_boundary,
        bool_or(not has_condition and source like 'scp:%') as is_cut_by_scp
    from covered
    group by all
),

grant_cover as (
    select
        policy_set_key,
        action,
        grant_id,
        count(*) filter (where is_cut) as cut_patterns,
        count(*) filter (where is_cut_by_identity) as identity_cut_patterns,
        count(*) filter (where is_cut_by_boundary) as boundary_cut_patterns,
        count(*) filter (where is_cut_by_scp) as scp_cut_patterns,
        count(*) as any_cover_patterns,
        list(pattern) filter (where is_cut) as cut_pattern_list
    from pattern_cover
    group by all
),

final as (
    select
        a.policy_set_key,
        a.action as class_key,
        a.grant_id,
        a.has_condition,
        a.applies_to_all_resources,
        coalesce(ds.all_cut_by_identity, false)
            or coalesce(c.identity_cut_patterns = a.patterns, false) as is_cut_by_identity,
        coalesce(ds.all_cut_by_boundary, false)
            or coalesce(c.boundary_cut_patterns = a.patterns, false) as is_cut_by_boundary,
        coalesce(ds.all_cut_by_scp, false)
            or coalesce(c.scp_cut_patterns = a.patterns, false) as is_cut_by_scp,
        coalesce(ds.all_cut_by_identity or ds.all_cut_by_boundary or ds.all_cut_by_scp, false)
            or coalesce(c.cut_patterns = a.patterns, false) as is_cut,
        coalesce(ds.all_covered, false)
            or coalesce(c.any_cover_patterns = a.patterns, false) as is_conditionally_denied,
        -- the grant, and the resource patterns an unconditional Deny cuts from it (if some)
        a.grant_id || coalesce(
            chr(30) || array_to_string(list_sort(c.cut_pattern_list), chr(29)), ''
        ) as grant_key
    from allows as a
    left join grant_cover as c
        on c.policy_set_key = a.policy_set_key
        and c.action = a.action
        and c.grant_id = a.grant_id
    left join set_deny_flags as ds
        on ds.policy_set_key = a.policy_set_key
        and ds.action = a.action
)

select * from final
