-- int_console_links
-- The "Fix in AWS" link of every resource a detection is about (found by this run or an earlier
-- one): the resource's page in the AWS console, partition- and region-aware. A link is built only
-- from an ARN that matches the AWS grammar of its resource type as a whole (partition aws, aws-cn
-- or aws-us-gov; region like `eu-west-1`, empty for IAM and S3; a 12-digit account; the
-- resource's name in the characters its service allows), and every part placed in the URL is
-- URL-encoded; any other ARN has no link (`console_url` null), never a URL with an unchecked part.
-- `detections` joins it on (resource_arn, resource_type).
-- grain: resource_arn, resource_type

with history as (
    select distinct h.resource_arn, h.resource_type
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

grammar as (
    -- The whole ARN of each resource type, `<partition>`, `<region>` and `<account>` standing
    -- for the shared parts (RE2 syntax; `\w` is ASCII). IAM names: [\w+=,.@-] (users and roles
    -- up to 64, groups up to 128); IAM paths: printable ASCII segments (the path is not placed
    -- in the URL); EC2 instance ids: i- and hex; Lambda function names: [a-zA-Z0-9_-] up to 64,
    -- with an optional version or alias; S3 buckets: [a-zA-Z0-9._-], 3-255 (legacy names
    -- included), starting and ending alphanumeric; KMS key ids: a UUID or mrk- and 32 hex; SQS
    -- queue and SNS topic names: [a-zA-Z0-9_-] (and .fifo); Secrets Manager names:
    -- [a-zA-Z0-9/_+=.@-] up to 512 (with the six random characters AWS appends).
    select
        resource_type,
        '^arn:'
        || replace(
            replace(
                replace(arn_rest, '<partition>', '(aws|aws-cn|aws-us-gov)'),
                '<region>',
                '[a-z]{2}(-[a-z]+)+-[0-9]+'
            ),
            '<account>',
            '[0-9]{12}'
        )
        || '$' as arn_pattern
    from (
        values
        ('iam_user', '<partition>:iam::<account>:user(/[\x21-\x2e\x30-\x7e]+)*/[\w+=,.@-]{1,64}'),
        ('iam_role', '<partition>:iam::<account>:role(/[\x21-\x2e\x30-\x7e]+)*/[\w+=,.@-]{1,64}'),
        (
            'iam_group',
            '<partition>:iam::<account>:group(/[\x21-\x2e\x30-\x7e]+)*/[\w+=,.@-]{1,128}'
        ),
        ('aws_account', '<partition>:iam::<account>:root'),
        ('ec2_instance', '<partition>:ec2:<region>:<account>:instance/i-[0-9a-f]{1,17}'),
        (
            'lambda_function',
            '<partition>:lambda:<region>:<account>:function:[a-zA-Z0-9_-]{1,64}'
            || '(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?'
        ),
        ('s3_bucket', '<partition>:s3:::[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]'),
        (
            'kms_key',
            '<partition>:kms:<region>:<account>:key/'
            || '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})'
        ),
        ('sqs_queue', '<partition>:sqs:<region>:<account>:[a-zA-Z0-9_-]{1,80}(\.fifo)?'),
        ('sns_topic', '<partition>:sns:<region>:<account>:[a-zA-Z0-9_-]{1,256}(\.fifo)?'),
        (
            'secretsmanager_secret',
            '<partition>:secretsmanager:<region>:<account>:secret:[a-zA-Z0-9/_+=.@-]{1,512}'
        )
    ) as g (resource_type, arn_rest)
),

valid_arns as (
    -- Only the ARNs that match their type's grammar; the parts below are therefore checked.
    select
        h.resource_arn,
        h.resource_type,
        split_part(h.resource_arn, ':', 2) as arn_partition,
        split_part(h.resource_arn, ':', 4) as region,
        split_part(h.resource_arn, ':', 5) as account_id,
        regexp_extract(h.resource_arn, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.*)$', 1) as resource
    from history as h
    inner join grammar as g on g.resource_type = h.resource_type
    where regexp_full_match(h.resource_arn, g.arn_pattern)
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
        url_encode(region) as region_q,
        split_part(resource, '/', -1) as iam_name
    from valid_arns
),

links as (
    -- Console page formats as of 2026 (IAM's "details" pages; region-specific consoles with
    -- ?region= so the link opens in the resource's region).
    select
        resource_arn,
        resource_type,
        case resource_type
            when 'iam_user' then global_host || '/iam/home#/users/details/' || url_encode(iam_name)
            when 'iam_role' then global_host || '/iam/home#/roles/details/' || url_encode(iam_name)
            when 'iam_group'
                then global_host || '/iam/home#/groups/details/' || url_encode(iam_name)
            when 'aws_account' then global_host || '/iam/home#/security_credentials'
            when 'ec2_instance'
                then regional_host || '/ec2/home?region=' || region_q
                    || '#InstanceDetails:instanceId=' || url_encode(split_part(resource, '/', -1))
            when 'lambda_function'
                then regional_host || '/lambda/home?region=' || region_q || '#/functions/'
                    || url_encode(split_part(resource, ':', 2))
            when 's3_bucket'
                then replace(global_host, 'https://console.', 'https://s3.console.')
                    || '/s3/buckets/' || url_encode(resource)
            when 'kms_key'
                then regional_host || '/kms/home?region=' || region_q || '#/kms/keys/'
                    || url_encode(split_part(resource, '/', -1))
            when 'sqs_queue'
                then regional_host || '/sqs/v3/home?region=' || region_q || '#/queues/'
                    || url_encode(
                        'https://sqs.' || region || '.'
                        || case when arn_partition = 'aws-cn' then 'amazonaws.com.cn'
                            else 'amazonaws.com' end
                        || '/' || account_id || '/' || resource
                    )
            when 'sns_topic'
                -- The topic's ARN, rebuilt from its checked parts ([a-z0-9-] and the name's
                -- [a-zA-Z0-9_.-], which URL encoding leaves as they are).
                then regional_host || '/sns/v3/home?region=' || region_q || '#/topic/'
                    || 'arn:' || arn_partition || ':sns:' || region_q || ':' || account_id || ':'
                    || url_encode(resource)
            when 'secretsmanager_secret'
                -- The ARN ends in '-' and six random characters that are not part of the name.
                then regional_host || '/secretsmanager/secret?name='
                    || url_encode(
                        regexp_replace(split_part(resource, ':', 2), '-[A-Za-z0-9]{6}$', '')
                    )
                    || '&region=' || region_q
        end as console_url
    from console_hosts
),

final as (
    select h.resource_arn, h.resource_type, l.console_url
    from history as h
    left join links as l on l.resource_arn = h.resource_arn and l.resource_type = h.resource_type
)

select * from final
