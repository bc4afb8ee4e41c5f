-- privilege_escalation_paths
-- Who can become an administrator, how, and in how many steps: for every principal that is not
-- an administrator (int_admin_identities), its shortest paths through the principal graph
-- (int_principal_graph_edges) to an administrator, within `max_hops` steps (run_params, 5 by
-- default). A path ends at an administrator, or with a self edge (the last principal makes
-- itself one: it rewrites or attaches its own policies, or its group's); `target_arn` is the
-- principal whose administrator power the source ends up holding. One row per (source,
-- target) at the source's shortest distance to any administrator: targets farther away than
-- that are not listed (reaching the nearest is enough). Where several shortest paths lead to a
-- target, each step prefers an unconditional edge, then the method, then the next principal's
-- ARN (a stable choice). `path` is a JSON array of steps, in order: `from`, `to`, `method`,
-- `via` (the group, policy, compute or role acted on), `actions`, `granted_by` (each action
-- with the resource it was checked on and the statements granting it), `trust_statements`
-- (assume-role), `conditional`, `condition_keys` (the request keys a conditional step still
-- needs), `caller_can_satisfy` (a conditional step whose keys are all ones the caller sets in its
-- own request: `aws:RequestedRegion`, `aws:RequestTag/*`, `aws:TagKeys`, `aws:SecureTransport`,
-- `aws:UserAgent`, `aws:Referer`; null for an unconditional step), `compute_presumed`,
-- `makes_target_admin`. `is_conditional`: some step is; `condition_keys`: every step's keys;
-- `needs_environment`: some conditional step is not one the caller can satisfy (a key of the
-- network, the session or the time, such as `aws:SourceIp`, `aws:MultiFactorAuthPresent`,
-- `aws:TokenIssueTime`, or keys not known): only such a path may count as less likely.
-- The search is int_privesc_next_steps (the first step of each (principal, administrator) path);
-- int_privesc_steps lists each step. A one-step path is its step; a longer one follows the
-- steps of the principals it passes, gathered unordered (then sorted by position), so the
-- paths' text never has to fit in memory at once.
-- grain: source_arn, target_arn

with recursive steps as materialized (
    select
        source_arn, target_arn, hops, next_arn, step_json, is_conditional, condition_keys,
        needs_environment
    from int_privesc_steps
),

one_step as (
    select
        source_arn,
        target_arn,
        1 as hops,
        '[' || step_json || ']' as path,
        is_conditional,
        condition_keys,
        needs_environment
    from steps
    where hops = 1
),

walks(source_arn, target_arn, current_arn, remaining, nodes) as (
    -- The principals each longer path passes, in order.
    select source_arn, target_arn, next_arn as current_arn, hops - 1 as remaining, [source_arn]
    from int_privesc_next_steps
    where hops > 1
    union all
    select
        w.source_arn,
        w.target_arn,
        n.next_arn as current_arn,
        w.remaining - 1 as remaining,
        list_append(w.nodes, w.current_arn) as nodes
    from walks as w
    inner join int_privesc_next_steps as n
        on n.source_arn = w.current_arn
        and n.target_arn = w.target_arn
    where w.remaining > 0
),

walk_steps as materialized (
    -- One row per step of a longer path: the principal it starts from and its position.
    select
        source_arn, target_arn, unnest(nodes) as node_arn, generate_subscripts(nodes, 1) as position
    from walks
    where remaining = 0
),

longer as (
    select
        w.source_arn,
        w.target_arn,
        list({'position': w.position, 'step_json': s.step_json}) as step_list,
        bool_or(s.is_conditional) as is_conditional,
        list_sort(list_distinct(flatten(list(s.condition_keys)))) as condition_keys,
        bool_or(s.needs_environment) as needs_environment
    from walk_steps as w
    inner join (
        -- only the steps the longer paths pass (a semi join: the hash table holds their keys)
        select s.* from steps as s
        semi join walk_steps as k on k.node_arn = s.source_arn and k.target_arn = s.target_arn
    ) as s
        on s.source_arn = w.node_arn
        and s.target_arn = w.target_arn
    group by w.source_arn, w.target_arn
),

final as (
    select * from one_step
    union all
    select
        source_arn,
        target_arn,
        len(step_list) as hops,
        '[' || array_to_string(list_transform(list_sort(step_list), lambda x: x.step_json), ',')
            || ']' as path,
        is_conditional,
        condition_keys,
        needs_environment
    from longer
)

select * from final
