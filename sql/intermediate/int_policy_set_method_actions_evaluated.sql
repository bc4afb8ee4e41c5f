-- int_policy_set_method_actions_evaluated
-- int_policy_set_actions_evaluated for the few actions the principal graph, the escalation
-- search and the administrator check look up: every action of a privilege-escalation method
-- (ref_privesc_methods: required and target actions), sts:AssumeRole and iam:CreateUser. The
-- same rows and columns as the view for those actions, for every policy set, built from the
-- action classes without listing every catalog action of every set: the view, read with a
-- filter on a few actions, hands its join every (set, catalog action) before the filter applies
-- (224 M rows on 10 adversarial accounts of 1,000 principals, each row with its class's
-- statements). The actions some pattern of the set names get their own class
-- (int_policy_set_class_actions); the other catalog actions the rest class, as in the view.
-- grain: policy_set_key, action

with wanted as (
    select distinct a.action
    from ref_privesc_methods as m,
        unnest(list_concat(
            string_split(lower(coalesce(m.required_actions, '')), ' '),
            string_split(lower(coalesce(m.target_actions, '')), ' ')
        )) as a(action)
    where a.action <> ''
    union
    select 'sts:assumerole' as action
    union
    select 'iam:createuser' as action
),

classes as materialized (
    select * from int_policy_set_classes_evaluated
),

named_actions as materialized (
    select policy_set_key, action, class_key
    from int_policy_set_class_actions
    where action in (select action from wanted)
),

rest_actions as (
    -- the rest class: the wanted catalog actions no pattern of the set names
    select r.policy_set_key, c.action, r.class_key
    from (select policy_set_key, class_key from classes where class_key = md5('')) as r
    cross join (
        select action from ref_iam_actions where action in (select action from wanted)
    ) as c
    anti join named_actions as n
        on n.policy_set_key = r.policy_set_key
        and n.action = c.action
),

final as (
    select r.policy_set_key, a.action, r.* exclude (policy_set_key, class_key)
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
