-- int_account_cloudtrail_gaps
-- The accounts whose CloudTrail has a gap in the run's window (cloudtrail_coverage: some
-- expected region, or the account as a whole, `missing` or `partial` on some day), with the
-- regions and days. A principal's use is global (it may call any region, and a region's events
-- are delivered only to that region's files), and permission_insights has no region, so a gap
-- in any region of an account makes every usage verdict of that account's principals
-- unobservable (the conservative reading): `unused` never rests on days CloudTrail did not see.
-- grain: account_id

with coverage as (
    select * from cloudtrail_coverage where coverage != 'covered'
),

final as (
    select
        account_id,
        bool_or(region = '*') as account_wide,
        list(distinct region order by region) filter (where region != '*') as gap_regions,
        count(distinct day) as gap_days,
        list(
            {'region': region, 'day': day, 'coverage': coverage, 'silent_hours': silent_hours}
            order by region, day
        ) as gaps
    from coverage
    group by account_id
)

select * from final
