-- int_account_scp_levels
-- For every member account of the organization (not the management account, which SCPs do
-- not restrict), each level of its path root -> OUs -> account and the SCPs attached there.
-- An action must be allowed at every level. A level with no SCP allows nothing.
-- https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
-- grain: account_id, node_id, policy_key

with recursive accounts as (
    select a.account_id
    from raw_org_accounts as a
    where a.account_id not in (select management_account_id from raw_org_organization)
),

chain(account_id, node_id, depth) as (
    select account_id, account_id, 0 from accounts
    union all
    select c.account_id, p.parent_id, c.depth + 1
    from chain as c
    inner join raw_org_parents as p on p.child_id = c.node_id
),

scps as (
    select policy_id from raw_org_policies where type = 'SERVICE_CONTROL_POLICY'
),

final as (
    select
        c.account_id,
        c.node_id,
        c.depth,
        case when t.policy_id is null then null else 'org|' || t.policy_id end as policy_key
    from chain as c
    left join raw_org_policy_targets as t
        on t.target_id = c.node_id
        and t.policy_id in (select policy_id from scps)
)

select * from final
