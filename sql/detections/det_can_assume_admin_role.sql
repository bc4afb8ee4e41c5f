-- det_can_assume_admin_role
-- Rule can-assume-admin-role: a user or role of the snapshot, not an administrator itself, that
-- can assume an administrator role (int_admin_identities) with sts:AssumeRole. Both sides are
-- checked as AWS evaluates them: the admin role's trust policy must allow the principal — naming
-- its ARN (for a role, or a session of it), its account root, or `*`, with any aws:PrincipalArn
-- condition matching its ARN — and no unconditional Deny statement of the trust policy may name
-- it. Within one account a trust policy naming the principal's ARN is enough on its own; a trust
-- of the account root or `*`, or any trust across accounts, also needs the principal's effective
-- identity permissions to allow sts:AssumeRole on the role's ARN (int_principal_actions_evaluated,
-- with boundary, SCPs and Denies applied). Other trust conditions (MFA, ExternalId…) are kept as
-- `trust_conditional` in the evidence; they do not stop the rule.
-- An admin role in an account incomplete in this run (int_account_completeness: some of its
-- input could not be read) is not judged on what could be read: when the previous run had the
-- account, the role's trust side is the previous run's (its entry gains `held_open`: the reason
-- and the run that last found it), and only the principal's side (it exists, is not an
-- administrator, its identity policies allow sts:AssumeRole on the role where required) is
-- evaluated again. So an unreadable account changes no other account's detection.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
-- grain: resource_arn

with identities as (
    select * from int_identities
    where principal_type in ('user', 'role')
),

admins as (
    select * from int_admin_identities
),

admin_roles as (
    select * from admins
    where principal_type = 'role'
),

trust as (
    -- `trust_key` is what an identity must match (see identity_keys): one equality, so the
    -- join is a hash join, not a comparison of every identity with every trust entry
    select
        *,
        case principal_kind
            when 'iam_user' then trusted_arn
            when 'iam_role' then trusted_arn
            when 'assumed_role' then 'assumed_role|' || principal_account_id || '|'
                || assumed_role_name
            when 'account_root' then 'account|' || principal_account_id
            when 'anyone' then '*'
        end as trust_key
    from int_role_trust_principals
    where list_contains(assume_actions, 'sts:assumerole')
        and role_arn in (select principal_arn from admin_roles)
),

identity_keys as (
    -- every trust entry that names an identity: its ARN (a user or role), a session of it (a
    -- role), its account root, or anyone
    select
        principal_arn,
        principal_type,
        account_id,
        unnest(
            [principal_arn, 'account|' || account_id, '*']
            || case
                when principal_type = 'role' then ['assumed_role|' || account_id || '|' || name]
                else []
            end
        ) as trust_key
    from identities
),

held_accounts as (
    select account_id, incomplete_reason, previous_as_of
    from int_account_completeness
    where is_incomplete and seen_before
),

previous_entries as (
    -- The previous run's admin roles of this rule that are in an account held now.
    select
        principal_arn,
        entry ->> 'role_arn' as role_arn,
        entry -> 'trust_statements' as trust_statements,
        (entry ->> 'trust_conditional')::boolean as trust_conditional,
        incomplete_reason,
        coalesce(entry ->> '$.held_open.last_found_at', strftime(as_of, '%Y-%m-%d'))
            as last_found_at
    from (
        select
            h.principal_arn,
            h.as_of,
            a.account_id,
            a.incomplete_reason,
            unnest(json_extract(h.evidence, '$.admin_roles[*]')) as entry
        from earlier_detection_history as h
        inner join held_accounts as a on h.as_of = a.previous_as_of
        where h.rule_id = 'can-assume-admin-role'
    )
    where split_part(entry ->> 'role_arn', ':', 5) = account_id
),

held_roles as (
    select
        p.*,
        i.principal_type,
        i.account_id,
        -- one trust statement that needs no identity allow is enough (as in `allowed`)
        coalesce(list_bool_and(
            json_extract(p.trust_statements, '$[*].identity_policy_required')::boolean[]
        ), true) as needs_identity_allow
    from previous_entries as p
    inner join identities as i on i.principal_arn = p.principal_arn
    where p.principal_arn not in (select principal_arn from admins)
),

assume_grants as (
    select * from int_principal_actions_evaluated
    where action = 'sts:assumerole'
        and is_effective
),

