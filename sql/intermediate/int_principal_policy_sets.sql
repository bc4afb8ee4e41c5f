-- int_principal_policy_sets
-- Every user, group and role with the key of its policy set: its identity policies (name, ARN,
-- kind, direct or via which group, and the document's hash), its permission boundary, its
-- account (the SCP path) and whether SCPs apply. Principals with the same key have the same
-- effective permissions, so the evaluation runs once per key (on the representative, the
-- smallest ARN of the set) and is joined back. A policy that uses a policy variable
-- (`${aws:username}`…) depends on the principal, so its principal gets a key of its own.
-- The key also holds the principal's condition verdicts (int_principal_condition_verdicts):
-- principals whose conditions the snapshot decides differently (a role exempt from a Deny by
-- `aws:PrincipalArn`, a user without the tag a grant requires) get sets of their own, those
-- whose verdicts agree still share one; a principal without conditional statements keeps the
-- key it had before verdicts existed.
-- `principal_bucket`: a hash of the policy set key into as many buckets as the sets need at
-- `ciem_sets_per_bucket` sets each (a variable the model runner sets, CIEM_SETS_PER_BUCKET); the
-- evaluation models (`-- partition: principal_bucket`) run once per bucket, so their memory
-- depends on a bucket, not on the organization. Every principal of a set is in its bucket.
-- grain: principal_arn

with identities as (
    select * from int_identities
),

principal_policies as (
    select * from int_principal_policies
),

documents as (
    select policy_key, policy_name, policy_arn, document from stg_policy_documents
),

policy_members as (
    select
        pp.principal_arn,
        list_sort(list(
            pp.attachment || '|' || pp.via || '|' || d.policy_name || '|'
            || coalesce(d.policy_arn, '') || '|' || md5(d.document)
        )) as members,
        bool_or(contains(d.document, '${')) as uses_policy_variables
    from principal_policies as pp
    inner join documents as d on d.policy_key = pp.policy_key
    group by pp.principal_arn
),

verdict_vectors as (
    select
        principal_arn,
        string_agg(
            policy_key || '#' || statement_index || '=' || verdict
            || coalesce(':' || array_to_string(needed_keys, ','), ''),
            '|' order by policy_key, statement_index
        ) as verdict_vector
    from int_principal_condition_verdicts
    group by principal_arn
),

boundary_variables as (
    select i.principal_arn, contains(d.document, '${') as uses_policy_variables
    from identities as i
    inner join documents as d on d.policy_key = i.boundary_policy_key
),

keyed as (
    select
        i.principal_arn,
        i.principal_type,
        i.account_id,
        i.name,
        i.boundary_policy_key,
        i.scp_applies,
        md5(concat_ws(
            '#',
            i.account_id,
            i.scp_applies::varchar,
            coalesce(i.boundary_policy_key, ''),
            coalesce(array_to_string(m.members, '#'), ''),
            case
                when coalesce(m.uses_policy_variables, false)
                    or coalesce(b.uses_policy_variables, false)
                    then i.principal_arn
                else ''
            end,
            v.verdict_vector  -- concat_ws skips a null: no verdicts, the key as before
        )) as policy_set_key
    from identities as i
    left join policy_members as m on m.principal_arn = i.principal_arn
    left join boundary_variables as b on b.principal_arn = i.principal_arn
    left join verdict_vectors as v on v.principal_arn = i.principal_arn
),

bucket_count as (
    select greatest(
        1, ceil(count(distinct policy_set_key) / getvariable('ciem_sets_per_bucket'))
    )::integer as buckets
    from keyed
),

final as (
    select
        principal_arn,
        principal_type,
        account_id,
        name,
        boundary_policy_key,
        scp_applies,
        policy_set_key,
        principal_arn = min(principal_arn) over (partition by policy_set_key) as is_representative,
        (hash(policy_set_key) % b.buckets)::integer as principal_bucket
    from keyed
    cross join bucket_count as b
)

select * from final
