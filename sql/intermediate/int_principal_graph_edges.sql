-- int_principal_graph_edges
-- The edges of the principal graph: "source can act as target" (or, when source = target, "the
-- source can make itself an administrator"), one row per (source, method, target, via). Nodes
-- are int_principal_graph_nodes (users, roles, groups; a group acts through its members). A view
-- over int_principal_graph_class_edges, which finds them once per class of sources and says how
-- (methods, checks, conditionality): an edge with `only_source` is that member's, any other is
-- handed to every member of its class but its target, and joining a group only to the members
-- not in it yet. `condition_keys`: the request keys a conditional edge still needs;
-- `edge_key`: the class edge's number (int_principal_graph_class_edges).
-- grain: source_arn, method, target_arn, via_arn
-- materialized: view

with class_edges as not materialized (
    -- read twice: as a materialized CTE every class edge of a bucket would be held before the
    -- reader's filters
    select * from int_principal_graph_class_edges
),

members as (
    select principal_arn, class_key from int_principal_graph_classes
),

memberships as (
    select user_arn, group_arn from raw_iam_group_memberships
),

identities as (
    select principal_arn, principal_type, account_id from int_identities
),

edges as (
    select e.only_source as source_arn, e.* exclude (class_key, only_source)
    from class_edges as e
    where e.only_source is not null

    union all

    select m.principal_arn as source_arn, e.* exclude (class_key, only_source)
    from class_edges as e
    inner join members as m on m.class_key = e.class_key
    anti join memberships as ms
        on e.method = 'add-user-to-group'
        and ms.user_arn = m.principal_arn
        and ms.group_arn = e.target_arn
    where e.only_source is null
        and e.target_arn <> m.principal_arn
),

final as (
    select
        e.source_arn,
        s.principal_type as source_type,
        s.account_id,
        e.method,
        e.target_arn,
        t.principal_type as target_type,
        e.via_arn,
        e.source_arn = e.target_arn as is_self,
        e.makes_target_admin,
        e.is_conditional,
        e.condition_keys,
        e.compute_presumed,
        e.target_state_known,
        e.actions,
        e.checked,
        e.trust_statements,
        e.edge_key
    from edges as e
    inner join identities as s on s.principal_arn = e.source_arn
    inner join identities as t on t.principal_arn = e.target_arn
)

select * from final
