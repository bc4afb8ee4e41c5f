-- int_principal_graph_nodes
-- The nodes of the principal graph that privilege-escalation paths walk: every IAM user, role
-- and group of the snapshot (a group stands for its members: what its policies allow, they can
-- do), and the compute that runs as a role (`ec2_instance` through its instance profile,
-- `lambda_function` through its execution role; `runs_as_role_arn`). `is_admin` is
-- int_admin_identities; `compute_state` is the instance state (null for other nodes).
-- Edges are int_principal_graph_edges.
-- grain: node_arn

with identities as (
    select * from int_identities
),

admins as (
    select principal_arn from int_admin_identities
),

instances as (
    select * from raw_ec2_instances
),

profiles as (
    select * from raw_iam_instance_profiles
),

functions as (
    select * from raw_lambda_functions
),

principal_nodes as (
    select
        i.principal_arn as node_arn,
        i.principal_type as node_type,
        i.account_id,
        i.name,
        null::varchar as runs_as_role_arn,
        null::varchar as compute_state,
        i.principal_arn in (select principal_arn from admins) as is_admin
    from identities as i
),

compute_nodes as (
    select
        i.arn as node_arn,
        'ec2_instance' as node_type,
        i.account_id,
        coalesce(i.name, i.instance_id) as name,
        p.role_arn as runs_as_role_arn,
        i.state as compute_state,
        false as is_admin
    from instances as i
    inner join profiles as p on p.arn = i.instance_profile_arn

    union all

    select
        f.function_arn as node_arn,
        'lambda_function' as node_type,
        f.account_id,
        f.function_name as name,
        f.role_arn as runs_as_role_arn,
        null::varchar as compute_state,
        false as is_admin
    from functions as f
    where f.role_arn is not null
),

final as (
    select * from principal_nodes
    union all
    select * from compute_nodes
)

select * from final
