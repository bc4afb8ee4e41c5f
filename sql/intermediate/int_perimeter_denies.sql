-- int_perimeter_denies
-- The data-perimeter Deny statements of resource-based and role trust policies: a Deny naming
-- anyone as principal (`"*"` or `{"AWS": "*"}`), without NotResource, every entry of whose
-- Condition is either a negated caller entry or `BoolIfExists aws:PrincipalIsAWSService false`
-- (int_policy_condition_entries), at least one naming callers. A negated operator is true when
-- the key is absent, so an anonymous caller, or one outside the named organization or accounts,
-- is denied: only the callers the values name escape the Deny (and AWS service principals,
-- `exempts_aws_services`, where the exemption is there). Any other entry (a principal tag, a
-- source IP, plain `Bool`, a positive operator) could let a stranger past the Deny, which then
-- restricts nothing. One row per list of caller keys the statement is a perimeter Deny under
-- (`caller_key_list`, see int_policy_condition_entries): `resource_grants` for resource-based
-- and trust policies (int_resource_policy_grants), `role_trust` for trust policies
-- (int_role_trust_principals). `condition_keys`: the keys of its negated caller entries.
-- https://github.com/aws-samples/data-perimeter-policy-examples
-- Which users and roles of the snapshot a perimeter Deny holds for, and which escape it, is
-- decided per principal in int_resource_condition_verdicts (verdict 'true' = denied).
-- grain: caller_key_list, policy_key, statement_index

with statements as (
    select * from stg_policy_statements
    where policy_kind in ('resource', 'trust')
),

key_lists as (
    select * from (
        values
            ('resource_grants', ['resource', 'trust']),
            ('role_trust', ['trust'])
    ) as t(caller_key_list, policy_kinds)
),

perimeter_entries as (
    select
        l.caller_key_list,
        e.policy_key,
        e.statement_index,
        e.condition_key,
        e.is_negated_caller_entry
        and list_contains(e.caller_key_lists, l.caller_key_list) as is_caller_entry,
        e.is_service_exemption
    from int_policy_condition_entries as e
    inner join key_lists as l on list_contains(l.policy_kinds, e.policy_kind)
    where e.effect = 'Deny'
),

final as (
    select
        p.caller_key_list,
        s.policy_key,
        s.policy_kind,
        s.resource_arn,
        s.statement_index,
        s.sid,
        s.resources,
        list_sort(list_distinct(list(p.condition_key) filter (where p.is_caller_entry)))
            as condition_keys,
        bool_or(p.is_service_exemption) as exempts_aws_services
    from statements as s
    inner join perimeter_entries as p
        on p.policy_key = s.policy_key
        and p.statement_index = s.statement_index
    where s.effect = 'Deny'
        and list_contains(s.principal_aws, '*')
        and s.not_resources is null
    group by p.caller_key_list, s.policy_key, s.policy_kind, s.resource_arn, s.statement_index,
        s.sid, s.resources
    having bool_and(p.is_caller_entry or p.is_service_exemption) and bool_or(p.is_caller_entry)
)

select * from final
