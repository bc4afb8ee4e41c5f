-- det_admin_iam_role
-- Rule admin-iam-role: an IAM role with administrative privileges (see int_admin_identities).
-- grain: resource_arn

with admins as (
    select * from int_admin_identities where principal_type = 'role'
),

final as (
    select
        'admin-iam-role' as rule_id,
        principal_arn as resource_arn,
        'iam_role' as resource_type,
        account_id,
        principal_arn,
        'IAM role ' || split_part(principal_arn, '/', -1) || ' has administrative privileges'
            as title,
        to_json({
            'granting_policies': granting_policies,
            'scp_denied_actions': scp_denied_actions
        })::varchar as evidence
    from admins
)

select * from final
