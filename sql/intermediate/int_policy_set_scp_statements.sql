-- int_policy_set_scp_statements
-- The SCP statements (int_scp_statements) each policy set is evaluated with, their Conditions
-- resolved with the set's condition verdicts (int_principal_condition_verdicts, on the
-- representative; every principal of the set has the same): a statement whose Condition is
-- false for the set is left out (a region-restriction Deny that exempts a break-glass role by
-- `aws:PrincipalArn` does not apply to that role), one whose Condition holds is unconditional,
-- one left open keeps only the request keys it still needs (`condition_keys`). Only sets whose
-- account SCPs restrict have rows.
-- https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
-- grain: policy_set_key, node_id, policy_key, statement_index
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative and scp_applies
),

scp_statements as (
    select * from int_scp_statements
),

verdicts as (
    select * from int_principal_condition_verdicts
),

final as (
    select
        st.policy_set_key,
        c.* replace (
            c.has_condition and v.verdict is distinct from 'true' as has_condition,
            case
                when v.verdict = 'true' then []
                else coalesce(v.needed_keys, c.condition_keys)
            end as condition_keys
        )
    from sets as st
    inner join scp_statements as c on c.account_id = st.account_id
    left join verdicts as v
        on v.principal_arn = st.principal_arn
        and v.policy_key = c.policy_key
        and v.statement_index = c.statement_index
    where v.verdict is distinct from 'false'
)

select * from final
