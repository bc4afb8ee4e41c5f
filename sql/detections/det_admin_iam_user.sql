-- det_admin_iam_user
-- Rule admin-iam-user: an IAM user with administrative privileges (see int_admin_identities).
-- grain: resource_arn

with admins as (
    select * from int_admin_identities where principal_type = 'user'
),

final as (
    select
        'admin-iam-user' as rule_id,
        principal_arn as resource_arn,
        'iam_user' as resource_type,
        account_id,
        principal_arn,
        'IAM user ' || split_part(principal_arn, '/', -1) || ' has administrative privileges'
            as title,
        to_json({
            'granting_policies': granting_policies,
            'scp_denied_actions': scp_denied_actions
        })::varchar as evidence
    from admins
)

select * from final
