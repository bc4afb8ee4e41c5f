-- int_resource_condition_verdicts
-- Resource-based and trust policy statements with a Condition, decided per principal: for every
-- such statement and every user and role of the snapshot its Principal (or NotPrincipal)
-- covers (`principal_match`, see int_resource_condition_facts), and for a trust statement naming
-- `lambda.amazonaws.com`/`ec2.amazonaws.com` every function/instance that runs as the role
-- (`principal_match` 'service', `principal_arn` the compute's ARN; aws:SourceAccount and
-- aws:SourceArn are then the function's, open for EC2), the Condition decided from what
-- the snapshot knows about the principal and the resource, as `ciem explain` decides it
-- (data-perimeter keys such as `aws:PrincipalOrgID`, `aws:PrincipalArn`,
-- `aws:PrincipalAccount`, `aws:PrincipalTag/*`, `aws:ResourceAccount`, `aws:ResourceOrgID`; the
-- `aws:Source*` keys, absent from a user's or role's own request). `verdict`: 'true' (the
-- statement applies to this principal unconditionally), 'false' (it does not apply: the
-- principal is outside the perimeter an Allow names, or escapes a perimeter Deny) or
-- 'unknown'; `condition_keys` lists exactly the request keys an 'unknown' still needs
-- (`aws:sourceip`, `aws:securetransport`…; empty when decided; the statement's keys for a
-- Condition that is not a JSON object). Decided once per distinct fact tuple
-- (int_resource_condition_fact_verdicts), given here to each principal.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
-- grain: policy_key, statement_index, principal_arn

with final as (
    select
        f.resource_arn,
        f.policy_kind,
        f.policy_key,
        f.statement_index,
        f.effect,
        f.principal_arn,
        f.principal_match,
        v.verdict,
        case
            when v.verdict <> 'unknown' then []::varchar[]
            else coalesce(v.needed_keys, f.condition_keys)
        end as condition_keys
    from int_resource_condition_facts as f
    inner join int_resource_condition_fact_verdicts as v
        on v.policy_key = f.policy_key
        and v.statement_index = f.statement_index
        and v.facts_json = f.facts_json
)

select * from final
