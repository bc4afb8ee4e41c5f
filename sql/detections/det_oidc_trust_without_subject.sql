-- det_oidc_trust_without_subject
-- Rule oidc-trust-without-subject: a role that trusts a common OIDC provider (ref_oidc_providers:
-- GitHub Actions, GitLab, HCP Terraform, CircleCI, Bitbucket, Buildkite, Google, Cognito, EKS,
-- Entra ID) for sts:AssumeRoleWithWebIdentity without a condition on the claim naming the
-- workload (`<provider>:sub`; `aud`, the identity pool, for Cognito) that a stranger's subject
-- fails: no such condition, a StringLike whose value admits any owner (`repo:*`, `*`), a negated
-- or Null operator. Providers not in the list never fire (their claims are not known).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
-- grain: resource_arn

with trust as (
    select * from int_role_trust_principals
    where is_oidc_without_subject
),

final as (
    select
        'oidc-trust-without-subject' as rule_id,
        role_arn as resource_arn,
        'iam_role' as resource_type,
        role_account_id as account_id,
        role_arn as principal_arn,
        'IAM role ' || any_value(role_name) || ' can be assumed from any '
            || string_agg(distinct oidc_provider_name, ', ' order by oidc_provider_name)
            || ' workload (' || string_agg(
                distinct subject_condition_key, ', ' order by subject_condition_key
            ) || ' does not restrict it)' as title,
        to_json({
            'providers': list(distinct oidc_provider order by oidc_provider),
            'statements': list(
                struct_insert(
                    statement_evidence,
                    provider := oidc_provider_name,
                    required_condition_key := subject_condition_key
                )
                order by statement_index, principal
            )
        })::varchar as evidence
    from trust
    group by role_arn, role_account_id
)

select * from final
