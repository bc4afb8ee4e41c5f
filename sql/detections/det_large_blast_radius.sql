-- det_large_blast_radius
-- Rule large-blast-radius: a user or role that can perform Write or Permissions management
-- actions (catalog access level) on every resource (`Resource: "*"`) in at least `min_services`
-- services (5, the constant in `settings`): a stolen credential or a bug can change much of the
-- account. An action counts when it is effective and some statement allows it on `*` without a
-- Condition (a conditional Deny, e.g. an SCP's region guardrail, does not shrink the reach;
-- `conditional_actions` in the evidence counts those). Administrators (reported by the admin
-- rules) and service-linked roles (their policies belong to AWS) are left out.
-- The evidence lists the services with their action counts, the totals and the granting
-- policies.
-- grain: resource_arn

with settings as (
    select 5 as min_services
),

catalog as (
    select action, service, access_level from ref_iam_actions
    where access_level in ('Write', 'Permissions management')
),

permissions as (
    select e.principal_arn, e.is_conditional, e.granted_by_json, c.service, c.access_level
    from int_principal_actions_evaluated as e
    inner join catalog as c on c.action = e.action
    where e.principal_type in ('user', 'role')
        and e.is_effective
        and e.allows_all_unconditionally
),

identities as (
    select * from int_identities
    where principal_type in ('user', 'role') and not is_service_linked
),

admins as (
    select principal_arn from int_admin_identities
),

per_service as (
    select
        principal_arn,
        service,
        count(*) as actions,
        count(*) filter (where access_level = 'Permissions management')
            as permissions_management_actions,
        count(*) filter (where is_conditional) as conditional_actions
    from permissions
    group by principal_arn, service
),

granting_policies as (
    select
        p.principal_arn,
        list_sort(list(distinct g.policy)) as policies
    from permissions as p,
        unnest(from_json(p.granted_by_json, '[{"policy": "VARCHAR"}]')) as t(g)
    group by p.principal_arn
),

per_principal as (
    select
        principal_arn,
        count(*) as service_count,
        sum(actions)::integer as action_count,
        sum(permissions_management_actions)::integer as permissions_management_actions,
        sum(conditional_actions)::integer as conditional_actions,
        list({'service': service, 'actions': actions} order by actions desc, service)
            as services
    from per_service
    group by principal_arn
),

final as (
    select
        'large-blast-radius' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name || ' can change every resource of '
        || p.service_count || ' services (' || p.action_count
        || ' write or permissions-management actions on Resource "*")' as title,
        to_json({
            'service_count': p.service_count,
            'action_count': p.action_count,
            'write_actions': p.action_count - p.permissions_management_actions,
            'permissions_management_actions': p.permissions_management_actions,
            'conditional_actions': p.conditional_actions,
            'min_services': s.min_services,
            'services': p.services,
            'granting_policies': g.policies
        })::varchar as evidence
    from per_principal as p
    cross join settings as s
    inner join identities as i on i.principal_arn = p.principal_arn
    left join granting_policies as g on g.principal_arn = p.principal_arn
    where p.service_count >= s.min_services
        and p.principal_arn not in (select principal_arn from admins)
)

select * from final
