-- int_resource_policy_grants
-- What resource-based policies (S3 bucket policies, role trust policies) allow or deny, to whom:
-- one row per statement, named principal and catalog action. `principal_scope` says how the
-- principal is named: `principal` (a user/role ARN: within its account the resource policy
-- grants on its own), `account` (an account root or id: the account's identity policies must
-- allow too), `anyone` (`"Principal": "*"`) or `service`. Across accounts both the resource
-- policy and the caller's identity policies must allow; `ciem explain` evaluates that per request.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
-- grain: policy_key, statement_index, principal, action

with statements as (
    select * from stg_policy_statements
    where policy_kind in ('resource', 'trust')
),

documents as (
    select policy_key, account_id from stg_policy_documents
),

expanded as (
    select * from int_statement_actions_expanded
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

final as (
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
        coalesce(
            nullif(regexp_extract(n.principal, '^arn:aws[a-z-]*:iam::([0-9]{12}):', 1), ''),
            case when regexp_full_match(n.principal, '[0-9]{12}') then n.principal end
        ) as principal_account_id,
        e.action,
        s.resources,
        s.not_resources,
        s.has_condition as is_conditional,
        s.condition_keys
    from statements as s
    inner join named as n
        on n.policy_key = s.policy_key
        and n.statement_index = s.statement_index
    inner join expanded as e
        on e.policy_key = s.policy_key
        and e.statement_index = s.statement_index
    inner join documents as d on d.policy_key = s.policy_key
)

select * from final
