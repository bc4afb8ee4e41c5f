-- int_account_org_paths
-- Every account of the organization (its members and the management account) with its
-- organization path `o-id/r-root/ou-…/ou-…/`, the value of `aws:PrincipalOrgPaths` for its
-- principals and of `aws:ResourceOrgPaths` for its resources (null when the snapshot has no
-- parent for it). Read by the condition facts of identity and resource policies.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths
-- grain: account_id

with recursive organization as (
    select organization_id, management_account_id from raw_org_organization
    limit 1
),

org_accounts as (
    select account_id from raw_org_accounts
    union
    select management_account_id from organization where management_account_id is not null
),

parents as (
    select child_id, any_value(parent_id) as parent_id from raw_org_parents group by child_id
),

chain(account_id, node_id, depth) as (
    -- each account's parents, nearest first (a cycle in the input stops at 32 levels)
    select a.account_id, p.parent_id, 1
    from org_accounts as a
    inner join parents as p on p.child_id = a.account_id
    union all
    select c.account_id, p.parent_id, c.depth + 1
    from chain as c
    inner join parents as p on p.child_id = c.node_id
    where c.depth < 32 and p.parent_id <> c.account_id
),

org_paths as (
    select
        c.account_id,
        o.organization_id || '/' || string_agg(c.node_id, '/' order by c.depth desc) || '/'
            as org_path
    from chain as c
    cross join organization as o
    group by c.account_id, o.organization_id
),

final as (
    select a.account_id, p.org_path
    from org_accounts as a
    left join org_paths as p on p.account_id = a.account_id
)

select * from final
