-- detections
-- Every identity risk found by this run or an earlier one (up to the as-of date): `open` when
-- this run found it, `suppressed` when this run found it but a live entry of the suppressions
-- file covers it (reason and expiry kept), `resolved` when an earlier run did and this one did
-- not. First/last seen are the as-of dates of the first and last run that found it; evidence,
-- principal and suggested policy are from the latest. `console_url` is the "Fix in AWS" link to
-- the resource's page in the AWS console (partition- and region-aware).
-- `account_incomplete` and `incomplete_reason` say that the account's input could not all be
-- read in this run (int_account_completeness): its previous detections were held open, never
-- resolved, and `last_seen_at` is then the run that held them (evidence `held_open` names the
-- run that last found each).
-- grain: detection_id

with history as (
    select h.*
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

rules as (
    select * from ref_detection_rules
),

completeness as (
    select * from int_account_completeness
),

params as (
    select * from run_params
),

latest as (
    select *
    from history
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),

seen as (
    select detection_id, min(as_of) as first_seen_at, max(as_of) as last_seen_at
    from history
    group by detection_id
),

arns as (
    select
        detection_id,
        resource_type,
        split_part(resource_arn, ':', 2) as arn_partition,
        split_part(resource_arn, ':', 4) as region,
        split_part(resource_arn, ':', 5) as account_id,
        regexp_extract(resource_arn, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.*)$', 1) as resource
    from latest
),

console_hosts as (
    select
        *,
        case arn_partition
            when 'aws-cn' then 'https://console.amazonaws.cn'
            when 'aws-us-gov' then 'https://console.amazonaws-us-gov.com'
            else 'https://console.aws.amazon.com'
        end as global_host,
        case arn_partition
            when 'aws-cn' then 'https://console.amazonaws.cn'
            when 'aws-us-gov' then 'https://console.amazonaws-us-gov.com'
            else 'https://' || region || '.console.aws.amazon.com'
        end as regional_host,
        split_part(resource, '/', -1) as iam_name
    from arns
),

console_links as (
    -- Console page formats as of 2026 (IAM's "details" pages; region-specific consoles with
    -- ?region= so the link opens in the resource's region).
    select
        detection_id,
        case resource_type
            when 'iam_user' then global_host || '/iam/home#/users/details/' || url_encode(iam_name)
            when 'iam_role' then global_host || '/iam/home#/roles/details/' || url_encode(iam_name)
            when 'iam_group'
                then global_host || '/iam/home#/groups/details/' || url_encode(iam_name)
            when 'aws_account' then global_host || '/iam/home#/security_credentials'
            when 'ec2_instance'
                then regional_host || '/ec2/home?region=' || region
                    || '#InstanceDetails:instanceId=' || split_part(resource, '/', -1)
            when 'lambda_function'
                then regional_host || '/lambda/home?region=' || region || '#/functions/'
                    || url_encode(split_part(resource, ':', 2))
            when 's3_bucket'
                then replace(global_host, 'https://console.', 'https://s3.console.')
                    || '/s3/buckets/' || split_part(resource, '/', 1)
            when 'kms_key'
                then regional_host || '/kms/home?region=' || region || '#/kms/keys/'
                    || split_part(resource, '/', -1)
            when 'sqs_queue'
                then regional_host || '/sqs/v3/home?region=' || region || '#/queues/'
                    || url_encode(
                        'https://sqs.' || region || '.'
                        || case when arn_partition = 'aws-cn' then 'amazonaws.com.cn'
                            else 'amazonaws.com' end
                        || '/' || account_id || '/' || resource
                    )
            when 'sns_topic'
                then regional_host || '/sns/v3/home?region=' || region || '#/topic/'
                    || 'arn:' || arn_partition || ':sns:' || region || ':' || account_id || ':'
                    || resource
            when 'secretsmanager_secret'
                -- The ARN ends in '-' and six random characters that are not part of the name.
                then regional_host || '/secretsmanager/secret?name='
                    || url_encode(regexp_replace(split_part(resource, ':', 2), '-[A-Za-z0-9]{6}$', ''))
                    || '&region=' || region
        end as console_url
    from console_hosts
),

final as (
    select
        l.detection_id,
        l.rule_id,
        l.severity,
        l.resource_arn,
        l.resource_type,
        l.account_id,
        l.title,
        s.first_seen_at,
        s.last_seen_at,
        case
            when s.last_seen_at <> p.as_of then 'resolved'
            when l.suppression_reason is not null then 'suppressed'
            else 'open'
        end as status,
        l.evidence,
        r.category,
        r.description,
        r.remediation,
        r."references" as reference_url,
        l.principal_arn,
        case when s.last_seen_at = p.as_of then l.suppression_reason end as suppression_reason,
        case
            when s.last_seen_at = p.as_of then l.suppression_expires_at
        end as suppression_expires_at,
        c.console_url,
        l.suggested_policy,
        l.suggested_policy_verification,
        coalesce(a.is_incomplete, false) as account_incomplete,
        a.incomplete_reason
    from latest as l
    inner join seen as s on s.detection_id = l.detection_id
    inner join console_links as c on c.detection_id = l.detection_id
    cross join params as p
    left join rules as r on r.rule_id = l.rule_id
    left join completeness as a on a.account_id = l.account_id
)

select * from final
