-- int_admin_identities
-- Identities whose identity policies (users: with their groups'), within the permission
-- boundary, allow every catalog action on every resource without condition, with no explicit
-- Deny in those policies taking any back. SCPs are organization guardrails and do not change
-- admin status; `scp_denied_actions` says how much they take away. Computed once per policy
-- set (principals with the same set share the answer).
-- An Allow of everything whose `NotResource` names only particular resources outside IAM
-- (wildcard-free ARNs such as one bucket) counts as every resource: the principal keeps every
-- IAM action on every IAM resource, so it can rewrite its own policies and drop the exception.
-- grain: principal_arn

with principal_sets as (
    select * from int_principal_policy_sets
),

evaluated as (
    select * from int_policy_set_method_actions_evaluated
),

named_exception_grants as (
    -- Unconditional identity Allows whose NotResource lists only wildcard-free, non-IAM ARNs.
    select policy_set_key, grant_id
    from int_policy_set_statements
    where source = 'identity'
        and effect = 'Allow'
        and not has_condition
        and not_resources is not null
        and len(not_resources) > 0
        and len(list_filter(
            not_resources,
            lambda r: r not like 'arn:%'
                or contains(r, '*')
                or contains(r, '?')
                or contains(r, '${')
                or split_part(r, ':', 3) = 'iam'
        )) = 0
),

classes_allowed_but_named as (
    -- Action classes such a grant gives, where no unconditional Deny of the identity policies or
    -- the boundary cuts it (SCPs do not change admin status, as above).
    select distinct g.policy_set_key, g.class_key
    from int_policy_set_grants as g
    inner join named_exception_grants as n
        on n.policy_set_key = g.policy_set_key
        and n.grant_id = g.grant_id
    where not g.has_condition and not g.is_cut_by_identity and not g.is_cut_by_boundary
),

catalog_size as (
    select count(*) as actions from ref_iam_actions
),

per_set as (
    -- Counted per action class (int_policy_set_classes_evaluated): every action of a class has
    -- its answer, so a class counts as many actions as it holds.
    select
        e.policy_set_key,
        coalesce(sum(k.actions) filter (
            where (e.allows_all_unconditionally or n.class_key is not null)
                and (not e.has_boundary or e.boundary_allows_all_unconditionally)
                and not e.denied_by_identity
                and not e.denied_by_boundary
        ), 0)::bigint as admin_actions,
        coalesce(sum(k.actions) filter (
            where e.scp_applies and not (e.scp_allows and not e.denied_by_scp)
        ), 0)::bigint as scp_denied_actions
    from int_policy_set_classes_evaluated as e
    inner join int_policy_set_action_classes as k
        on k.policy_set_key = e.policy_set_key
        and k.class_key = e.class_key
    left join classes_allowed_but_named as n
        on n.policy_set_key = e.policy_set_key
        and n.class_key = e.class_key
    group by e.policy_set_key
),

granting_policies as (
    -- The policies holding an unconditional Allow of everything (e.g. AdministratorAccess).
    select
        e.policy_set_key,
        list_sort(list(distinct g.policy)) as granting_policies
    from evaluated as e,
        unnest(from_json(
            e.granted_by_json, '[{"policy": "VARCHAR", "conditional": "BOOLEAN"}]'
        )) as t(g)
    where e.action = 'iam:createuser'
        and not g.conditional
    group by e.policy_set_key
),

final as (
    select
        p.principal_arn,
        p.principal_type,
        p.account_id,
        g.granting_policies,
        s.scp_denied_actions
    from per_set as s
    cross join catalog_size as c
    inner join principal_sets as p on p.policy_set_key = s.policy_set_key
    left join granting_policies as g on g.policy_set_key = s.policy_set_key
    where s.admin_actions = c.actions
)

select * from final
