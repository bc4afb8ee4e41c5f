-- int_suggested_policy_verification
-- Replays each principal's successful calls of the window through its suggested policy, read
-- back from the JSON document: its statements' Action/NotAction patterns are expanded against
-- the IAM action catalog as int_statement_actions_expanded expands policies (lower-case, `*` and
-- `?` the only wildcards), and every credited action of a successful call must be allowed by an
-- Allow statement without Condition and by no Deny of the document. The suggestion replaces
-- the identity policies only: the boundary, the SCPs and the resource policies that let these
-- calls succeed still apply, so the identity side is what the replay has to prove. Calls whose
-- action no current identity policy grants (allowed by a resource policy) do not depend on the
-- suggestion and are counted apart. The usage aggregate carries no resource, so the replay is
-- at action level. `verification` is the JSON stored with the detection.
-- grain: principal_arn

with suggestions as materialized (
    select principal_arn, suggested_policy from int_suggested_policies
),

usage as (
    select principal_arn, action, successful_calls, last_used_in_window_at
    from int_usage_in_window
    where successful_calls > 0
),

effective as (
    -- only the used (principal, action) pairs: a semi join against the window's few successful
    -- calls, never a hash table of every effective permission
    select principal_arn, action from effective_permissions
    semi join usage as u using (principal_arn, action)
),

catalog as (
    select action, action_name from ref_iam_actions
),

raw_statements as (
    select
        s.principal_arn,
        unnest(
            case
                when json_type(s.suggested_policy, '$.Statement') = 'ARRAY'
                    then json_extract(s.suggested_policy, '$.Statement[*]')
                when json_type(s.suggested_policy, '$.Statement') = 'OBJECT'
                    then [json_extract(s.suggested_policy, '$.Statement')]
                else []::json[]
            end
        ) as statement
    from suggestions as s
),

statements as (
    select
        principal_arn,
        row_number() over (partition by principal_arn) as statement_index,
        json_extract_string(statement, '$.Effect') as effect,
        json_extract(statement, '$.Condition') is not null as has_condition,
        json_extract(statement, '$.NotAction') is not null as is_not_action,
        coalesce(json_extract(statement, '$.Action'), json_extract(statement, '$.NotAction'))
            as action_json
    from raw_statements
),

patterns as (
    select
        principal_arn,
        statement_index,
        effect,
        has_condition,
        is_not_action,
        lower(trim(unnest(
            case
                when json_type(action_json) = 'ARRAY'
                    then json_extract_string(action_json, '$[*]')
                when json_type(action_json) = 'VARCHAR'
                    then [json_extract_string(action_json, '$')]
                else []::varchar[]
            end
        ))) as pattern
    from statements
),

matched as (
    select p.principal_arn, p.statement_index, c.action
    from patterns as p
    inner join catalog as c on c.action = p.pattern
    where not (p.pattern like '%*%' or p.pattern like '%?%')
    union
    select p.principal_arn, p.statement_index, c.action
    from patterns as p
    inner join catalog as c on c.action glob p.pattern
    where p.pattern like '%*%' or p.pattern like '%?%'
),

statement_actions as (
    -- Action statements: the actions their patterns match; NotAction statements: the others.
    select s.principal_arn, s.statement_index, s.effect, s.has_condition, m.action
    from statements as s
    inner join matched as m
        on m.principal_arn = s.principal_arn
        and m.statement_index = s.statement_index
    where not s.is_not_action
    union all
    select s.principal_arn, s.statement_index, s.effect, s.has_condition, c.action
    from statements as s
    cross join catalog as c
    anti join matched as m
        on m.principal_arn = s.principal_arn
        and m.statement_index = s.statement_index
        and m.action = c.action
    where s.is_not_action
),

decisions as (
    select
        principal_arn,
        action,
        bool_or(effect = 'Allow' and not has_condition) as is_allowed,
        bool_or(effect = 'Deny') as is_denied
    from statement_actions
    group by principal_arn, action
),

replayed as (
    select
        s.principal_arn,
        u.action,
        coalesce(c.action_name, u.action) as action_name,
        u.successful_calls,
        u.last_used_in_window_at,
        e.action is not null as needs_identity_policy,
        coalesce(d.is_allowed and not d.is_denied, false) as is_allowed
    from suggestions as s
    inner join usage as u on u.principal_arn = s.principal_arn
    left join effective as e
        on e.principal_arn = u.principal_arn
        and e.action = u.action
    left join decisions as d
        on d.principal_arn = u.principal_arn
        and d.action = u.action
    left join catalog as c on c.action = u.action
),

summary as (
    select
        principal_arn,
        coalesce(sum(successful_calls) filter (where needs_identity_policy), 0)::bigint
            as events_replayed,
        count(*) filter (where needs_identity_policy) as actions_replayed,
        coalesce(
            sum(successful_calls) filter (where needs_identity_policy and not is_allowed), 0
        )::bigint as denied_event_count,
        coalesce(sum(successful_calls) filter (where not needs_identity_policy), 0)::bigint
            as events_allowed_by_other_policies,
        list(
            {
                'action': action_name,
                'successful_calls': successful_calls,
                'last_used_at': last_used_in_window_at
            }
            order by action_name
        ) filter (where needs_identity_policy and not is_allowed) as denied_events
    from replayed
    group by principal_arn
),

final as (
    select
        s.principal_arn,
        coalesce(m.denied_event_count, 0) = 0 as verified,
        coalesce(m.events_replayed, 0) as events_replayed,
        coalesce(m.denied_event_count, 0) as denied_event_count,
        to_json({
            'verified': coalesce(m.denied_event_count, 0) = 0,
            'events_replayed': coalesce(m.events_replayed, 0),
            'actions_replayed': coalesce(m.actions_replayed, 0),
            'denied_event_count': coalesce(m.denied_event_count, 0),
            'denied_events': coalesce(m.denied_events[1:5], []),
            'events_allowed_by_other_policies': coalesce(m.events_allowed_by_other_policies, 0),
            'method': 'replay of the window''s successful calls (action level) through the '
                || 'suggested policy expanded against the IAM action catalog; boundary, SCPs '
                || 'and resource policies unchanged'
        })::varchar as verification
    from suggestions as s
    left join summary as m on m.principal_arn = s.principal_arn
)

select * from final
