-- cloudtrail_deliveries_daily
-- CloudTrail delivery files per delivery-day partition, account, region and UTC hour of
-- delivery, from the day's landing manifest (every object landed for the day, including files
-- without records): how many files were delivered, how many of them were quarantined (corrupt:
-- their events were not seen) and how many records landed. Account, region and delivery time
-- come from the object's name, `<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`
-- (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html);
-- a name of another shape takes them from its path (`…/<account>/CloudTrail/<region>/…`) and
-- has no hour. cloudtrail_coverage reads it to tell covered, partial and missing days.
-- grain: day, account_id, region, delivery_hour (within one partition)

with manifest as (
    select * from day_manifest
),

named as (
    select
        day,
        status,
        records,
        regexp_extract(
            object_key,
            '(?:^|/)([0-9]{12})_CloudTrail_([a-z0-9-]+)_([0-9]{8}T[0-9]{4}Z)_[^/]*$',
            ['account_id', 'region', 'stamp']
        ) as from_name,
        regexp_extract(
            object_key,
            '(?:^|/)([0-9]{12})/CloudTrail/([a-z0-9-]+)/',
            ['account_id', 'region']
        ) as from_path
    from manifest
),

files as (
    select
        day,
        status,
        records,
        coalesce(
            nullif(from_name.account_id, ''), nullif(from_path.account_id, '')
        ) as account_id,
        coalesce(nullif(from_name.region, ''), nullif(from_path.region, '')) as region,
        hour(try_strptime(nullif(from_name.stamp, ''), '%Y%m%dT%H%MZ'))::integer
            as delivery_hour
    from named
),

final as (
    select
        day,
        account_id,
        region,
        delivery_hour,
        count(*) as files,
        count(*) filter (where status = 'quarantined') as quarantined_files,
        coalesce(sum(records), 0)::bigint as records
    from files
    group by all
    order by all
)

select * from final
