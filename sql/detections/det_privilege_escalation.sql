-- det_privilege_escalation
-- Rule privilege-escalation: a user, role or group that is not an administrator but can become
-- one through a path of one or more steps of the principal graph (privilege_escalation_paths:
-- assuming roles, taking over users' credentials, joining groups, rewriting policies or trust
-- policies, passing roles to services or taking over compute that runs as one). Administrators
-- (int_admin_identities) and service-linked roles are not reported. The title says how many
-- steps the shortest path takes and what they are; the evidence lists the shortest paths (the
-- first three targets, with their count), each step with its method, actions and granting
-- statements. Severity: high, or medium when every shortest path needs the environment: a
-- conditional step whose Condition the caller cannot satisfy by what it puts in its own request
-- (`needs_environment`: a key such as `aws:SourceIp` or `aws:MultiFactorAuthPresent`). A path
-- conditional only on keys the caller sets (`aws:RequestedRegion`, `aws:RequestTag/*`, …) stays
-- high: the attacker chooses them; the title and evidence still say it is conditional and on
-- which keys.
-- grain: resource_arn

with paths as (
    select * from privilege_escalation_paths
),

identities as (
    select * from int_identities
    where not is_service_linked
),

admins as (
    select principal_arn from int_admin_identities
),

ranked as (
    -- Each source's paths in order, without their text (a dense organization has a million).
    select
        source_arn,
        target_arn,
        hops,
        is_conditional,
        needs_environment,
        condition_keys,
        row_number() over (
            partition by source_arn order by needs_environment, is_conditional, hops, target_arn
        ) as rank
    from paths
),

