-- int_admin_identities
-- Identities whose identity policies (users: with their groups'), within the permission
-- boundary, allow every catalog action on every resource without condition, with no explicit
-- Deny in those policies taking any back. SCPs are organization guardrails and do not change
-- admin status; `scp_denied_actions` says how much they take away.
-- grain: principal_arn

with evaluated as (
    select * from int_principal_actions_evaluated
),

catalog_size as (
    select count(*) as actions from ref_iam_actions
),

per_principal as (
    select
        principal_arn,
        any_value(principal_type) as principal_type,
        any_value(account_id) as account_id,
        count(*) filter (
            where allows_all_unconditionally
                and (not has_boundary or boundary_allows_all_unconditionally)
                and not denied_by_identity
                and not denied_by_boundary
        ) as admin_actions,
        count(*) filter (where scp_applies and not (scp_allows and not denied_by_scp))
            as scp_denied_actions
    from evaluated
    group by principal_arn
),

granting_policies as (
    -- The policies holding an unconditional Allow of everything (e.g. AdministratorAccess).
    select
        e.principal_arn,
        list_sort(list(distinct g.policy)) as granting_policies
    from evaluated as e,
        unnest(e.granted_by) as t(g)
    where e.action = 'iam:createuser'
        and not g.conditional
    group by e.principal_arn
),

final as (
    select
        p.principal_arn,
        p.principal_type,
        p.account_id,
        g.granting_policies,
        p.scp_denied_actions
    from per_principal as p
    cross join catalog_size as c
    left join granting_policies as g on g.principal_arn = p.principal_arn
    where p.admin_actions = c.actions
)

select * from final
