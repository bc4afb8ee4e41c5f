-- int_can_escalate_to
-- The `can_escalate_to` rows of relationships (user/role/group → user/role/group): a step of a
-- privilege-escalation path (int_privesc_steps: every step of privilege_escalation_paths is the
-- first step of a path of its own), or of a path held open because it ran through an account
-- incomplete now (int_detections_current: such a path keeps its edges as it keeps its
-- detection). One row per (source, target) with the steps' methods in `details` ({methods:
-- [{method, via, actions, conditional, compute_presumed}]}, by method and `via`); always risky
-- (`privilege-escalation`). A self step (a principal making itself admin) is an edge to itself.
-- Built per principal bucket (the steps from the bucket's principals): a dense organization has
-- a million steps.
-- grain: source_arn, target_arn
-- partition: principal_bucket

with identities as (
    select * from int_identities
),

held_open as materialized (
    -- the detections held open (their evidence is parsed; the others' steps are this run's)
    select evidence from int_detections_current
    where rule_id = 'privilege-escalation'
        and json_extract(evidence, '$.held_open') is not null
),

path_steps as (
    select
        source_arn, next_arn as target_arn, method, via_arn, actions, is_conditional,
        compute_presumed
    from int_privesc_steps
    union all
    select
        s.step ->> 'from' as source_arn,
        s.step ->> 'to' as target_arn,
        s.step ->> 'method' as method,
        s.step ->> 'via' as via_arn,
        (s.step -> 'actions')::varchar[] as actions,
        (s.step ->> 'conditional')::boolean as is_conditional,
        (s.step ->> 'compute_presumed')::boolean as compute_presumed
    from held_open as d,
        unnest(from_json(d.evidence -> '$.paths[*].path', '[["json"]]')) as t(path),
        unnest(t.path) as s(step)
    -- the bucket's (a step from a principal not in the snapshot has no source row below)
    where s.step ->> 'from' in (select principal_arn from int_principal_policy_sets)
),

escalation_steps as (
    select distinct * from path_steps
),

can_escalate_to as (
    select
        e.source_arn,
        'iam_' || si.principal_type as source_type,
        'can_escalate_to' as relationship,
        e.target_arn,
        'iam_' || ti.principal_type as target_type,
        si.account_id as source_account_id,
        ti.account_id as target_account_id,
        'privilege-escalation' as risk_reason,
        to_json({
            'methods': list({
                'method': e.method,
                'via': e.via_arn,
                'actions': e.actions,
                'conditional': e.is_conditional,
                'compute_presumed': e.compute_presumed
            } order by e.method, e.via_arn)
        })::varchar as details
    from escalation_steps as e
    inner join identities as si on si.principal_arn = e.source_arn
    inner join identities as ti on ti.principal_arn = e.target_arn
    group by e.source_arn, si.principal_type, e.target_arn, ti.principal_type, si.account_id,
        ti.account_id
),

final as (
    select * from can_escalate_to
)

select * from final
