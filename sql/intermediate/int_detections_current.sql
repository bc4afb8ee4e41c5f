-- int_detections_current
-- The detections of this run: every rule's rows (one model per rule under sql/detections/),
-- with the rule's severity from the registry and a stable id per (rule, resource).
-- To add a rule: add its model under sql/detections/ and its row in
-- data/reference/detection_rules.csv (a test fails until both agree); the union below expands to
-- every rule model. Optional rule columns are null for the rules that do not return them:
-- `severity` (a per-detection severity; else the registry's), `suggested_policy`,
-- `suggested_policy_verification`.
-- An account incomplete in this run (int_account_completeness: some of its input could not be
-- read) is not judged on what could be read: when the previous run had it, its detections are
-- the previous run's, held open (same rows; evidence gains `held_open`: the reason and the run
-- that last found it), and what this run found for it is not opened until its input is
-- readable again. On its first run its findings are kept (the marts flag the account).
-- A privilege-escalation path of another account that went through such an account (its
-- previous evidence names the account) and is not found now is held open the same way: the
-- unreadable account's part of the path cannot be judged.
-- An account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps) is not
-- judged by the usage rules (inactive-*, unused-*, large-permissions-gap): their detections of
-- the previous run are held open the same way (reason `cloudtrail_gap`), so a trail outage
-- neither resolves them nor, once delivery is back, reopens them.
-- grain: detection_id

with optional_columns as (
    -- No rows: only makes the optional columns exist whichever rules return them.
    select
        null::varchar as rule_id,
        null::varchar as resource_arn,
        null::varchar as principal_arn,
        null::varchar as severity,
        null::varchar as suggested_policy,
        null::varchar as suggested_policy_verification
    where false
),

fired as (
    {{ detection_rules }}
    union all by name
    select * from optional_columns
),

rules as (
    select * from ref_detection_rules
),

params as (
    select * from run_params
),

found as (
    select
        substr(md5(f.rule_id || '|' || f.resource_arn), 1, 16) as detection_id,
        f.rule_id,
        coalesce(f.severity, r.severity) as severity,
        f.resource_arn,
        f.resource_type,
        f.account_id,
        f.principal_arn,
        f.title,
        f.evidence,
        f.suggested_policy::varchar as suggested_policy,
        f.suggested_policy_verification::varchar as suggested_policy_verification,
        p.as_of
    from fired as f
    inner join rules as r on r.rule_id = f.rule_id
    cross join params as p
),

completeness as (
    select * from int_account_completeness
),

held_accounts as (
    select account_id, incomplete_reason, previous_as_of
    from completeness
    where is_incomplete and seen_before
),

history as (
    -- The earlier runs' detections (see int_account_completeness for why under this name).
    select * from earlier_detection_history
    where as_of < (select as_of from params)
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
    where account_id not in (select account_id from held_accounts)
),

usage_rules as (
    select unnest([
        'inactive-identity', 'inactive-admin', 'large-permissions-gap',
        'unused-role', 'unused-password', 'unused-access-key'
    ]) as rule_id
),

carried as (
    -- The previous run's detections of an account that is incomplete now, and the escalation
    -- paths of other accounts that ran through such an account (one reason each): those are
    -- held as they were, whether this run still finds the principal's detection or not (what it
    -- finds now, without the unreadable account, is a partial view: another path, another
    -- severity).
    select h.*, a.incomplete_reason, a.account_id as held_for_account_id
    from history as h
    inner join held_accounts as a
        on a.account_id = h.account_id and h.as_of = a.previous_as_of
    union all by name
    select h.*, a.incomplete_reason, a.account_id as held_for_account_id
    from history as h
    inner join held_accounts as a
        on h.as_of = a.previous_as_of
        and h.rule_id = 'privilege-escalation'
        and h.account_id is distinct from a.account_id
        and contains(h.evidence, ':' || a.account_id || ':')
    where h.account_id not in (select account_id from held_accounts)
    qualify row_number() over (partition by h.detection_id order by a.account_id) = 1
    union all by name
    -- The previous run's usage detections of an account with a CloudTrail gap now.
    select h.*, 'cloudtrail_gap' as incomplete_reason, g.account_id as held_for_account_id
    from history as h
    inner join gap_accounts as g on g.account_id = h.account_id
    where h.as_of = (select max(as_of) from history)
        and h.rule_id in (select rule_id from usage_rules)
        and h.detection_id not in (select detection_id from found)
),

held as (
    -- The carried detections, held open.
    select
        h.detection_id,
        h.rule_id,
        h.severity,
        h.resource_arn,
        h.resource_type,
        h.account_id,
        h.principal_arn,
        h.title,
        json_merge_patch(
            coalesce(h.evidence, '{}'),
            to_json({
                'held_open': {
                    'reason': h.incomplete_reason,
                    'account_id': h.held_for_account_id,
                    'last_found_at': coalesce(
                        json_extract_string(h.evidence, '$.held_open.last_found_at'),
                        strftime(h.as_of, '%Y-%m-%d')
                    )
                }
            })
        )::varchar as evidence,
        h.suggested_policy,
        h.suggested_policy_verification,
        p.as_of
    from carried as h
    cross join params as p
),

final as (
    select * from found
    where (account_id is null or account_id not in (select account_id from held_accounts))
        and detection_id not in (select detection_id from carried)
    union all by name
    select * from held
)

select * from final
