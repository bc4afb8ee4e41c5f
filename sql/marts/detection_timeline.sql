-- detection_timeline
-- The history of each detection across runs, one row per event dated by the run's as-of date:
-- `opened` the first time a run finds it, `resolved` when a run no longer finds what the previous
-- run found (a run that found nothing at all counts), `reopened` when it comes back,
-- `severity_changed` (details: from, to; against the last run that found it), `suppressed`
-- when a run finds it under a suppression the previous run did not apply (details: reason,
-- expires_at) and `unsuppressed` when that suppression no longer applies (expired or removed).
-- `resource_changed` rows explain them: what changed on the detection's resource or principal
-- (or on a group its user belongs to) between the previous snapshot and this one, from
-- `resource_config_history` (change_type: resource_created, resource_deleted, policy_attached,
-- policy_detached, policy_changed, trust_policy_changed, permission_boundary_changed,
-- group_membership_added, group_membership_removed, access_key_created, access_key_deleted,
-- access_key_activated, access_key_deactivated, compute_role_changed), from the detection's
-- first run on. A policy is changed when its meaning is: the same policy in another of AWS's
-- equivalent spellings (keys reordered, Statement an object…) is no change, and history recorded
-- before policy fingerprints were canonical compares on the raw text (int_resource_config_current).
-- Columns from rule_id on describe the detection as of its latest run.
-- grain: detection_id, event_at, event_type, change_type, changed_resource_arn, config_key

