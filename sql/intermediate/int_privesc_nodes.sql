-- int_privesc_nodes
-- The principals of the privilege-escalation search as integers: `node_id` numbers every
-- identity (int_identities) in the order of its ARN, so the search joins and compares numbers,
-- not ARNs (a smaller number is an earlier ARN); `is_admin`: it is an administrator
-- (int_admin_identities), where every path ends.
-- grain: node_id

with identities as (
    select principal_arn from int_identities
),

admins as (
    select principal_arn from int_admin_identities
),

final as (
    select
        (row_number() over (order by i.principal_arn))::integer as node_id,
        i.principal_arn,
        i.principal_arn in (select principal_arn from admins) as is_admin
    from identities as i
)

select * from final
