-- int_role_trust_principals
-- Who each role's trust policy (AssumeRolePolicyDocument) names, and on what terms: one row per
-- role, statement and principal value. `principal_kind` classifies the principal: `anyone`
-- (`"*"` or `{"AWS": "*"}`), `account_root` (an account id or `arn:aws:iam::<id>:root`),
-- `iam_user`, `iam_role`, `assumed_role` (an STS session ARN), `aws_principal` (another IAM/STS
-- ARN), `deleted_principal` (a unique id such as `AROA…`: IAM shows that when the named principal
-- was deleted), `service`, `oidc_provider` (Federated web identity: an OIDC provider ARN or
-- `accounts.google.com`, `cognito-identity.amazonaws.com`…), `saml_provider`, `canonical_user`.
-- An account written as its bare id is its root ARN in `principal` and `trusted_arn` (as AWS
-- stores it), so both spellings give the same rows. `assume_actions` are the STS actions the
-- statement's Action/NotAction covers. From the statement's Condition:
-- `has_external_id` (an `sts:ExternalId` that must equal / match a listed, non-wildcard value),
-- `caller_restriction_keys` (caller-identity keys such as aws:PrincipalOrgID that must match a
-- listed value naming particular callers: not `*`, `o-*` or `arn:aws:iam::*:role/x`),
-- `principal_arn_conditions` (the value lists of such aws:PrincipalArn entries).
-- `restricted_by_deny` (AWS principals of Allow statements; empty otherwise): the perimeter Deny
-- statements of the trust policy covering some of the statement's STS actions — {statement, sid,
-- condition_keys, exempts_aws_services, assume_actions (those it covers)}. A perimeter Deny names
-- anyone (`"*"` or `{"AWS": "*"}`) and every entry of its Condition is either a negated operator
-- (`StringNotEquals`, `StringNotEqualsIgnoreCase`, `StringNotLike`, `ArnNotEquals`, `ArnNotLike`,
-- with or without `IfExists`, not `ForAnyValue:`) on a caller key whose values all name particular
-- callers, or `BoolIfExists aws:PrincipalIsAWSService false` (AWS services escape it); a negated
-- operator is true when the key is absent, so only the named callers escape the Deny (as in the
-- aws-samples/data-perimeter-policy-examples role trust policy). For OIDC principals of a provider
-- in ref_oidc_providers: `subject_condition_key` (`<provider>:<claim>`, e.g.
-- `token.actions.githubusercontent.com:sub`) and `subject_excludes_strangers` (some condition entry
-- on that key is not satisfied by the provider's `probe_subject`, a stranger's workload).
-- `is_wildcard_trust` needs an assume action that no perimeter Deny covers. The four trust-rule
-- flags are computed here so the rules and `relationships` agree; organization accounts come from
-- raw_org_accounts. `statement_evidence` is the statement as the trust rules' evidence lists it.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
-- grain: role_arn, statement_index, principal_type_key, principal

with roles as (
    select * from raw_iam_roles
),

statements as (
    select * from stg_policy_statements
    where policy_kind = 'trust'
),

conditions as (
    select * from int_policy_condition_entries
    where policy_kind = 'trust'
),

oidc_providers as (
    select * from ref_oidc_providers
),

org_accounts as (
    select distinct account_id from raw_org_accounts
),

snapshot_accounts as (
    select account_id from raw_iam_roles
    union
    select account_id from raw_iam_users
    union
    select account_id from raw_iam_groups
),

sts_actions as (
    select unnest([
        'sts:assumerole',
        'sts:assumerolewithwebidentity',
        'sts:assumerolewithsaml',
        'sts:tagsession',
        'sts:setsourceidentity',
        'sts:setcontext'
    ]) as action
),

principal_entries as (
    -- "Principal": "*" is one entry; an object gives one entry per value of each of its keys.
    select
        policy_key,
        statement_index,
        '*' as principal_type_key,
        principal_json::json ->> '$' as principal
    from statements
    where json_type(principal_json::json) = 'VARCHAR'

    union all

    select
        s.policy_key,
        s.statement_index,
        k.entry.key as principal_type_key,
        v.principal
    -- map entries, never JSON paths: a key written `$` or `/x` is that literal key
    from statements as s,
        unnest(map_entries(try_cast(s.principal_json::json as map(varchar, json)))) as k(entry),
        unnest(
            case json_type(k.entry.value)
                when 'ARRAY' then from_json(k.entry.value, '["varchar"]')
                else [k.entry.value ->> '$']
            end
        ) as v(principal)
    where json_type(s.principal_json::json) = 'OBJECT'
),

