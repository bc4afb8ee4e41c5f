-- int_principal_graph_classes
-- The sources of the principal graph (every user, role and group that is not service-linked)
-- with their class: the principals of one policy set (int_principal_policy_sets: the same
-- identity policies, boundary, account and SCPs) and type share every grant, boundary, Deny
-- and SCP, so int_principal_graph_method_candidates and int_principal_graph_edges find the
-- edges that do not depend on who the source is once per class and hand them to its members.
-- `class_key`: a number naming (policy set key, type, account, whether SCPs apply), dense from
-- 1 in that order: the graph models join and carry it on every candidate and class edge, where
-- the text key (55 characters) held a large share of their memory.
-- grain: principal_arn

with sources as (
    select * from int_identities
    where not is_service_linked
),

policy_sets as (
    select principal_arn, account_id, policy_set_key, scp_applies from int_principal_policy_sets
),

final as (
    -- Each source with its class: the principals of one policy set and type share every grant,
    -- boundary, Deny and SCP, so the edges that do not depend on who the source is are found
    -- once per class and handed to its members at the end.
    select
        s.principal_arn,
        s.principal_type,
        s.account_id,
        p.policy_set_key,
        p.scp_applies,
        (dense_rank() over (
            order by p.policy_set_key, s.principal_type, s.account_id, p.scp_applies
        ))::integer as class_key
    from sources as s
    inner join policy_sets as p on p.principal_arn = s.principal_arn
)

select * from final
