-- int_event_action_map
-- The IAM action(s) each (eventSource, eventName) seen in CloudTrail exercises. Order of
-- precedence: events that need no IAM action (sign-in, GetCallerIdentity); explicit overrides
-- for names that differ from their action (ListObjects -> s3:ListBucket, ...); otherwise the
-- action of the same name in the catalog, under the eventSource's IAM prefix (aliases where
-- the two differ), with API-version date suffixes removed. Anything else is `unmapped`.
-- grain: event_source, event_name, iam_action

with events as (
    select distinct event_source, event_name, event_name_base from stg_cloudtrail_events
),

aliases as (
    select * from ref_eventsource_aliases
),

overrides as (
    select event_source, event_name, lower(iam_action) as iam_action, is_primary::boolean as is_primary
    from ref_event_action_overrides
),

no_action as (
    select * from ref_events_without_iam_action
),

catalog as (
    select action from ref_iam_actions
),

prefixed as (
    select
        e.event_source,
        e.event_name,
        e.event_name_base,
        coalesce(a.iam_prefix, split_part(e.event_source, '.', 1)) as iam_prefix
    from events as e
    left join aliases as a on a.event_source = e.event_source
),

final as (
    select
        p.event_source,
        p.event_name,
        o.iam_action,
        o.is_primary,
        'override' as mapping
    from prefixed as p
    inner join overrides as o
        on o.event_source = p.event_source
        and o.event_name = p.event_name_base

    union all

    select
        p.event_source,
        p.event_name,
        c.action as iam_action,
        true as is_primary,
        'same_name' as mapping
    from prefixed as p
    inner join catalog as c on c.action = lower(p.iam_prefix || ':' || p.event_name_base)
    where not exists (
        select 1 from overrides as o
        where o.event_source = p.event_source and o.event_name = p.event_name_base
    )
    and not exists (
        select 1 from no_action as n
        where n.event_source = p.event_source and n.event_name = p.event_name_base
    )

    union all

    select
        p.event_source,
        p.event_name,
        null as iam_action,
        null as is_primary,
        case
            when exists (
                select 1 from no_action as n
                where n.event_source = p.event_source and n.event_name = p.event_name_base
            ) then 'no_iam_action'
            else 'unmapped'
        end as mapping
    from prefixed as p
    where not exists (
        select 1 from overrides as o
        where o.event_source = p.event_source and o.event_name = p.event_name_base
    )
    and not exists (
        select 1 from catalog as c where c.action = lower(p.iam_prefix || ':' || p.event_name_base)
    )
)

select * from final