classified as (
    select
        policy_key,
        statement_index,
        principal_type_key,
        principal,
        case
            when principal = '*' and principal_type_key in ('*', 'AWS') then 'anyone'
            when principal_type_key = 'AWS' and (
                regexp_full_match(principal, '[0-9]{12}')
                or regexp_full_match(principal, 'arn:aws[a-z-]*:iam::[0-9]{12}:root')
            ) then 'account_root'
            when principal_type_key = 'AWS'
                and regexp_matches(principal, '^arn:aws[a-z-]*:iam::[0-9]{12}:user/')
                then 'iam_user'
            when principal_type_key = 'AWS'
                and regexp_matches(principal, '^arn:aws[a-z-]*:iam::[0-9]{12}:role/')
                then 'iam_role'
            when principal_type_key = 'AWS'
                and regexp_matches(principal, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/')
                then 'assumed_role'
            when principal_type_key = 'AWS'
                and regexp_matches(principal, '^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:')
                then 'aws_principal'
            when principal_type_key = 'AWS' then 'deleted_principal'
            when principal_type_key = 'Service' then 'service'
            when principal_type_key = 'Federated'
                and regexp_matches(principal, '^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/')
                then 'saml_provider'
            when principal_type_key = 'Federated' then 'oidc_provider'
            when principal_type_key = 'CanonicalUser' then 'canonical_user'
            else 'unknown'
        end as principal_kind,
        case
            when regexp_full_match(principal, '[0-9]{12}') then principal
            else nullif(regexp_extract(principal, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2), '')
        end as principal_account_id
    from principal_entries
),

account_ids as (
    -- An account written as its bare id is its root: AWS reads (and stores) `"AWS": "<id>"` as
    -- `arn:<partition>:iam::<id>:root`, in the partition of the role.
    select distinct
        c.* replace (
            case
                when c.principal_kind = 'account_root' and c.principal_account_id = c.principal
                    then 'arn:' || split_part(s.resource_arn, ':', 2) || ':iam::' || c.principal
                    || ':root'
                else c.principal
            end as principal
        )
    from classified as c
    inner join statements as s
        on s.policy_key = c.policy_key
        and s.statement_index = c.statement_index
),

normalized as (
    select
        *,
        principal as trusted_arn,
        case
            when principal_kind = 'assumed_role'
                then split_part(split_part(principal, ':assumed-role/', 2), '/', 1)
        end as assumed_role_name,
        case
            when principal_kind = 'oidc_provider' and contains(principal, ':oidc-provider/')
                then lower(split_part(principal, ':oidc-provider/', 2))
            when principal_kind = 'oidc_provider' then lower(principal)
        end as oidc_provider
    from account_ids
),

statement_assume_actions as (
    select
        s.policy_key,
        s.statement_index,
        list_sort(list(a.action)) as assume_actions
    from statements as s
    cross join sts_actions as a
    where list_bool_or(list_transform(
        coalesce(s.actions, s.not_actions),
        lambda p: like_escape(
            a.action,
            replace(replace(replace(replace(replace(
                p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
            '\'
        )
    )) = (s.not_actions is null)
    group by s.policy_key, s.statement_index
),

condition_entries as (
    select
        *,
        -- The entry holds only when the key is present with one of the listed values: a positive
        -- entry (int_policy_condition_entries) with no value that is only wildcards (StringLike
        -- "*" admits any value).
        is_positive_entry
        and not list_bool_or(list_transform(
            condition_values,
            lambda v: base_operator in ('stringlike', 'arnlike', 'arnequals')
                and regexp_full_match(v, '[*?]*') and contains(v, '*')
        )) as requires_listed_value
    from conditions
),

statement_conditions as (
    select
        c.policy_key,
        c.statement_index,
        bool_or(c.condition_key = 'sts:externalid' and c.requires_listed_value) as has_external_id,
        list_sort(list_distinct(list(c.condition_key) filter (
            where c.requires_listed_value
                and c.pins_caller
                and list_contains(c.caller_key_lists, 'role_trust')
        ))) as caller_restriction_keys,
        list(c.condition_values) filter (
            where c.condition_key = 'aws:principalarn' and c.requires_listed_value
        ) as principal_arn_conditions
    from condition_entries as c
    group by c.policy_key, c.statement_index
),

perimeter_denies as (
    -- Perimeter Deny statements (int_perimeter_denies) and the STS actions they cover.
    select
        d.policy_key,
        d.statement_index,
        d.sid,
        a.assume_actions,
        d.condition_keys,
        d.exempts_aws_services
    from int_perimeter_denies as d
    inner join statement_assume_actions as a
        on a.policy_key = d.policy_key
        and a.statement_index = d.statement_index
    where d.caller_key_list = 'role_trust'
),

perimeter_cover as (
    -- Allow statements to AWS principals and the perimeter Denies covering some of their STS
    -- actions.
    select
        s.policy_key,
        s.statement_index,
        list({
            'statement': d.statement_index,
            'sid': d.sid,
            'condition_keys': d.condition_keys,
            'exempts_aws_services': d.exempts_aws_services,
            'assume_actions': list_sort(list_intersect(d.assume_actions, a.assume_actions))
        } order by d.statement_index) as restricted_by_deny
    from statements as s
    inner join statement_assume_actions as a
        on a.policy_key = s.policy_key
        and a.statement_index = s.statement_index
    inner join perimeter_denies as d
        on d.policy_key = s.policy_key
        and list_has_any(d.assume_actions, a.assume_actions)
    where s.effect = 'Allow'
    group by s.policy_key, s.statement_index
),

oidc_principals as (
    select
        n.policy_key,
        n.statement_index,
        n.principal_type_key,
        n.principal,
        o.name as oidc_provider_name,
        o.probe_subject,
        lower(n.oidc_provider || ':' || o.subject_claim) as subject_condition_key
    from normalized as n
    inner join oidc_providers as o on n.oidc_provider glob o.provider_pattern
    where n.principal_kind = 'oidc_provider'
),

oidc_subjects as (
    -- Condition entries are ANDed: one entry on the subject claim that a stranger's subject
    -- (probe_subject) does not satisfy shuts strangers out.
    select
        p.policy_key,
        p.statement_index,
        p.principal_type_key,
        p.principal,
        any_value(p.oidc_provider_name) as oidc_provider_name,
        any_value(p.subject_condition_key) as subject_condition_key,
        coalesce(bool_or(not (
            case c.base_operator
                when 'stringequals' then list_contains(c.condition_values, p.probe_subject)
                when 'stringequalsignorecase' then list_contains(
                    list_transform(c.condition_values, lambda v: lower(v)), lower(p.probe_subject)
                )
                when 'stringlike' then list_bool_or(list_transform(
                    c.condition_values,
                    lambda v: like_escape(
                        p.probe_subject,
                        replace(replace(replace(replace(replace(
                            v, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                        '\'
                    )
                ))
                when 'stringnotequals' then not list_contains(c.condition_values, p.probe_subject)
                when 'stringnotequalsignorecase' then not list_contains(
                    list_transform(c.condition_values, lambda v: lower(v)), lower(p.probe_subject)
                )
                when 'stringnotlike' then not list_bool_or(list_transform(
                    c.condition_values,
                    lambda v: like_escape(
                        p.probe_subject,
                        replace(replace(replace(replace(replace(
                            v, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                        '\'
                    )
                ))
                -- Null: "false" requires the claim to be present, which it is.
                when 'null' then list_contains(c.condition_values, 'false')
                else true
            end
        )) filter (where c.condition_key is not null), false) as subject_excludes_strangers
    from oidc_principals as p
    left join conditions as c
        on c.policy_key = p.policy_key
        and c.statement_index = p.statement_index
        and c.condition_key = p.subject_condition_key
    group by p.policy_key, p.statement_index, p.principal_type_key, p.principal
),

joined as (
    select
        r.arn as role_arn,
        r.role_name,
        r.account_id as role_account_id,
        r.is_service_linked,
        s.policy_key,
        s.statement_index,
        s.sid,
        s.effect,
        n.principal_type_key,
        n.principal,
        n.principal_kind,
        n.trusted_arn,
        n.principal_account_id,
        n.assumed_role_name,
        n.oidc_provider,
        s.actions,
        s.not_actions,
        coalesce(a.assume_actions, []) as assume_actions,
        s.condition_json,
        s.condition_keys,
        s.has_condition,
        coalesce(c.has_external_id, false) as has_external_id,
        coalesce(c.caller_restriction_keys, []) as caller_restriction_keys,
        case
            when n.principal_kind in (
                    'anyone', 'account_root', 'iam_user', 'iam_role', 'assumed_role',
                    'aws_principal', 'deleted_principal'
                ) then coalesce(pc.restricted_by_deny, [])
            else []
        end as restricted_by_deny,
        c.principal_arn_conditions,
        o.oidc_provider_name,
        o.subject_condition_key,
        o.subject_excludes_strangers,
        n.principal_kind in (
            'account_root', 'iam_user', 'iam_role', 'assumed_role', 'aws_principal'
        ) and n.principal_account_id is distinct from r.account_id as is_other_account,
        n.principal_account_id in (select account_id from org_accounts)
            or n.principal_account_id in (select account_id from snapshot_accounts)
            as is_known_account,
        case
            when n.principal_account_id is not null and exists (select 1 from org_accounts)
                then n.principal_account_id in (select account_id from org_accounts)
        end as is_org_account
    from statements as s
    inner join roles as r on r.arn = s.resource_arn
    inner join normalized as n
        on n.policy_key = s.policy_key
        and n.statement_index = s.statement_index
    left join statement_assume_actions as a
        on a.policy_key = s.policy_key
        and a.statement_index = s.statement_index
    left join statement_conditions as c
        on c.policy_key = s.policy_key
        and c.statement_index = s.statement_index
    left join perimeter_cover as pc
        on pc.policy_key = s.policy_key
        and pc.statement_index = s.statement_index
    left join oidc_subjects as o
        on o.policy_key = n.policy_key
        and o.statement_index = n.statement_index
        and o.principal_type_key = n.principal_type_key
        and o.principal = n.principal
),

final as (
    select
        *,
        -- What the trust rules' evidence says of each statement (each rule adds its own fields).
        {
            'statement': statement_index,
            'sid': sid,
            'principal': principal,
            'assume_actions': assume_actions,
            'condition': condition_json::json,
            'condition_keys': condition_keys
        } as statement_evidence,
        effect = 'Allow'
            and list_has_any(
                assume_actions,
                ['sts:assumerole', 'sts:assumerolewithwebidentity', 'sts:assumerolewithsaml']
            ) as grants_assume,
        -- trust-wildcard-principal: anyone, with no condition pinning the caller's identity,
        -- for an assume action no perimeter Deny covers.
        effect = 'Allow'
            and principal_kind = 'anyone'
            and list_has_any(
                list_filter(
                    assume_actions,
                    lambda x: not list_contains(
                        flatten(list_transform(restricted_by_deny, lambda d: d.assume_actions)), x
                    )
                ),
                ['sts:assumerole', 'sts:assumerolewithwebidentity', 'sts:assumerolewithsaml']
            )
            and len(caller_restriction_keys) = 0 as is_wildcard_trust,
        -- cross-account-trust-without-external-id: another account that is neither in the
        -- organization nor in the snapshot (a third party), without a required sts:ExternalId.
        effect = 'Allow'
            and list_contains(assume_actions, 'sts:assumerole')
            and is_other_account
            and not coalesce(is_known_account, false)
            and not has_external_id as is_cross_account_without_external_id,
        -- trust-outside-organization: an AWS account not in the organization (needs its list).
        effect = 'Allow'
            and list_contains(assume_actions, 'sts:assumerole')
            and is_other_account
            and not coalesce(is_org_account, true) as is_outside_organization,
        -- oidc-trust-without-subject: a known provider's tokens admitted without pinning the
        -- workload's claim.
        effect = 'Allow'
            and principal_kind = 'oidc_provider'
            and list_contains(assume_actions, 'sts:assumerolewithwebidentity')
            and subject_condition_key is not null
            and not subject_excludes_strangers as is_oidc_without_subject
    from joined
)

select * from final
