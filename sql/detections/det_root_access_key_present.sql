-- det_root_access_key_present
-- Rule root-access-key-present: the account's root user has an active access key (credential
-- report `<root_account>` row). Root keys cannot be limited by IAM policies or permission
-- boundaries.
-- grain: resource_arn

with root_keys as (
    select * from int_access_keys where is_root and is_active
),

final as (
    select
        'root-access-key-present' as rule_id,
        arn as resource_arn,
        'aws_account' as resource_type,
        account_id,
        arn as principal_arn,
        'The root user of account ' || account_id || ' has '
            || case when count(*) = 1 then 'an active access key'
                else count(*) || ' active access keys' end as title,
        to_json({
            'access_keys': list({
                'key': 'access_key_' || key_slot,
                'created_at': created_at,
                'last_used_at': last_used_at,
                'last_used_service': last_used_service,
                'last_used_region': last_used_region
            } order by key_slot)
        })::varchar as evidence
    from root_keys
    group by arn, account_id
)

select * from final
