-- int_resource_policy_grants
-- What resource-based policies (S3 bucket policies, KMS key, Lambda function, SQS queue, SNS
-- topic and Secrets Manager secret policies, role trust policies) allow or deny, to whom: one row
-- per statement, named principal and catalog action. `principal_scope` says how the principal is
-- named: `principal` (a user/role ARN: within its account the resource policy grants on its
-- own), `account` (an account root or id: the account's identity policies must allow too),
-- `anyone` (`"Principal": "*"` or `{"AWS": "*"}`) or `service`. Across accounts both the
-- resource policy and the caller's identity policies must allow; `ciem explain` evaluates that
-- per request.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
-- `restricting_condition_keys`: the statement's condition keys that limit who can call, whatever
-- the principal says — aws:SourceAccount, aws:SourceArn, aws:SourceOwner, aws:SourceOrgID,
-- aws:SourceOrgPaths, aws:SourceVpc, aws:SourceVpce, aws:PrincipalAccount, aws:PrincipalArn,
-- aws:PrincipalOrgID, aws:PrincipalOrgPaths, kms:CallerAccount — that must be present and equal
-- or match a listed value: a positive string/ARN operator (`StringEquals`, `StringLike`,
-- `ArnEquals`, `ArnLike`…; not `StringNotEquals`, which admits everyone else, not `...IfExists`
-- or `ForAllValues:`, which an anonymous caller without the key passes, not `Null`), and every
-- value pins an identity (`pins_caller` in int_policy_condition_entries: `*`, `o-*` or
-- `arn:aws:iam::*:role/x` under a Like operator admit strangers).
-- `restricted_by_deny`: the perimeter Deny statements (int_perimeter_denies) of the same policy
-- that restrict an Allow to an AWS principal (anyone, an account or a principal) to the callers
-- they name — list of {statement, sid, condition_keys, exempts_aws_services}, empty when none.
-- A perimeter Deny names anyone as principal, covers the Allow's action and every resource it
-- names (Resource `*`, none as in trust policies, or a `*` pattern matching each Allow resource;
-- `?` patterns are not trusted), and every entry of its Condition is either a negated operator
-- (`StringNotEquals`, `StringNotEqualsIgnoreCase`, `StringNotLike`, `ArnNotEquals`,
-- `ArnNotLike`, with or without `IfExists`, not `ForAnyValue:`) on one of the keys above whose
-- values all name particular callers, or `BoolIfExists aws:PrincipalIsAWSService false`
-- (`exempts_aws_services`: AWS service principals calling with their own identity escape the
-- Deny; AWS's data perimeter examples use it). A negated operator is true when the key is
-- absent, so an anonymous caller, or one outside the named organization or accounts, is
-- denied; only the named callers can use the Allow. Any other entry (a principal tag, a source
-- IP, plain `Bool` — false for an unsigned, anonymous request — a positive operator) could let
-- a stranger past the Deny, which then restricts nothing.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
-- https://github.com/aws-samples/data-perimeter-policy-examples
-- `is_public`: an Allow to anyone without such a condition (other conditions, e.g.
-- aws:SecureTransport, do not make it private) and not restricted by a perimeter Deny for that
-- action. `is_cross_account`: the principal's account
-- (named account, or the account in a principal ARN) is not the resource's account;
-- `principal_in_organization` says whether that account is in the organization (raw_org_accounts).
-- `denied_unconditionally`: an Allow that a Deny of the same policy takes back without condition
-- (same action, principal `*` or the same principal, Resource `*` or every resource the Allow
-- names); Deny rows are false. NotPrincipal statements produce no rows. `resource_label` is how
-- titles name the kind of resource (`S3 bucket`, `KMS key`, ...).
-- `condition_accounts` / `condition_organizations` (Allow to anyone only, else empty): the
-- accounts (12-digit values of aws:PrincipalAccount, aws:SourceAccount, kms:CallerAccount; the
-- ARN account field of aws:PrincipalArn, aws:SourceArn) and organizations (aws:PrincipalOrgID,
-- aws:SourceOrgID, the OrgPaths keys' first segment) its restricting entries name, with
-- in_organization (raw_org_accounts) / is_own_organization (raw_org_organization).
-- Per user and role of the snapshot, a conditional statement's Condition is decided in
-- int_resource_condition_verdicts (join on policy_key, statement_index): this table keeps one row
-- per named principal, and `is_conditional`/`condition_keys` describe the statement as written.
-- grain: policy_key, statement_index, principal, action

with statements as (
    select * from stg_policy_statements
    where policy_kind in ('resource', 'trust')
),

documents as (
    select policy_key, account_id from stg_policy_documents
),

needed as (
    select distinct policy_key, statement_index from statements
),

needed_statements as (
    select s.policy_key, s.statement_index, s.not_actions is not null as is_not_action
    from stg_policy_statements as s
    semi join needed as n
        on n.policy_key = s.policy_key
        and n.statement_index = s.statement_index
),

matched as (
    -- The statements' patterns, expanded once each (int_action_patterns_expanded).
    select p.policy_key, p.statement_index, p.is_not_action, e.action
    from stg_statement_action_patterns as p
    semi join needed as n
        on n.policy_key = p.policy_key
        and n.statement_index = p.statement_index
    inner join int_action_patterns_expanded as e on e.pattern = p.pattern
),

expanded as (
    -- As int_statement_actions_expanded, for these statements only.
    select distinct policy_key, statement_index, action
    from matched
    where not is_not_action
    union all
    select s.policy_key, s.statement_index, c.action
    from needed_statements as s
    cross join ref_iam_actions as c
    anti join (select * from matched where is_not_action) as m
        on m.policy_key = s.policy_key
        and m.statement_index = s.statement_index
        and m.action = c.action
    where s.is_not_action
),

catalog as (
    select action, access_level from ref_iam_actions
),

org_accounts as (
    select distinct account_id from raw_org_accounts
),

conditions as (
    select * from int_policy_condition_entries
),

perimeter_denies as (
    select * from int_perimeter_denies
    where caller_key_list = 'resource_grants'
),

own_organization as (
    select distinct lower(organization_id) as organization_id from raw_org_organization
),

restrictions as (
    -- Entries that fail for a caller without the key or with a value not listed, on a caller key,
    -- every value naming particular callers.
    select
        policy_key,
        statement_index,
        list_sort(list_distinct(list(condition_key))) as restricting_condition_keys
    from conditions
    where is_positive_entry
        and pins_caller
        and list_contains(caller_key_lists, 'resource_grants')
    group by policy_key, statement_index
),

condition_named as (
    -- The accounts and organizations the values of those entries name: the value of an account
    -- key, the account field of an ARN key, the organization id of an organization (path) key.
    select
        c.policy_key,
        c.statement_index,
        c.condition_key,
        case
            when c.condition_key in (
                'aws:principalaccount', 'aws:sourceaccount', 'kms:calleraccount'
            ) then v.value
            when c.condition_key in ('aws:principalarn', 'aws:sourcearn')
                then split_part(v.value, ':', 5)
        end as account_id,
        case
            when c.condition_key in ('aws:principalorgid', 'aws:sourceorgid') then lower(v.value)
            when c.condition_key in ('aws:principalorgpaths', 'aws:sourceorgpaths')
                then lower(split_part(v.value, '/', 1))
        end as organization_id
    from conditions as c, unnest(c.condition_values) as v(value)
    where c.is_positive_entry
        and c.pins_caller
        and list_contains(c.caller_key_lists, 'resource_grants')
),

condition_grantees as (
    select
        n.policy_key,
        n.statement_index,
        list(distinct {
            'account_id': n.account_id,
            'condition_key': n.condition_key,
            'in_organization': o.account_id is not null
        } order by {
            'account_id': n.account_id,
            'condition_key': n.condition_key,
            'in_organization': o.account_id is not null
        }) filter (where regexp_full_match(n.account_id, '[0-9]{12}')) as condition_accounts,
        list(distinct {
            'organization_id': n.organization_id,
            'condition_key': n.condition_key,
            'is_own_organization': w.organization_id is not null
        } order by {
            'organization_id': n.organization_id,
            'condition_key': n.condition_key,
            'is_own_organization': w.organization_id is not null
        }) filter (where regexp_full_match(n.organization_id, 'o-[a-z0-9]+'))
            as condition_organizations
    from condition_named as n
    left join org_accounts as o on o.account_id = n.account_id
    left join own_organization as w on w.organization_id = n.organization_id
    group by n.policy_key, n.statement_index
),

named as (
    select
        policy_key,
        statement_index,
        'aws' as principal_kind,
        unnest(principal_aws) as principal
    from statements
    where principal_aws is not null

    union all

    select
        policy_key,
        statement_index,
        'service' as principal_kind,
        unnest(principal_services) as principal
    from statements
    where principal_services is not null
),

grants as (
    select
        s.resource_arn,
        s.policy_kind,
        d.account_id as resource_account_id,
        s.policy_key,
        s.statement_index,
        s.sid,
        s.effect,
        n.principal,
        case
            when n.principal_kind = 'service' then 'service'
            when n.principal = '*' then 'anyone'
            when regexp_full_match(n.principal, '[0-9]{12}')
                or regexp_full_match(n.principal, 'arn:aws[a-z-]*:iam::[0-9]{12}:root')
                then 'account'
            else 'principal'
        end as principal_scope,
        case
            when n.principal_kind = 'service' then null
            else coalesce(
                nullif(
                    regexp_extract(n.principal, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2),
                    ''
                ),
                case when regexp_full_match(n.principal, '[0-9]{12}') then n.principal end
            )
        end as principal_account_id,
        e.action,
        s.resources,
        s.not_resources,
        s.has_condition as is_conditional,
        s.condition_keys,
        coalesce(r.restricting_condition_keys, []) as restricting_condition_keys,
        case
            when s.effect = 'Allow' and n.principal_kind = 'aws' and n.principal = '*'
                then coalesce(cg.condition_accounts, [])
            else []
        end as condition_accounts,
        case
            when s.effect = 'Allow' and n.principal_kind = 'aws' and n.principal = '*'
                then coalesce(cg.condition_organizations, [])
            else []
        end as condition_organizations
    from statements as s
    inner join named as n
        on n.policy_key = s.policy_key
        and n.statement_index = s.statement_index
    inner join expanded as e
        on e.policy_key = s.policy_key
        and e.statement_index = s.statement_index
    inner join documents as d on d.policy_key = s.policy_key
    left join restrictions as r
        on r.policy_key = s.policy_key
        and r.statement_index = s.statement_index
    left join condition_grantees as cg
        on cg.policy_key = s.policy_key
        and cg.statement_index = s.statement_index
),

perimeter_cover as (
    -- AWS-principal Allows (to anyone, an account or a principal) whose action a perimeter Deny
    -- covers, on every resource the Allow names: Deny Resource `*`, no Resource (a trust
    -- policy), or a pattern (`*` wildcards; `?` is not trusted) matching each Allow resource.
    select
        g.policy_key,
        g.statement_index,
        g.principal,
        g.action,
        list({
            'statement': p.statement_index,
            'sid': p.sid,
            'condition_keys': p.condition_keys,
            'exempts_aws_services': p.exempts_aws_services
        } order by p.statement_index) as restricted_by_deny
    from grants as g
    inner join perimeter_denies as p on p.policy_key = g.policy_key
    inner join expanded as e
        on e.policy_key = p.policy_key
        and e.statement_index = p.statement_index
        and e.action = g.action
    where g.effect = 'Allow'
        and g.principal_scope in ('anyone', 'account', 'principal')
        and (
            p.resources is null
            or list_contains(p.resources, '*')
            or (
                g.resources is not null
                and g.not_resources is null
                and list_bool_and(list_transform(
                    g.resources,
                    lambda a: list_bool_or(list_transform(
                        list_filter(p.resources, lambda r: not contains(r, '?')),
                        lambda r: like_escape(
                            a,
                            replace(replace(replace(replace(
                                r, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'),
                            '\'
                        )
                    ))
                ))
            )
        )
    group by g.policy_key, g.statement_index, g.principal, g.action
),

unconditional_denies as (
    select policy_key, principal, action, resources
    from grants
    where effect = 'Deny' and not is_conditional and principal_scope <> 'service'
),

cut as (
    select distinct g.policy_key, g.statement_index, g.principal, g.action
    from grants as g
    inner join unconditional_denies as x
        on x.policy_key = g.policy_key
        and x.action = g.action
        and (x.principal = '*' or x.principal = g.principal)
    where g.effect = 'Allow'
        and (
            list_contains(x.resources, '*')
            or (g.resources is not null and list_has_all(x.resources, g.resources))
        )
),

final as (
    select
        g.resource_arn,
        case
            when g.policy_kind = 'trust' then 'iam_role'
            when g.resource_arn like 'arn:%:s3:::%' then 's3_bucket'
            when g.resource_arn like 'arn:%:kms:%:key/%' then 'kms_key'
            when g.resource_arn like 'arn:%:lambda:%:function:%' then 'lambda_function'
            when g.resource_arn like 'arn:%:secretsmanager:%:secret:%' then 'secretsmanager_secret'
            when g.resource_arn like 'arn:%:sns:%' then 'sns_topic'
            when g.resource_arn like 'arn:%:sqs:%' then 'sqs_queue'
        end as resource_type,
        -- How titles name the kind of resource ("S3 bucket <name>").
        case
            when g.policy_kind = 'trust' then 'IAM role'
            when g.resource_arn like 'arn:%:s3:::%' then 'S3 bucket'
            when g.resource_arn like 'arn:%:kms:%:key/%' then 'KMS key'
            when g.resource_arn like 'arn:%:lambda:%:function:%' then 'Lambda function'
            when g.resource_arn like 'arn:%:secretsmanager:%:secret:%'
                then 'Secrets Manager secret'
            when g.resource_arn like 'arn:%:sns:%' then 'SNS topic'
            when g.resource_arn like 'arn:%:sqs:%' then 'SQS queue'
        end as resource_label,
        regexp_replace(
            regexp_extract(g.resource_arn, '^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.*)$', 1),
            '^(key/|function:|secret:|role/)',
            ''
        ) as resource_name,
        nullif(split_part(g.resource_arn, ':', 4), '') as region,
        g.policy_kind,
        g.resource_account_id,
        g.policy_key,
        g.statement_index,
        g.sid,
        g.effect,
        g.principal,
        g.principal_scope,
        g.principal_account_id,
        g.action,
        c.access_level,
        g.resources,
        g.not_resources,
        g.is_conditional,
        g.condition_keys,
        g.restricting_condition_keys,
        coalesce(pc.restricted_by_deny, []) as restricted_by_deny,
        g.effect = 'Allow'
            and g.principal_scope = 'anyone'
            and len(g.restricting_condition_keys) = 0
            and pc.restricted_by_deny is null as is_public,
        coalesce(g.principal_account_id <> g.resource_account_id, false) as is_cross_account,
        case
            when g.principal_account_id is not null then o.account_id is not null
        end as principal_in_organization,
        x.action is not null as denied_unconditionally,
        g.condition_accounts,
        g.condition_organizations
    from grants as g
    left join catalog as c on c.action = g.action
    left join org_accounts as o on o.account_id = g.principal_account_id
    left join perimeter_cover as pc
        on pc.policy_key = g.policy_key
        and pc.statement_index = g.statement_index
        and pc.principal = g.principal
        and pc.action = g.action
    left join cut as x
        on x.policy_key = g.policy_key
        and x.statement_index = g.statement_index
        and x.principal = g.principal
        and x.action = g.action
)

select * from final
