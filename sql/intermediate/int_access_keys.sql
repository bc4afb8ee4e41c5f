-- int_access_keys
-- The two access-key slots of every credential-report row (IAM users and the root user), one
-- row per slot that holds a key: active or not, when it was created or last rotated
-- (`access_key_N_last_rotated`) and when, where and for which service AWS last saw it used.
-- 'N/A' (no key / never used) lands as null.
-- grain: arn, key_slot

with credentials as (
    select * from raw_credential_report
),

slots as (
    select
        account_id,
        user as user_name,
        arn,
        user = '<root_account>' as is_root,
        user_creation_time as user_created_at,
        1 as key_slot,
        access_key_1_active as is_active,
        access_key_1_last_rotated as created_at,
        access_key_1_last_used_date as last_used_at,
        access_key_1_last_used_region as last_used_region,
        access_key_1_last_used_service as last_used_service
    from credentials

    union all

    select
        account_id,
        user as user_name,
        arn,
        user = '<root_account>' as is_root,
        user_creation_time as user_created_at,
        2 as key_slot,
        access_key_2_active as is_active,
        access_key_2_last_rotated as created_at,
        access_key_2_last_used_date as last_used_at,
        access_key_2_last_used_region as last_used_region,
        access_key_2_last_used_service as last_used_service
    from credentials
),

final as (
    select *
    from slots
    -- A slot without a key reads `false` and 'N/A' everywhere.
    where is_active or created_at is not null or last_used_at is not null
)

select * from final
