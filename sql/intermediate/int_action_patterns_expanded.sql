-- int_action_patterns_expanded
-- One row per distinct action pattern of any statement (Action or NotAction, lower-cased) and
-- catalog action it matches. Each pattern is expanded once, however many statements name it:
-- `*`, `*:get*` or `s3:*` cost one expansion each, never one per statement. Exact patterns are
-- hash-joined; wildcard patterns are joined on their service prefix, then globbed (`*` and `?`
-- are IAM's only wildcards; both sides are lower-case, as IAM matches actions
-- case-insensitively). A pattern that names no catalog action matches nothing.
-- grain: pattern, action

with patterns as (
    select distinct pattern, pattern_service, is_wildcard from stg_statement_action_patterns
),

catalog as (
    select action, service from ref_iam_actions
),

exact_matches as (
    select p.pattern, c.action
    from patterns as p
    inner join catalog as c on c.action = p.pattern
    where not p.is_wildcard
),

prefix_matches as (
    select p.pattern, c.action
    from patterns as p
    inner join catalog as c on c.service = p.pattern_service
    where p.is_wildcard
        and not (p.pattern_service like '%*%' or p.pattern_service like '%?%')
        and c.action glob p.pattern
),

global_matches as (
    -- '*' alone, or a wildcard inside the service prefix ('*:get*', 's3*:list*')
    select p.pattern, c.action
    from patterns as p
    inner join catalog as c on c.action glob p.pattern
    where p.is_wildcard
        and (p.pattern_service like '%*%' or p.pattern_service like '%?%')
),

final as (
    select pattern, action from exact_matches
    union all
    select pattern, action from prefix_matches
    union all
    select pattern, action from global_matches
)

select * from final
