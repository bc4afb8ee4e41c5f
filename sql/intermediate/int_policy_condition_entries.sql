-- int_policy_condition_entries
-- One row per condition entry (operator, key) of every resource-based and role trust policy
-- statement, Allow and Deny. The operator is split into its set qualifier (`ForAnyValue` /
-- `ForAllValues`, null without one), its base operator (lower-cased, e.g. `stringlike`) and its
-- `IfExists` suffix; condition keys are lower-cased (IAM matches them case-insensitively) and
-- values always become a list of text (a single value, a boolean or a number is a one-element
-- list).
-- `caller_key_lists`: the lists of caller keys (keys that limit who can call) that hold the
-- entry's key, empty when none. `resource_grants` is int_resource_policy_grants' list:
-- aws:SourceAccount, aws:SourceArn, aws:SourceOwner, aws:SourceOrgID, aws:SourceOrgPaths,
-- aws:SourceVpc, aws:SourceVpce, aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID,
-- aws:PrincipalOrgPaths, kms:CallerAccount (for resource-based and trust policies alike);
-- `role_trust` is int_role_trust_principals' list: aws:PrincipalOrgID, aws:PrincipalOrgPaths,
-- aws:PrincipalAccount, aws:PrincipalArn, aws:userid, aws:SourceAccount, aws:SourceArn,
-- aws:SourceOrgID, aws:SourceOrgPaths (who the caller is or, for services, on whose behalf it
-- acts).
-- `pins_caller`: each value names particular callers — under a Like operator (ArnEquals too
-- takes wildcards, and so do their negations) a wildcard in the account of an ARN
-- (`arn:aws:iam::*:role/deployer`), in an account or organization id (`o-*`), in the
-- organization of a path or before the session of aws:userid admits callers of any account.
-- `is_positive_entry`: a positive string/ARN operator (`StringEquals`,
-- `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals`, `ArnLike`) without `IfExists` (an absent
-- key passes) and not `ForAllValues:` (an absent key passes): false for a caller without the key.
-- `is_negated_caller_entry`: a negated operator (`StringNotEquals`, `StringNotEqualsIgnoreCase`,
-- `StringNotLike`, `ArnNotEquals`, `ArnNotLike`, with or without `IfExists`, not `ForAnyValue:`,
-- which is false for a caller without the key) on a caller key of some list, with values that
-- all pin callers: true for every caller outside the values, one without the key too.
-- `is_service_exemption`: `BoolIfExists aws:PrincipalIsAWSService false`, which leaves AWS
-- service principals calling with their own identity out of a Deny (plain `Bool` would leave
-- out unsigned, anonymous requests, which carry no key: in a trust policy
-- AssumeRoleWithWebIdentity and AssumeRoleWithSAML calls). int_perimeter_denies reads these.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
-- grain: policy_key, statement_index, operator, condition_key_as_written

with statements as (
    select * from stg_policy_statements
    where policy_kind in ('resource', 'trust')
        and has_condition
        and json_type(condition_json::json) = 'OBJECT'
),

caller_keys as (
    select
        condition_key,
        list(caller_key_list order by caller_key_list) as caller_key_lists
    from (
        select
            'resource_grants' as caller_key_list,
            unnest([
                'aws:sourceaccount', 'aws:sourcearn', 'aws:sourceowner', 'aws:sourceorgid',
                'aws:sourceorgpaths', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:principalaccount',
                'aws:principalarn', 'aws:principalorgid', 'aws:principalorgpaths',
                'kms:calleraccount'
            ]) as condition_key

        union all

        select
            'role_trust' as caller_key_list,
            unnest([
                'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
                'aws:principalarn', 'aws:userid', 'aws:sourceaccount', 'aws:sourcearn',
                'aws:sourceorgid', 'aws:sourceorgpaths'
            ]) as condition_key
    )
    group by condition_key
),

entries as (
    select
        s.policy_key,
        s.policy_kind,
        s.resource_arn,
        s.statement_index,
        s.effect,
        o.entry.key as operator,
        k.entry.key as condition_key,
        k.entry.value as value_json
    -- Operators and keys are read as map entries, never as JSON paths: a key written `$.x` or
    -- `/x` is that literal key (`->` would read it as a JSONPath or a JSON pointer).
    from statements as s,
        unnest(map_entries(try_cast(s.condition_json::json as map(varchar, json)))) as o(entry),
        unnest(map_entries(try_cast(o.entry.value as map(varchar, json)))) as k(entry)
),

parsed as (
    select
        policy_key,
        policy_kind,
        resource_arn,
        statement_index,
        effect,
        operator,
        lower(condition_key) as condition_key,
        condition_key as condition_key_as_written,
        lower(regexp_replace(
            regexp_replace(operator, '^(ForAnyValue|ForAllValues):', '', 'i'), 'IfExists$', '', 'i'
        )) as base_operator,
        case
            when regexp_matches(operator, '^ForAnyValue:', 'i') then 'ForAnyValue'
            when regexp_matches(operator, '^ForAllValues:', 'i') then 'ForAllValues'
        end as set_qualifier,
        regexp_matches(operator, 'IfExists$', 'i') as if_exists,
        case json_type(value_json)
            when 'ARRAY' then from_json(value_json, '["varchar"]')
            else [value_json ->> '$']
        end as condition_values
    from entries
),

pinned as (
    select
        p.*,
        coalesce(k.caller_key_lists, []) as caller_key_lists,
        list_bool_and(list_transform(
            p.condition_values,
            lambda v: p.base_operator not in (
                    'stringlike', 'arnlike', 'arnequals', 'stringnotlike', 'arnnotlike',
                    'arnnotequals'
                )
                or case
                    when p.condition_key in ('aws:principalarn', 'aws:sourcearn')
                        then not regexp_matches(split_part(v, ':', 5), '[*?]')
                            and (split_part(v, ':', 5) <> '' or not regexp_matches(v, '[*?]'))
                            and len(string_split(v, ':')) >= 6
                    when p.condition_key in ('aws:principalorgpaths', 'aws:sourceorgpaths')
                        then not regexp_matches(split_part(v, '/', 1), '[*?]')
                    else not regexp_matches(v, '^[^:]*[*?]')
                end
        )) as pins_caller
    from parsed as p
    left join caller_keys as k on k.condition_key = p.condition_key
),

final as (
    select
        *,
        base_operator in (
            'stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike'
        )
        and not if_exists
        and set_qualifier is distinct from 'ForAllValues' as is_positive_entry,
        base_operator in (
            'stringnotequals', 'stringnotequalsignorecase', 'stringnotlike', 'arnnotequals',
            'arnnotlike'
        )
        and set_qualifier is distinct from 'ForAnyValue'
        and pins_caller
        and len(condition_values) > 0
        and len(caller_key_lists) > 0 as is_negated_caller_entry,
        condition_key = 'aws:principalisawsservice'
        and base_operator = 'bool'
        and if_exists
        and set_qualifier is null
        and list_transform(condition_values, lambda v: lower(v)) = ['false']
            as is_service_exemption
    from pinned
)

select * from final