listed as (
    -- The paths the evidence lists (each source's first three), read with their text.
    select r.*, p.path
    from ranked as r
    inner join paths as p on p.source_arn = r.source_arn and p.target_arn = r.target_arn
    where r.rank <= 3
),

first_steps as (
    -- The steps of each source's first path.
    select
        r.source_arn,
        s.index,
        s.step ->> 'to' as to_arn,
        s.step ->> 'via' as via_arn,
        string_split(s.step ->> 'method', '+') as methods
    from listed as r,
        unnest(from_json(r.path, '["json"]')) with ordinality as s(step, index)
    where r.rank = 1
),

step_parts as (
    -- A step is one method, or two (`attach-user-policy+create-access-key`: write a policy into
    -- `via`, then act as `to`): each part phrased for the title.
    select
        f.source_arn,
        f.index,
        p.part_index,
        p.method,
        split_part(f.to_arn, '/', -1) as to_name,
        f.to_arn like '%:group/%' as to_group,
        split_part(coalesce(f.via_arn, ''), '/', -1) as via_name
    from first_steps as f,
        unnest(f.methods) with ordinality as p(method, part_index)
),

phrased as (
    select
        source_arn,
        index,
        part_index,
        case method
            when 'assume-role' then 'assume role ' || to_name
            when 'assumed-by' then 'act as '
                || case when to_group then 'user ' || via_name else to_name end
                || ', who can assume it'
            when 'create-access-key' then 'create an access key for user ' || to_name
            when 'create-login-profile' then 'set a console password for user ' || to_name
            when 'update-login-profile' then 'change the console password of user ' || to_name
            when 'add-user-to-group' then 'join group ' || to_name
            when 'update-assume-role-policy' then 'rewrite the trust policy of role ' || to_name
                || ' and assume it'
            when 'attach-user-policy' then 'attach a policy to user ' || via_name
            when 'put-user-policy' then 'put a policy on user ' || via_name
            when 'attach-group-policy' then 'attach a policy to group ' || via_name
            when 'put-group-policy' then 'put a policy on group ' || via_name
            when 'attach-role-policy' then 'attach a policy to role ' || via_name
            when 'put-role-policy' then 'put a policy on role ' || via_name
            when 'create-policy-version' then 'create a new version of policy ' || via_name
            when 'set-default-policy-version' then 'set the default version of policy ' || via_name
            when 'create-role-attach-policy' then 'create a role it can assume and attach a policy'
                || ' to it'
            when 'create-role-put-policy' then 'create a role it can assume and put a policy on it'
            when 'pass-role-ec2' then 'pass role ' || to_name || ' to a new EC2 instance'
            when 'pass-role-lambda-invoke' then 'pass role ' || to_name
                || ' to a new Lambda function and invoke it'
            when 'pass-role-lambda-event-source' then 'pass role ' || to_name
                || ' to a new Lambda function triggered by an event source'
            when 'pass-role-cloudformation' then 'pass role ' || to_name
                || ' to a new CloudFormation stack'
            when 'pass-role-glue-dev-endpoint' then 'pass role ' || to_name
                || ' to a new Glue development endpoint'
            when 'pass-role-datapipeline' then 'pass role ' || to_name || ' to a new Data Pipeline'
            when 'pass-role-sagemaker-notebook' then 'pass role ' || to_name
                || ' to a new SageMaker notebook'
            when 'pass-role-sagemaker-training-job' then 'pass role ' || to_name
                || ' to a new SageMaker training job'
            when 'pass-role-sagemaker-processing-job' then 'pass role ' || to_name
                || ' to a new SageMaker processing job'
            when 'pass-role-codebuild' then 'pass role ' || to_name || ' to a new CodeBuild project'
            when 'pass-role-ecs-task' then 'pass role ' || to_name || ' to a new ECS task'
            when 'lambda-update-function-code' then 'update the code of '
                || case when via_name = '' then 'a Lambda function'
                    else 'function ' || split_part(via_name, ':', -1) end
                || ' running as role ' || to_name
            when 'glue-update-dev-endpoint' then 'update a Glue development endpoint running as role '
                || to_name
            when 'cloudformation-update-stack' then 'update a CloudFormation stack running as role '
                || to_name
            when 'sagemaker-presigned-notebook-url' then 'open a SageMaker notebook running as role '
                || to_name
            when 'ssm-send-command' then 'run a command on '
                || case when via_name = '' then 'an instance' else 'instance ' || via_name end
                || ' running as role ' || to_name
            when 'ssm-start-session' then 'open a session on '
                || case when via_name = '' then 'an instance' else 'instance ' || via_name end
                || ' running as role ' || to_name
            when 'ec2-instance-connect' then 'push an SSH key to '
                || case when via_name = '' then 'an instance' else 'instance ' || via_name end
                || ' running as role ' || to_name
            else method || ' to act as ' || to_name
        end as phrase
    from step_parts
),

phrased_steps as (
    select source_arn, index, string_agg(phrase, ' and ' order by part_index) as phrase
    from phrased
    group by source_arn, index
),

titles as (
    select source_arn, string_agg(phrase, ', then ' order by index) as steps_text
    from phrased_steps
    group by source_arn
),

evidence_paths as (
    select
        source_arn,
        list(
            {'target': target_arn, 'hops': hops, 'conditional': is_conditional,
             'needs_environment': needs_environment, 'path': path::json}
            order by rank
        ) as paths
    from listed
    group by source_arn
),

per_source as (
    select
        r.source_arn,
        min(r.hops) as hops,
        bool_and(r.is_conditional) as is_conditional,
        bool_and(r.needs_environment) as needs_environment,
        -- the keys of the first path (the title's: the least conditional)
        arg_min(r.condition_keys, r.rank) as condition_keys,
        count(*) as path_count,
        any_value(e.paths) as paths
    from ranked as r
    inner join evidence_paths as e on e.source_arn = r.source_arn
    group by r.source_arn
),

final as (
    select
        'privilege-escalation' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name || ' can become admin in ' || p.hops
        || case when p.hops = 1 then ' step: ' else ' steps: ' end || t.steps_text
        || case
            when p.needs_environment then ' (conditional)'
            when p.is_conditional then ' (conditional on its own request: '
                || array_to_string(p.condition_keys, ', ') || ')'
            else ''
        end as title,
        case when p.needs_environment then 'medium' else 'high' end as severity,
        to_json({
            'hops': p.hops,
            'conditional': p.is_conditional,
            'needs_environment': p.needs_environment,
            'condition_keys': p.condition_keys,
            'path_count': p.path_count,
            'paths': p.paths
        })::varchar as evidence
    from per_source as p
    inner join titles as t on t.source_arn = p.source_arn
    inner join identities as i on i.principal_arn = p.source_arn
    where p.source_arn not in (select principal_arn from admins)
)

select * from final
