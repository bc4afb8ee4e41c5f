-- int_policy_set_class_actions
-- For every policy set, the catalog actions that some pattern of its statements names (other
-- than `*`), each with its action class: the sorted list of the set's patterns that match it
-- (`class_key` is its hash). Two actions of one class are covered by exactly the same statements
-- of the set (an Action statement covers an action when one of its patterns matches it, a
-- NotAction statement when none does), so the evaluation runs once per class, never per action
-- (int_policy_set_action_classes). The set's statements are its identity policies, its boundary
-- and the SCPs of its account. Every catalog action not listed here is in the set's rest class
-- (no pattern of the set names it: only `*` and NotAction statements cover it).
-- `patterns`: the class, the set's patterns that match the action.
-- grain: policy_set_key, action
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

set_statements as (
    select policy_set_key, policy_key, statement_index from int_policy_set_statements
),

scp_statements as (
    select account_id, policy_key, statement_index from int_scp_statements
),

patterns as (
    select policy_key, statement_index, pattern from stg_statement_action_patterns
    where pattern <> '*'
),

expanded_patterns as (
    select * from int_action_patterns_expanded
),

statements as (
    select policy_set_key, policy_key, statement_index from set_statements
    union
    select s.policy_set_key, c.policy_key, c.statement_index
    from sets as s
    inner join scp_statements as c on c.account_id = s.account_id
    where s.scp_applies
),

set_patterns as (
    select distinct st.policy_set_key, p.pattern
    from statements as st
    inner join patterns as p
        on p.policy_key = st.policy_key
        and p.statement_index = st.statement_index
),

matches as (
    select sp.policy_set_key, e.action, sp.pattern
    from set_patterns as sp
    inner join expanded_patterns as e on e.pattern = sp.pattern
),

counted as (
    select policy_set_key, action, count(*) as matching, min(pattern) as pattern
    from matches
    group by policy_set_key, action
),

signatures as (
    -- Nearly every action is named by one pattern of its set: its class is that pattern, and
    -- only the others gather a list (a list of text per group cost twice the model's time).
    select policy_set_key, action, [pattern] as patterns
    from counted
    where matching = 1

    union all

    select m.policy_set_key, m.action, list_sort(list(m.pattern)) as patterns
    from matches as m
    semi join (select policy_set_key, action from counted where matching > 1) as c
        on c.policy_set_key = m.policy_set_key
        and c.action = m.action
    group by m.policy_set_key, m.action
),

final as (
    select
        policy_set_key,
        action,
        md5(array_to_string(patterns, chr(31))) as class_key,
        patterns
    from signatures
)

select * from final