trust_matches as (
    select
        i.principal_arn,
        i.principal_type,
        i.account_id,
        t.role_arn,
        t.effect,
        t.statement_index,
        t.sid,
        t.has_condition,
        t.condition_keys,
        case t.principal_kind
            when 'assumed_role' then 'role_session'
            when 'iam_user' then 'principal'
            when 'iam_role' then 'principal'
            else t.principal_kind
        end as trusted_as,
        not (
            t.principal_kind in ('iam_user', 'iam_role', 'assumed_role')
            and t.role_account_id = i.account_id
        ) as needs_identity_allow
    from identity_keys as i
    inner join trust as t on t.trust_key = i.trust_key
    where i.principal_arn <> t.role_arn
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

identity_pairs as (
    -- the (principal, admin role) pairs whose identity side is asked for below: every pair a
    -- trust names (the evidence reports the identity allow even where it is not required)
    select principal_arn, role_arn from trust_matches
    union
    select principal_arn, role_arn from held_roles
),

identity_grants as (
    -- The principal's identity permissions allow sts:AssumeRole on the admin role's ARN
    -- (`!p` in granted_resources stands for "every resource but p", from a NotResource grant).
    select
        g.principal_arn,
        r.role_arn,
        g.is_conditional,
        g.granted_by_json,
        g.granted_resources
    from assume_grants as g
    inner join identity_pairs as r on r.principal_arn = g.principal_arn
    where list_bool_or(list_transform(
        g.granted_resources,
        lambda p: case
            when starts_with(p, '!') then not like_escape(
                r.role_arn,
                replace(replace(replace(replace(replace(
                    substr(p, 2), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
            else like_escape(
                r.role_arn,
                replace(replace(replace(replace(replace(
                    p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'),
                '\'
            )
        end
    ))
),

denied_pairs as (
    select distinct principal_arn, role_arn
    from trust_matches
    where effect = 'Deny'
        and not has_condition
),

allowed as (
    select
        m.*,
        g.principal_arn is not null as identity_allows,
        g.is_conditional as identity_conditional,
        g.granted_by_json,
        g.granted_resources
    from trust_matches as m
    left join identity_grants as g
        on g.principal_arn = m.principal_arn
        and g.role_arn = m.role_arn
    where m.effect = 'Allow'
        and (not m.needs_identity_allow or g.principal_arn is not null)
        and not exists (
            select 1 from denied_pairs as d
            where d.principal_arn = m.principal_arn
                and d.role_arn = m.role_arn
        )
        and m.principal_arn not in (select principal_arn from admins)
),

per_role as (
    select
        principal_arn,
        principal_type,
        account_id,
        role_arn,
        to_json({
            'role_arn': role_arn,
            'trust_statements': list({
                'statement': statement_index,
                'sid': sid,
                'trusted_as': trusted_as,
                'identity_policy_required': needs_identity_allow,
                'condition_keys': condition_keys
            } order by statement_index, trusted_as),
            'trust_conditional': bool_and(has_condition),
            'identity_allows': bool_or(identity_allows),
            'identity_conditional': bool_and(identity_conditional),
            'identity_granted_by': any_value(granted_by_json)::json,
            'identity_resources': any_value(granted_resources)
        }) as admin_role
    from allowed
    where split_part(role_arn, ':', 5) not in (select account_id from held_accounts)
    group by principal_arn, principal_type, account_id, role_arn
),

held_per_role as (
    select
        h.principal_arn,
        h.principal_type,
        h.account_id,
        h.role_arn,
        to_json({
            'role_arn': h.role_arn,
            'trust_statements': h.trust_statements,
            'trust_conditional': h.trust_conditional,
            'identity_allows': g.principal_arn is not null,
            'identity_conditional': g.is_conditional,
            'identity_granted_by': g.granted_by_json::json,
            'identity_resources': g.granted_resources,
            'held_open': {'reason': h.incomplete_reason, 'last_found_at': h.last_found_at}
        }) as admin_role
    from held_roles as h
    left join identity_grants as g
        on g.principal_arn = h.principal_arn and g.role_arn = h.role_arn
    where h.principal_arn <> h.role_arn
        and (not h.needs_identity_allow or g.principal_arn is not null)
),

all_roles as (
    select * from per_role
    union all
    select * from held_per_role
),

final as (
    select
        'can-assume-admin-role' as rule_id,
        principal_arn as resource_arn,
        'iam_' || principal_type as resource_type,
        account_id,
        principal_arn,
        'IAM ' || principal_type || ' ' || split_part(principal_arn, '/', -1)
            || ' can assume administrator role' || case when count(*) > 1 then 's ' else ' ' end
            || string_agg(
                split_part(role_arn, '/', -1) || case
                    when split_part(role_arn, ':', 5) <> account_id
                        then ' (' || split_part(role_arn, ':', 5) || ')'
                    else ''
                end,
                ', ' order by role_arn
            ) as title,
        to_json({
            'admin_role_count': count(*),
            'admin_roles': list(admin_role order by role_arn)
        })::varchar as evidence
    from all_roles
    group by principal_arn, principal_type, account_id
)

select * from final
