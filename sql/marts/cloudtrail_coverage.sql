-- cloudtrail_coverage
-- CloudTrail coverage per account, region and UTC day of the run's window: the delivery files
-- and events seen (cloudtrail_deliveries_daily) and `coverage`:
--   `missing`  no readable delivery file that day;
--   `partial`  files were delivered, but the trail went silent or resumed during the day: next
--              to a missing day, the hours after its last delivery (or before its first) had
--              none (`silent_hours`);
--   `covered`  otherwise.
-- CloudTrail delivers a file only when there are events, so a quiet hour is not a gap: the
-- silence that counts is a whole day without any file, and the hours that border it.
-- Expected to deliver every day of the window (`expected_because`): every account with IAM
-- principals in the snapshot or CloudTrail in the window, as a whole (region `*`: any region);
-- and every region where the snapshot shows EC2 instances (not terminated) or Lambda functions,
-- or where CloudTrail delivered files for the account in the window. Files that were
-- quarantined (unreadable) are counted but are not a delivery: their events were not seen.
-- Where an account has a day `missing` or `partial`, its usage verdicts are `unobservable`
-- (permission_insights, reason `cloudtrail_gap`) and rule cloudtrail-coverage-gap reports it.
-- grain: account_id, region, day

with deliveries as (
    select * from cloudtrail_deliveries_daily
),

identities as (
    select * from int_identities
),

instances as (
    select * from raw_ec2_instances
),

functions as (
    select * from raw_lambda_functions
),

params as (
    select * from run_params
),

window_days as (
    select unnest(generate_series(p.window_start, p.as_of, interval 1 day))::date as day
    from params as p
),

in_window as (
    select d.*
    from deliveries as d
    cross join params as p
    where d.day between p.window_start and p.as_of
        and d.account_id is not null
        and d.region is not null
),

expected as (
    select distinct account_id, '*' as region, 'principals' as reason from identities
    union
    select distinct account_id, '*' as region, 'cloudtrail' as reason from in_window
    union
    select distinct account_id, region, 'ec2_instances' as reason
    from instances
    where coalesce(state, '') not in ('terminated', 'shutting-down')
    union
    select distinct account_id, region, 'lambda_functions' as reason from functions
    union
    select distinct account_id, region, 'cloudtrail' as reason from in_window
),

pairs as (
    select account_id, region, list(reason order by reason) as expected_because
    from expected
    group by account_id, region
),

-- Per (account, region) and day, and per account and day over all its regions (region '*').
per_day as (
    select
        account_id,
        case when grouping(region) = 1 then '*' else region end as region,
        day,
        sum(files)::bigint as files,
        sum(quarantined_files)::bigint as quarantined_files,
        sum(records)::bigint as events,
        count(distinct delivery_hour) filter (where files > quarantined_files) as delivery_hours,
        min(delivery_hour) filter (where files > quarantined_files) as first_delivery_hour,
        max(delivery_hour) filter (where files > quarantined_files) as last_delivery_hour
    from in_window
    group by grouping sets ((account_id, region, day), (account_id, day))
),

grid as (
    select
        e.account_id,
        e.region,
        w.day,
        e.expected_because,
        coalesce(d.files, 0) as files,
        coalesce(d.quarantined_files, 0) as quarantined_files,
        coalesce(d.events, 0) as events,
        coalesce(d.delivery_hours, 0) as delivery_hours,
        d.first_delivery_hour,
        d.last_delivery_hour,
        coalesce(d.files, 0) > coalesce(d.quarantined_files, 0) as delivered
    from pairs as e
    cross join window_days as w
    left join per_day as d
        on d.account_id = e.account_id
        and d.region = e.region
        and d.day = w.day
),

neighbours as (
    select
        *,
        -- A day outside the window is not judged: only a missing day of the window borders.
        coalesce(
            not lag(delivered) over (partition by account_id, region order by day), false
        ) as after_missing_day,
        coalesce(
            not lead(delivered) over (partition by account_id, region order by day), false
        ) as before_missing_day
    from grid
),

judged as (
    select
        *,
        case
            when not delivered then 24
            -- A file name without a time: its hours are unknown, so the bordering day is
            -- counted as partial (never as covered on evidence we do not have).
            when (after_missing_day or before_missing_day) and first_delivery_hour is null
                then null
            else
                case when after_missing_day then first_delivery_hour else 0 end
                + case when before_missing_day then 23 - last_delivery_hour else 0 end
        end as silent_hours
    from neighbours
),

final as (
    select
        j.account_id,
        j.region,
        j.day,
        case
            when not j.delivered then 'missing'
            when j.silent_hours is null or j.silent_hours > 0 then 'partial'
            else 'covered'
        end as coverage,
        j.files,
        j.quarantined_files,
        j.events,
        j.delivery_hours,
        j.first_delivery_hour,
        j.last_delivery_hour,
        j.silent_hours,
        j.expected_because,
        p.window_start,
        p.as_of as window_end
    from judged as j
    cross join params as p
    order by j.account_id, j.region, j.day
)

select * from final
