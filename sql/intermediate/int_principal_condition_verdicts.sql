-- int_principal_condition_verdicts
-- For every user and role and every statement with a Condition that applies to it (its identity
-- policies, own and its groups', its permission boundary, and the SCPs of its account when SCPs
-- restrict it): the Condition decided from what the snapshot knows about the principal, by the
-- condition evaluator that `ciem explain` uses (pipelines/lib/warehouse/conditions.py, through
-- this model's Python transform). `verdict`: 'true' (the statement holds unconditionally),
-- 'false' (it does not apply to this principal) or 'unknown'; `needed_keys` the lower-cased
-- request keys an 'unknown' still needs (`aws:requestedregion`, `aws:sourceip`…; null for a
-- Condition that is not a JSON object, which keeps the keys staging found). The principal's
-- facts: `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
-- `aws:PrincipalIsAWSService`, `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` (with the
-- organization's data), `aws:PrincipalTag/*`, and for a user `aws:username` and `aws:userid`;
-- `aws:TokenIssueTime` lies within 36 hours before the run's as-of date (or is absent for a
-- user's long-term keys), which decides a threshold on it that every such value meets or fails.
-- At action level the resource is not known: `aws:ResourceAccount`, `aws:ResourceTag/*`… stay
-- unknown here. int_principal_policy_sets makes the verdicts part of the policy-set key, and
-- the evaluation models apply them to the statements of each set.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
-- grain: principal_arn, policy_key, statement_index
-- transform: pipelines.lib.warehouse.condition_verdicts:verdicts

with identities as (
    select * from int_identities
    where principal_type in ('user', 'role')
),

statements as (
    select policy_key, statement_index, condition_json from stg_policy_statements
    where has_condition
),

organization as (
    select organization_id, management_account_id from raw_org_organization
    limit 1
),

org_accounts as (
    -- the organization's accounts and their paths o-id/r-root/ou-…/ (aws:…OrgPaths)
    select account_id, org_path from int_account_org_paths
),

facts as (
    select
        i.principal_arn,
        i.account_id,
        i.scp_applies,
        i.boundary_policy_key,
        to_json({
            'principal_arn': i.principal_arn,
            'principal_type': i.principal_type,
            'account_id': i.account_id,
            'name': i.name,
            'unique_id': coalesce(u.user_id, r.role_id),
            'tags_json': i.tags_json,
            'org_id': o.organization_id,
            'org_member': i.account_id in (select account_id from org_accounts),
            'org_path': p.org_path,
            'as_of': (select as_of from run_params)::varchar
        })::varchar as facts_json
    from identities as i
    left join raw_iam_users as u on u.arn = i.principal_arn
    left join raw_iam_roles as r on r.arn = i.principal_arn
    left join organization as o on true
    left join org_accounts as p on p.account_id = i.account_id
),

applying as (
    -- identity policies (own and the groups')
    select f.principal_arn, pp.policy_key
    from facts as f
    inner join int_principal_policies as pp on pp.principal_arn = f.principal_arn

    union

    -- the permission boundary
    select f.principal_arn, f.boundary_policy_key as policy_key
    from facts as f
    where f.boundary_policy_key is not null

    union

    -- the SCPs of every level of its account
    select f.principal_arn, l.policy_key
    from facts as f
    inner join int_account_scp_levels as l on l.account_id = f.account_id
    where f.scp_applies and l.policy_key is not null
),

final as (
    select
        a.principal_arn,
        s.policy_key,
        s.statement_index,
        s.condition_json,
        f.facts_json
    from applying as a
    inner join statements as s on s.policy_key = a.policy_key
    inner join facts as f on f.principal_arn = a.principal_arn
)

select * from final