with history as (
    select h.*
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

config_history as (
    select c.*
    from resource_config_history as c
    cross join run_params as p
    where c.as_of <= p.as_of
),

runs as (
    -- Every run up to this one: a run that found no detection leaves no row in the detection
    -- history, but its configuration snapshot (and this run's date) say it happened, and what
    -- the run before it found is resolved by it.
    select as_of, lag(as_of) over (order by as_of) as previous_as_of
    from (
        select as_of from history
        union
        select as_of from config_history
        union
        select as_of from run_params
    )
),

history_ranked as (
    -- Each run's row with the severity of the last earlier run that found the detection (the
    -- run just before, or the one before a gap when it reopens).
    select *, lag(severity) over (partition by detection_id order by as_of) as last_severity
    from history
),

latest_detections as (
    select
        detection_id, as_of, rule_id, severity, resource_arn, resource_type, account_id, title,
        principal_arn
    from history
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),

first_seen as (
    select detection_id, min(as_of) as first_seen_at from history group by detection_id
),

presence as (
    select
        d.detection_id,
        r.as_of,
        now_.detection_id is not null as present,
        before.detection_id is not null as present_before,
        exists (
            select 1 from history as h
            where h.detection_id = d.detection_id and h.as_of < r.as_of
        ) as seen_before,
        now_.severity,
        now_.last_severity,
        now_.suppression_reason,
        now_.suppression_expires_at,
        before.suppression_reason as suppression_reason_before
    from latest_detections as d
    cross join runs as r
    left join history_ranked as now_
        on now_.detection_id = d.detection_id and now_.as_of = r.as_of
    left join history as before
        on before.detection_id = d.detection_id and before.as_of = r.previous_as_of
),

lifecycle as (
    select
        detection_id, as_of as event_at,
        case
            when present and not seen_before then 'opened'
            when present and not present_before then 'reopened'
            when not present and present_before then 'resolved'
        end as event_type,
        null::varchar as details
    from presence
    union all
    select
        detection_id, as_of, 'severity_changed',
        to_json({'from': last_severity, 'to': severity})::varchar
    from presence
    where present and severity <> last_severity
    union all
    select
        detection_id, as_of, 'suppressed',
        to_json({'reason': suppression_reason, 'expires_at': suppression_expires_at})::varchar
    from presence
    where present and suppression_reason is not null
        and (not present_before or suppression_reason_before is null)
    union all
    select
        detection_id, as_of, 'unsuppressed',
        to_json({'previous_reason': suppression_reason_before})::varchar
    from presence
    where present and present_before and suppression_reason is null
        and suppression_reason_before is not null
),

config_runs as (
    select as_of, lag(as_of) over (order by as_of) as previous_as_of
    from (select distinct as_of from config_history)
),

item_keys as (
    select distinct r.as_of, r.previous_as_of, c.resource_arn, c.config_type, c.config_key
    from config_runs as r
    inner join config_history as c on c.as_of in (r.as_of, r.previous_as_of)
    where r.previous_as_of is not null
),

config_pairs as (
    -- Every configuration item of two consecutive snapshots, before and after (null = absent).
    select
        k.as_of,
        k.resource_arn,
        k.config_type,
        k.config_key,
        b.fingerprint as fingerprint_before,
        a.fingerprint as fingerprint_after,
        b.details as details_before,
        a.details as details_after
    from item_keys as k
    left join config_history as a
        on a.as_of = k.as_of and a.resource_arn = k.resource_arn
        and a.config_type = k.config_type and a.config_key = k.config_key
    left join config_history as b
        on b.as_of = k.previous_as_of and b.resource_arn = k.resource_arn
        and b.config_type = k.config_type and b.config_key = k.config_key
),

changed as (
    select
        *,
        case
            when fingerprint_before is null then 'added'
            when fingerprint_after is null then 'removed'
            else 'changed'
        end as change
    from config_pairs
    where fingerprint_before is distinct from fingerprint_after
        and not coalesce(
            -- A policy fingerprint `c1:<canonical>;<raw>` (int_resource_config_current) is
            -- compared on its canonical part, and on its raw part with one recorded before it.
            case
                when starts_with(fingerprint_before, 'c1:')
                    and starts_with(fingerprint_after, 'c1:')
                    then split_part(fingerprint_before, ';', 1)
                    = split_part(fingerprint_after, ';', 1)
                when starts_with(fingerprint_after, 'c1:')
                    then fingerprint_before = split_part(fingerprint_after, ';', 2)
                when starts_with(fingerprint_before, 'c1:')
                    then split_part(fingerprint_before, ';', 2) = fingerprint_after
            end,
            false
        )
),

created_resources as (
    select as_of, resource_arn from changed where config_type = 'exists' and change = 'added'
),

changes as (
    -- Items that come with a new resource are not changes of their own.
    select
        c.as_of,
        c.resource_arn,
        c.config_type,
        c.config_key,
        case c.config_type
            when 'exists' then
                case c.change when 'added' then 'resource_created' else 'resource_deleted' end
            when 'managed_policy' then
                case c.change
                    when 'added' then 'policy_attached'
                    when 'removed' then 'policy_detached'
                    else 'policy_changed'
                end
            when 'inline_policy' then
                case c.change
                    when 'added' then 'policy_attached'
                    when 'removed' then 'policy_detached'
                    else 'policy_changed'
                end
            when 'trust_policy' then 'trust_policy_changed'
            when 'permissions_boundary' then 'permission_boundary_changed'
            when 'group_membership' then
                case c.change when 'added' then 'group_membership_added'
                    else 'group_membership_removed' end
            when 'access_key' then
                case c.change
                    when 'added' then 'access_key_created'
                    when 'removed' then 'access_key_deleted'
                    when 'changed' then
                        case c.fingerprint_after when 'active' then 'access_key_activated'
                            else 'access_key_deactivated' end
                end
            when 'compute_role' then 'compute_role_changed'
        end as change_type,
        to_json({
            'resource_arn': c.resource_arn,
            'config_type': c.config_type,
            'config_key': c.config_key,
            'before': c.details_before::json,
            'after': c.details_after::json
        })::varchar as details
    from changed as c
    left join created_resources as n
        on n.as_of = c.as_of and n.resource_arn = c.resource_arn and c.config_type <> 'exists'
        and c.change = 'added'
    where n.resource_arn is null
),

group_members as (
    -- A change on a group explains its members' detections (membership before or after).
    select distinct c.as_of, c.resource_arn as group_arn, m.resource_arn as user_arn
    from changes as c
    inner join config_runs as r on r.as_of = c.as_of
    inner join config_history as m
        on m.config_type = 'group_membership' and m.config_key = c.resource_arn
        and m.as_of in (r.as_of, r.previous_as_of)
),

explained as (
    select distinct
        d.detection_id,
        c.as_of as event_at,
        c.change_type,
        c.resource_arn as changed_resource_arn,
        c.config_key,
        c.details
    from changes as c
    inner join latest_detections as d
        on c.resource_arn in (d.resource_arn, d.principal_arn)
        or exists (
            select 1 from group_members as g
            where g.as_of = c.as_of and g.group_arn = c.resource_arn
                and g.user_arn in (d.resource_arn, d.principal_arn)
        )
    inner join first_seen as f on f.detection_id = d.detection_id
    where c.as_of >= f.first_seen_at
),

events as (
    select
        detection_id, event_at, event_type, null::varchar as change_type,
        null::varchar as changed_resource_arn, null::varchar as config_key, details
    from lifecycle
    where event_type is not null
    union all
    select
        detection_id, event_at, 'resource_changed', change_type, changed_resource_arn,
        config_key, details
    from explained
),

final as (
    select
        e.detection_id,
        e.event_at,
        e.event_type,
        e.change_type,
        e.changed_resource_arn,
        e.config_key,
        e.details,
        d.rule_id,
        d.severity,
        d.resource_arn,
        d.resource_type,
        d.account_id,
        d.title
    from events as e
    inner join latest_detections as d on d.detection_id = e.detection_id
)

select * from final
