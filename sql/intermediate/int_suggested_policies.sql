-- int_suggested_policies
-- Per user and role (not service-linked): a least-privilege identity policy built from what it
-- used in the window, meant to replace its identity policies (own and groups'; the boundary and
-- SCPs stay). Only observable used actions can be suggested: one Allow statement per service
-- (Sid `Allow<Service>`), actions as the catalog spells them, resources the resource patterns
-- the current policies grant for those actions (events in the usage aggregate carry no
-- resource, so nothing narrower is known; `*` when a grant is on `*` or is a NotResource grant).
-- Used actions of a service granted on different resource sets get one statement per set
-- (`Allow<Service>`, `Allow<Service>Part2`, …). Granted actions CloudTrail cannot show (e.g.
-- iam:PassRole) are not in the suggestion and are listed for review, as are used actions whose
-- grant has a Condition (the suggestion does not carry conditions). An action `unobservable`
-- only because its account's CloudTrail has a gap (`cloudtrail_gap`) is not one CloudTrail
-- cannot show and is not listed: the gap rules do not judge that account, and listed it would
-- make every granted action of the account's principals a review entry (a bucket of principals
-- allowed `*` held 3.8 M of them, near the memory limit).
-- Built per principal bucket (as permission_insights, which it reads): the lists of granted
-- actions for review hold a bucket's principals at a time, not the organization's (on an
-- organization where everyone can do nearly everything they are every effective permission).
-- grain: principal_arn
-- partition: principal_bucket

with identities as (
    -- the bucket's principals (every identity has a policy set, so a bucket)
    select * from int_identities
    semi join int_principal_policy_sets as b using (principal_arn)
    where principal_type in ('user', 'role') and not is_service_linked
),

used_insights as materialized (
    -- permission_insights is read by each CTE for its own columns and rows (a CTE named twice
    -- is materialized whole: every principal's every action)
    select principal_arn, action, service, action_name from permission_insights
    where usage_status = 'used'
),

effective as (
    -- only the used (principal, action) pairs: a semi join against the few used rows, never a
    -- hash table of every effective permission
    select principal_arn, action, granted_resources from effective_permissions
    semi join used_insights as u using (principal_arn, action)
),

used as (
    select
        i.principal_arn,
        i.service,
        i.action_name,
        case
            when len(e.granted_resources) = 0
                or list_contains(e.granted_resources, '*')
                or len(list_filter(e.granted_resources, lambda r: starts_with(r, '!'))) > 0
                then ['*']
            else list_sort(list_distinct(e.granted_resources))
        end as resources
    from used_insights as i
    inner join effective as e
        on e.principal_arn = i.principal_arn
        and e.action = i.action
),

statement_parts as (
    select
        principal_arn,
        service,
        resources,
        list_sort(list(action_name)) as actions,
        -- `s3` -> `S3`, `resource-groups` -> `ResourceGroups`
        'Allow' || array_to_string(
            list_transform(string_split(service, '-'), lambda w: upper(w[1]) || w[2:]), ''
        ) as service_sid
    from used
    group by principal_arn, service, resources
),

statements as (
    select
        principal_arn,
        service_sid || case when part > 1 then 'Part' || part else '' end as sid,
        actions,
        resources
    from (
        select
            *,
            row_number() over (
                partition by principal_arn, service order by resources
            ) as part
        from statement_parts
    )
),

documents as (
    select
        principal_arn,
        count(*) as statement_count,
        -- bigint: a sum is a hugeint, which Parquet (the bucket's part) stores as a double
        sum(len(actions))::bigint as suggested_actions,
        list(
            {'Sid': sid, 'Effect': 'Allow', 'Action': actions, 'Resource': resources}
            order by sid
        ) as statement_list
    from statements
    group by principal_arn
),

review as (
    select
        principal_arn,
        list_sort(list(action_name) filter (
            where usage_status = 'unobservable'
                and unobservable_reason is distinct from 'cloudtrail_gap'
        )) as unobservable_actions,
        list_sort(list(action_name) filter (where usage_status = 'used' and is_conditional))
            as conditional_used_actions,
        any_value(catalog_version) as catalog_version
    from permission_insights
    group by principal_arn
),

final as (
    select
        i.principal_arn,
        to_json({
            'Version': '2012-10-17',
            'Statement': coalesce(d.statement_list, [])
        })::varchar as suggested_policy,
        coalesce(d.statement_count, 0) as statement_count,
        coalesce(d.suggested_actions, 0) as suggested_actions,
        coalesce(r.unobservable_actions, []) as unobservable_actions,
        coalesce(r.conditional_used_actions, []) as conditional_used_actions,
        r.catalog_version
    from identities as i
    left join documents as d on d.principal_arn = i.principal_arn
    left join review as r on r.principal_arn = i.principal_arn
)

select * from final
