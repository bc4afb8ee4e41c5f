-- det_cloudtrail_coverage_gap
-- Rule cloudtrail-coverage-gap: an account whose CloudTrail delivered nothing on some day of the
-- run's window, or went silent during a day (cloudtrail_coverage `missing` / `partial`), in a
-- region the snapshot or CloudTrail shows in use, or in all its regions (region `*`). Its usage
-- verdicts are unobservable (`cloudtrail_gap`) and the unused-*, inactive-* and
-- large-permissions-gap rules do not judge it until the window is whole again. The evidence
-- lists the regions and their missing and partial days.
-- grain: resource_arn

with gaps as (
    select * from int_account_cloudtrail_gaps
),

coverage as (
    select * from cloudtrail_coverage where coverage != 'covered'
),

params as (
    select * from run_params
),

per_region as (
    select
        account_id,
        region,
        list(day order by day) filter (where coverage = 'missing') as missing_days,
        list(day order by day) filter (where coverage = 'partial') as partial_days,
        any_value(expected_because) as expected_because
    from coverage
    group by account_id, region
),

regions as (
    select
        account_id,
        list(
            {
                'region': region,
                'missing_days': coalesce(missing_days, []),
                'partial_days': coalesce(partial_days, []),
                'expected_because': expected_because
            }
            order by region
        ) as regions
    from per_region
    group by account_id
),

final as (
    select
        'cloudtrail-coverage-gap' as rule_id,
        'arn:aws:iam::' || g.account_id || ':root' as resource_arn,
        'aws_account' as resource_type,
        g.account_id,
        null::varchar as principal_arn,
        'CloudTrail of account ' || g.account_id || ' has gaps on ' || g.gap_days || ' of the last '
            || p.window_days || ' days'
            || case
                when len(coalesce(g.gap_regions, [])) > 0
                    then ' in ' || array_to_string(g.gap_regions, ', ')
                else ' in every region'
            end as title,
        to_json({
            'window_start': p.window_start,
            'window_end': p.as_of,
            'gap_days': g.gap_days,
            'account_wide': g.account_wide,
            'gap_regions': coalesce(g.gap_regions, []),
            'regions': r.regions,
            'unobservable_reason': 'cloudtrail_gap'
        })::varchar as evidence
    from gaps as g
    cross join params as p
    inner join regions as r on r.account_id = g.account_id
)

select * from final
