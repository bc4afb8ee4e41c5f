-- det_console_user_without_mfa
-- Rule console-user-without-mfa: an IAM user that can sign in to the console (credential
-- report `password_enabled`) without an MFA device (`mfa_active` false). The root user's
-- password reads 'not_supported' in the report and is not judged here.
-- grain: resource_arn

with credentials as (
    select * from raw_credential_report where user != '<root_account>'
),

final as (
    select
        'console-user-without-mfa' as rule_id,
        arn as resource_arn,
        'iam_user' as resource_type,
        account_id,
        arn as principal_arn,
        'IAM user ' || user || ' can sign in to the console without MFA' as title,
        to_json({
            'password_enabled': password_enabled,
            'mfa_active': mfa_active,
            'password_last_used': password_last_used,
            'password_last_changed': password_last_changed,
            'user_created_at': user_creation_time
        })::varchar as evidence
    from credentials
    where password_enabled and mfa_active = false
)

select * from final
