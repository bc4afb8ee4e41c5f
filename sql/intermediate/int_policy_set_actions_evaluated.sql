-- int_policy_set_actions_evaluated
-- For every policy set (see int_principal_policy_sets) and every catalog action its identity
-- policies allow: the granting statements and the resource patterns they grant, whether the
-- permission boundary and every SCP level allow the action, and what explicit Denies take back
-- (the columns of int_policy_set_classes_evaluated, which evaluates them once per action class).
-- Each action gets the answer of its class: the actions some pattern of the set names
-- (int_policy_set_class_actions) their own class, every other catalog action the rest class.
-- The action's catalog entry (`action_name`, `service`, `access_level`, `catalog_version`) is
-- looked up here, per set and action, where the planner knows the sizes.
-- A view: a set that holds `*` or NotAction has a row for nearly every catalog action, and all
-- of them repeat a few dozen class answers; effective_permissions stores what is effective.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
-- grain: policy_set_key, action
-- materialized: view

with classes as not materialized (
    -- read twice (as is class_actions): a materialized CTE would be held whole before the
    -- reader's filters (det_can_assume_admin_role reads one action of every policy set)
    select * from int_policy_set_classes_evaluated
),

class_actions as not materialized (
    select policy_set_key, action, class_key from int_policy_set_class_actions
),

catalog as (
    select action, action_name, service, access_level, catalog_version from ref_iam_actions
),

named_actions as (
    -- the catalog joined in this branch of the union, not after the principals are joined on:
    -- there the planner, misled by the buckets' estimates, built its hash table on millions of
    -- principal rows instead of the catalog (645 MiB and a 1 GB spill per bucket of
    -- effective_permissions on forty adversarial accounts)
    select a.policy_set_key, a.action, a.class_key, c.* exclude (action)
    from class_actions as a
    inner join catalog as c on c.action = a.action
),

rest_actions as (
    -- the rest class: every catalog action no pattern of the set names. A left join, not an
    -- anti join: DuckDB builds the hash table on the (set × catalog) side and filters the scan
    -- of class_actions with it, so a reader of one action (det_can_assume_admin_role) reads
    -- that action's rows only (1 s, not 12 s, on ten adversarial accounts; the same rows).
    select r.policy_set_key, c.action, r.class_key, c.* exclude (action)
    from (select policy_set_key, class_key from classes where class_key = md5('')) as r
    cross join catalog as c
    left join class_actions as n
        on n.policy_set_key = r.policy_set_key
        and n.action = c.action
    where n.action is null
),

final as (
    select
        r.policy_set_key,
        a.action,
        a.action_name,
        a.service,
        a.access_level,
        a.catalog_version,
        r.* exclude (policy_set_key, class_key)
    from classes as r
    inner join (
        select * from named_actions
        union all
        select * from rest_actions
    ) as a
        on a.policy_set_key = r.policy_set_key
        and a.class_key = r.class_key
)

select * from final
