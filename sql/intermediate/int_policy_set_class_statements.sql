-- int_policy_set_class_statements
-- Which statements cover each action class of a policy set (int_policy_set_action_classes):
-- its identity and boundary statements (int_policy_set_statements) and the statements of the
-- SCPs of its account (int_policy_set_scp_statements, when SCPs apply). An Action statement
-- covers a class when it says `*` or one of its patterns is among the class's patterns; a
-- NotAction statement when it does not say `*` and none of its patterns is (IAM's NotAction:
-- every action the list does not match). The evaluation models join statements to classes here, where they joined
-- statements to actions before (int_statement_actions_expanded).
-- grain: policy_set_key, class_key, policy_key, statement_index
-- partition: principal_bucket

with classes as (
    select policy_set_key, class_key, patterns from int_policy_set_action_classes
),

set_statements as (
    select policy_set_key, policy_key, statement_index from int_policy_set_statements
),

scp_statements as (
    select policy_set_key, policy_key, statement_index from int_policy_set_scp_statements
),

policy_statements as (
    select
        policy_key,
        statement_index,
        not_actions is not null as is_not_action,
        coalesce(actions, not_actions, []) as patterns
    from stg_policy_statements
),

statements as (
    select policy_set_key, policy_key, statement_index from set_statements
    union
    select policy_set_key, policy_key, statement_index from scp_statements
),

final as (
    select c.policy_set_key, c.class_key, st.policy_key, st.statement_index
    from statements as st
    inner join policy_statements as p
        on p.policy_key = st.policy_key
        and p.statement_index = st.statement_index
    inner join classes as c on c.policy_set_key = st.policy_set_key
    where
        case
            when p.is_not_action
                then not list_contains(p.patterns, '*')
                and not list_has_any(p.patterns, c.patterns)
            else list_contains(p.patterns, '*') or list_has_any(p.patterns, c.patterns)
        end
)

select * from final
