-- det_admin_lambda_function
-- Rule admin-lambda-function: a Lambda function whose execution role is an administrator.
-- Not raised when the role's trust policy keeps the service out for this compute
-- (int_compute_role_trust.trust_verdict 'false': e.g. an `aws:SourceArn` naming other
-- resources): the compute cannot get the role's credentials, and the role itself is still
-- reported by admin-iam-role.
-- grain: resource_arn

with functions as (
    select * from raw_lambda_functions
),

admins as (
    select * from int_admin_identities where principal_type = 'role'
),

blocked as (
    -- compute the role's trust policy decidedly keeps out
    select compute_arn from int_compute_role_trust where trust_verdict = 'false'
),

final as (
    select
        'admin-lambda-function' as rule_id,
        f.function_arn as resource_arn,
        'lambda_function' as resource_type,
        f.account_id,
        a.principal_arn,
        'Lambda function ' || f.function_name || ' runs with administrative privileges' as title,
        to_json({
            'function_name': f.function_name,
            'region': f.region,
            'role_arn': a.principal_arn,
            'granting_policies': a.granting_policies
        })::varchar as evidence
    from functions as f
    inner join admins as a on a.principal_arn = f.role_arn
    where not exists (select 1 from blocked as b where b.compute_arn = f.function_arn)
)

select * from final
