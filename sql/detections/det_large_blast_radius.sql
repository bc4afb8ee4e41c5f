-- det_large_blast_radius
-- Rule large-blast-radius: a user or role that can perform Write or Permissions management
-- actions (catalog access level) on every resource (`Resource: "*"`) in at least `min_services`
-- services (5, the constant in `settings`): a stolen credential or a bug can change much of the
-- account. An action counts when it is effective and some statement allows it on `*` without a
-- Condition (a conditional Deny, e.g. an SCP's region guardrail, does not shrink the reach;
-- `conditional_actions` in the evidence counts those). Administrators (reported by the admin
-- rules) and service-linked roles (their policies belong to AWS) are left out.
-- The evidence lists the services with their action counts, the totals and the granting
-- policies. Counted per action class of each policy set (int_policy_set_classes_evaluated), never
-- per principal and action: the same counts, at the cost of the classes. Built per principal
-- bucket (each bucket's sets and their class actions): the named actions of every set held at
-- once ran out of memory on forty adversarial accounts (172 M class actions).
-- grain: resource_arn
-- partition: principal_bucket

with settings as (
    select 5 as min_services
),

catalog as (
    select action, service, access_level from ref_iam_actions
    where access_level in ('Write', 'Permissions management')
),

-- Per action class of each policy set (int_policy_set_classes_evaluated), never per principal
-- and action: every action of a class has the class's answer, and every principal of a set has
-- the set's. The actions of a named class are listed (int_policy_set_class_actions); the rest
-- class holds every catalog action no pattern of the set names, counted as the catalog's count
-- minus the set's named actions.
reaching_classes as materialized (
    select policy_set_key, class_key, is_conditional, granted_by_json
    from int_policy_set_classes_evaluated
    where is_effective and allows_all_unconditionally
),

named_actions as materialized (
    select a.policy_set_key, a.class_key, c.service, c.access_level
    from int_policy_set_class_actions as a
    inner join catalog as c on c.action = a.action
),

named_counts as (
    -- per set and service, every named action (whatever its class)
    select
        policy_set_key,
        service,
        count(*) as actions,
        count(*) filter (where access_level = 'Permissions management')
            as permissions_management_actions
    from named_actions
    group by policy_set_key, service
),

catalog_counts as (
    select
        service,
        count(*) as actions,
        count(*) filter (where access_level = 'Permissions management')
            as permissions_management_actions
    from catalog
    group by service
),

class_service_counts as (
    -- (set, class, service) with the class's action counts in that service
    select
        n.policy_set_key,
        n.class_key,
        n.service,
        count(*) as actions,
        count(*) filter (where n.access_level = 'Permissions management')
            as permissions_management_actions
    from named_actions as n
    semi join reaching_classes as r
        on r.policy_set_key = n.policy_set_key
        and r.class_key = n.class_key
    group by n.policy_set_key, n.class_key, n.service

    union all

    select
        r.policy_set_key,
        r.class_key,
        c.service,
        c.actions - coalesce(n.actions, 0) as actions,
        c.permissions_management_actions - coalesce(n.permissions_management_actions, 0)
            as permissions_management_actions
    from reaching_classes as r
    cross join catalog_counts as c
    left join named_counts as n
        on n.policy_set_key = r.policy_set_key
        and n.service = c.service
    where r.class_key = md5('')  -- the rest class
        and c.actions - coalesce(n.actions, 0) > 0
),

set_permissions as (
    select
        s.policy_set_key,
        s.class_key,
        s.service,
        s.actions,
        s.permissions_management_actions,
        r.is_conditional,
        r.granted_by_json
    from class_service_counts as s
    inner join reaching_classes as r
        on r.policy_set_key = s.policy_set_key
        and r.class_key = s.class_key
),

principal_sets as (
    select principal_arn, policy_set_key from int_principal_policy_sets
    where principal_type in ('user', 'role')
),

identities as (
    select * from int_identities
    where principal_type in ('user', 'role') and not is_service_linked
),

admins as (
    select principal_arn from int_admin_identities
),

set_per_service as (
    select
        policy_set_key,
        service,
        sum(actions)::bigint as actions,
        sum(permissions_management_actions)::bigint as permissions_management_actions,
        coalesce(sum(actions) filter (where is_conditional), 0)::bigint as conditional_actions
    from set_permissions
    group by policy_set_key, service
),

set_granting_policies as (
    select
        p.policy_set_key,
        list_sort(list(distinct g.policy)) as policies
    from set_permissions as p,
        unnest(from_json(p.granted_by_json, '[{"policy": "VARCHAR"}]')) as t(g)
    group by p.policy_set_key
),

per_service as (
    select p.principal_arn, s.* exclude (policy_set_key)
    from principal_sets as p
    inner join set_per_service as s on s.policy_set_key = p.policy_set_key
),

granting_policies as (
    select p.principal_arn, g.policies
    from principal_sets as p
    inner join set_granting_policies as g on g.policy_set_key = p.policy_set_key
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
