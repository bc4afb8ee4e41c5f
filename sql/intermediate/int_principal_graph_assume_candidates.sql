-- int_principal_graph_assume_candidates
-- The assume-role candidates of the principal graph, before the identity checks: every user or
-- role (not service-linked) that a role's trust policy admits for sts:AssumeRole (its ARN, a
-- session of it, its account root or `*`, aws:PrincipalArn conditions matched; OIDC, SAML and
-- service principals are not sources), unless an unconditional trust Deny names it. Where AWS
-- also needs the source's identity policies to allow sts:AssumeRole on the role (across
-- accounts, or for a trust of the account root or `*`: `needs_identity_allow`), only sources
-- whose policies allow it on some resource are listed; int_principal_graph_edges checks the
-- role itself. `trust_conditional`: every admitting statement has a Condition (or a
-- conditional Deny restricts it); `trust_condition_keys`: the keys of their Conditions (empty
-- when the trust admits the source unconditionally); `trust_statements`: the statements
-- admitting the source.
-- grain: source_arn, target_arn

with identities as (
    select * from int_identities
),

sources as (
    select * from identities
    where not is_service_linked
),

trust as (
    select * from int_role_trust_principals
    where list_contains(assume_actions, 'sts:assumerole')
),

members as (
    select * from int_principal_graph_classes
),

assume_holders as (
    -- Sources whose identity policies allow sts:AssumeRole (on some resource).
    select m.principal_arn
    from members as m
    inner join int_policy_set_method_actions_evaluated as e
        on e.policy_set_key = m.policy_set_key
        and e.action = 'sts:assumerole'
    where e.is_effective
),

source_keys as (
    -- What a trust policy may name to admit a user or role: its ARN, a session of it (a role),
    -- its account, or anyone.
    select i.*, k.match_key
    from sources as i,
        unnest([
            'arn|' || i.principal_arn,
            case when i.principal_type = 'role' then 'session|' || i.account_id || '|' || i.name end,
            'account|' || i.account_id,
            'anyone'
        ]) as k(match_key)
    where i.principal_type in ('user', 'role')
        and k.match_key is not null
),

trust_matches as (
    select
        i.principal_arn as source_arn,
        i.account_id,
        t.role_arn as target_arn,
        t.effect,
        t.statement_index,
        t.sid,
        t.principal_kind,
        t.has_condition or len(coalesce(t.restricted_by_deny, [])) > 0 as trust_conditional,
        t.condition_keys,
        not (
            t.principal_kind in ('iam_user', 'iam_role', 'assumed_role')
            and t.role_account_id = i.account_id
        ) as needs_identity_allow
    from source_keys as i
    inner join (
        -- the trusted principal each trust row admits, as an equi-join key: its ARN, a session
        -- of the role (account + role name), its account, or anyone
        select
            *,
            case
                when principal_kind in ('iam_user', 'iam_role') then 'arn|' || trusted_arn
                when principal_kind = 'assumed_role'
                    then 'session|' || principal_account_id || '|' || assumed_role_name
                when principal_kind = 'account_root' then 'account|' || principal_account_id
                when principal_kind = 'anyone' then 'anyone'
            end as match_key
        from trust
    ) as t on t.match_key = i.match_key
    where i.principal_arn <> t.role_arn
        -- where AWS needs an identity grant too, only holders of sts:AssumeRole are candidates
        and (
            (
                t.principal_kind in ('iam_user', 'iam_role', 'assumed_role')
                and t.role_account_id = i.account_id
            )
            or i.principal_arn in (select principal_arn from assume_holders)
        )
        and coalesce(list_bool_and(list_transform(
            t.principal_arn_conditions,
            lambda vs: list_bool_or(list_transform(
                vs,
                lambda v: like_escape(
                    i.principal_arn,
                    replace(replace(replace(replace(replace(
                        v, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                    '\'
                )
            ))
        )), true)
),

trust_denied as (
    select distinct source_arn, target_arn
    from trust_matches
    where effect = 'Deny' and not trust_conditional
),

assume_candidates as (
    select
        m.source_arn,
        m.target_arn,
        bool_and(m.needs_identity_allow) as needs_identity_allow,
        bool_and(m.trust_conditional) as trust_conditional,
        case
            when bool_and(m.trust_conditional) then list_sort(list_distinct(flatten(
                list(coalesce(m.condition_keys, []))
            )))
            else []
        end as trust_condition_keys,
        list({
            'statement': m.statement_index,
            'sid': m.sid,
            'trusted_as': m.principal_kind,
            'condition_keys': m.condition_keys
        } order by m.statement_index, m.principal_kind) as trust_statements
    from trust_matches as m
    where m.effect = 'Allow'
        and not exists (
            select 1 from trust_denied as d
            where d.source_arn = m.source_arn and d.target_arn = m.target_arn
        )
    group by m.source_arn, m.target_arn
)

select * from assume_candidates
