-- det_admin_iam_group
-- Rule admin-iam-group: an IAM group whose policies make every member an administrator (see int_admin_identities).
-- grain: resource_arn

with admins as (
    select * from int_admin_identities where principal_type = 'group'
),

final as (
    select
        'admin-iam-group' as rule_id,
        principal_arn as resource_arn,
        'iam_group' as resource_type,
        account_id,
        principal_arn,
        'IAM group ' || split_part(principal_arn, '/', -1) || ' grants administrative privileges'
            as title,
        to_json({
            'granting_policies': granting_policies,
            'scp_denied_actions': scp_denied_actions
        })::varchar as evidence
    from admins
)

select * from final
