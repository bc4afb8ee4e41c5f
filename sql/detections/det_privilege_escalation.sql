-- det_privilege_escalation
-- Rule privilege-escalation: a user, role or group that is not an administrator but can become
-- one in a single step through a published AWS method (int_privesc_paths): rewriting or
-- attaching its own policies, joining a privileged group, taking over a privileged user's
-- credentials, re-trusting or assuming a privileged role, or passing a privileged role to a
-- service (EC2, Lambda, CloudFormation, Glue, Data Pipeline, SageMaker, CodeBuild, ECS).
-- Administrators (int_admin_identities) and service-linked roles are not reported. The evidence
-- lists each method with its actions, the statements granting them and its targets (the first
-- ten, with their count); `target_state_known` is false when a method that needs its target
-- user's state (console password, access-key count) kept a user the credential report does not
-- list, null for methods that need none.
-- grain: resource_arn

with paths as (
    select * from int_privesc_paths
),

identities as (
    select * from int_identities
    where not is_service_linked
),

admins as (
    select principal_arn from int_admin_identities
),

per_principal as (
    select
        principal_arn,
        list_sort(list(method_id)) as method_ids,
        list(
            {
                'method': method_id,
                'description': method_title,
                'target_kind': target_kind,
                'target_count': len(target_arns),
                'targets': target_arns[1:10],
                'target_state_known': target_state_known,
                'actions': actions
            }
            order by method_id
        ) as methods
    from paths
    group by principal_arn
),

final as (
    select
        'privilege-escalation' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name
        || ' can escalate to administrator in one step ('
        || array_to_string(p.method_ids[1:3], ', ')
        || case when len(p.method_ids) > 3 then ' and ' || (len(p.method_ids) - 3) || ' more' else '' end
        || ')' as title,
        to_json({
            'method_count': len(p.method_ids),
            'methods': p.methods
        })::varchar as evidence
    from per_principal as p
    inner join identities as i on i.principal_arn = p.principal_arn
    where p.principal_arn not in (select principal_arn from admins)
)

select * from final
