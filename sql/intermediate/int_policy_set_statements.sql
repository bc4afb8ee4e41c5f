-- int_policy_set_statements
-- The statements each policy set (see int_principal_policy_sets) is evaluated with: the
-- statements of its identity policies (source 'identity', one row per attachment path `via`) and
-- of its permission boundary (source 'boundary'). In identity statements `${aws:username}` and
-- `${aws:PrincipalAccount}` in Resource are substituted with the representative principal's
-- values (such principals have a set of their own); boundary statements are kept as written.
-- `grant_id` names an identity statement of the set (policy, statement, attachment path).
-- Conditions are resolved with the representative's verdicts (int_principal_condition_verdicts;
-- every principal of the set has the same, they are part of its key): a statement whose
-- Condition is false for it is left out, one whose Condition holds is unconditional
-- (`has_condition` false), and one left open keeps only the request keys it still needs
-- (`condition_keys`). A statement whose NotResource names every resource (`*`) applies to none
-- (it grants or denies nothing) and is left out.
-- First of the three models of the policy-set evaluation: int_policy_set_grants cuts each
-- granting statement with the Denies, int_policy_set_actions_evaluated aggregates per action.
-- grain: policy_set_key, source, policy_key, statement_index, via
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

principal_policies as (
    select * from int_principal_policies
),

statements as (
    select * from stg_policy_statements
),

verdicts as (
    select * from int_principal_condition_verdicts
),

documents as (
    select policy_key, policy_name, policy_arn from stg_policy_documents
),

identity_statements as (
    select
        st.policy_set_key,
        st.account_id,
        st.scp_applies,
        'identity' as source,
        pp.policy_key,
        pp.policy_key || '#' || s.statement_index || '#' || pp.via as grant_id,
        pp.attachment,
        pp.via,
        d.policy_name,
        d.policy_arn,
        s.statement_index,
        s.sid,
        s.effect,
        s.has_condition and v.verdict is distinct from 'true' as has_condition,
        case
            when v.verdict = 'true' then []
            else coalesce(v.needed_keys, s.condition_keys)
        end as condition_keys,
        s.applies_to_all_resources,
        s.not_resources,
        -- Policy variables: normalise their spelling, then substitute the known values.
        list_transform(
            s.resources,
            lambda r: replace(replace(
                regexp_replace(regexp_replace(
                    r, '\$\{aws:username\}', '${aws:username}', 'gi'),
                    '\$\{aws:principalaccount\}', '${aws:principalaccount}', 'gi'),
                '${aws:username}', st.name), '${aws:principalaccount}', st.account_id)
        ) as resources,
        list_transform(
            s.resource_likes,
            lambda r: replace(replace(
                regexp_replace(regexp_replace(
                    r, '\$\{aws:username\}', '${aws:username}', 'gi'),
                    '\$\{aws:principalaccount\}', '${aws:principalaccount}', 'gi'),
                '${aws:username}', replace(replace(st.name, '%', '\%'), '_', '\_')),
                '${aws:principalaccount}', st.account_id)
        ) as resource_likes
    from sets as st
    inner join principal_policies as pp on pp.principal_arn = st.principal_arn
    inner join statements as s on s.policy_key = pp.policy_key
    inner join documents as d on d.policy_key = pp.policy_key
    left join verdicts as v
        on v.principal_arn = st.principal_arn
        and v.policy_key = s.policy_key
        and v.statement_index = s.statement_index
    where v.verdict is distinct from 'false'
        and len(list_filter(
            coalesce(s.not_resources, []), lambda r: regexp_full_match(r, '\*+')
        )) = 0
),

boundary_statements as (
    select
        st.policy_set_key,
        st.account_id,
        st.scp_applies,
        'boundary' as source,
        s.policy_key,
        null::varchar as grant_id,
        null::varchar as attachment,
        null::varchar as via,
        null::varchar as policy_name,
        null::varchar as policy_arn,
        s.statement_index,
        s.sid,
        s.effect,
        s.has_condition and v.verdict is distinct from 'true' as has_condition,
        case
            when v.verdict = 'true' then []
            else coalesce(v.needed_keys, s.condition_keys)
        end as condition_keys,
        s.applies_to_all_resources,
        s.not_resources,
        s.resources,
        s.resource_likes
    from sets as st
    inner join statements as s on s.policy_key = st.boundary_policy_key
    left join verdicts as v
        on v.principal_arn = st.principal_arn
        and v.policy_key = s.policy_key
        and v.statement_index = s.statement_index
    where v.verdict is distinct from 'false'
        and len(list_filter(
            coalesce(s.not_resources, []), lambda r: regexp_full_match(r, '\*+')
        )) = 0
),

final as (
    select * from identity_statements
    union all by name
    select * from boundary_statements
)

select * from final
