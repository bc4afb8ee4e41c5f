-- det_admin_ec2_instance
-- Rule admin-ec2-instance: an EC2 instance (not terminated) whose instance profile's role is
-- an administrator, so code on the instance holds admin credentials.
-- Not raised when the role's trust policy keeps the service out for this compute
-- (int_compute_role_trust.trust_verdict 'false': e.g. an `aws:SourceArn` naming other
-- resources): the compute cannot get the role's credentials, and the role itself is still
-- reported by admin-iam-role.
-- grain: resource_arn

with instances as (
    select * from raw_ec2_instances where state is distinct from 'terminated'
),

profiles as (
    select * from raw_iam_instance_profiles
),

admins as (
    select * from int_admin_identities where principal_type = 'role'
),

blocked as (
    -- compute the role's trust policy decidedly keeps out
    select compute_arn from int_compute_role_trust where trust_verdict = 'false'
),

final as (
    select distinct
        'admin-ec2-instance' as rule_id,
        i.arn as resource_arn,
        'ec2_instance' as resource_type,
        i.account_id,
        a.principal_arn,
        'EC2 instance ' || coalesce(i.name || ' (' || i.instance_id || ')', i.instance_id)
            || ' runs with administrative privileges' as title,
        to_json({
            'instance_id': i.instance_id,
            'region': i.region,
            'state': i.state,
            'instance_profile_arn': i.instance_profile_arn,
            'role_arn': a.principal_arn,
            'granting_policies': a.granting_policies
        })::varchar as evidence
    from instances as i
    inner join profiles as p on p.arn = i.instance_profile_arn
    inner join admins as a on a.principal_arn = p.role_arn
    where not exists (select 1 from blocked as b where b.compute_arn = i.arn)
)

select * from final
