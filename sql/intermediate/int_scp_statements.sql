-- int_scp_statements
-- The statements of the SCPs at every level of each account whose principals SCPs restrict
-- (member accounts, not service-linked roles). SCPs depend on the account only: every policy
-- set of the account shares these rows.
-- https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
-- grain: account_id, node_id, policy_key, statement_index

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

statements as (
    select * from stg_policy_statements
),

scp_levels as (
    select * from int_account_scp_levels
),

final as (
    select
        l.account_id,
        'scp:' || l.node_id as source,
        l.node_id,
        s.*
    from scp_levels as l
    inner join statements as s on s.policy_key = l.policy_key
    where l.account_id in (select account_id from sets where scp_applies)
        -- a NotResource that names every resource (`*`) leaves the statement none to apply to
        and len(list_filter(
            coalesce(s.not_resources, []), lambda r: regexp_full_match(r, '\*+')
        )) = 0
)

select * from final
