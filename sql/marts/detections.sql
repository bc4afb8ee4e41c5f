-- detections
-- Every identity risk found by this run or an earlier one (up to the as-of date): `open` when
-- this run found it, `suppressed` when this run found it but a live entry of the suppressions
-- file covers it (reason and expiry kept), `resolved` when an earlier run did and this one did
-- not. First/last seen are the as-of dates of the first and last run that found it; evidence,
-- principal and suggested policy are from the latest. `console_url` is the "Fix in AWS" link to
-- the resource's page in the AWS console (int_console_links: null unless the ARN is well formed).
-- `account_incomplete` and `incomplete_reason` say that the account's input could not all be
-- read in this run (int_account_completeness): its previous detections were held open, never
-- resolved, and `last_seen_at` is then the run that held them (evidence `held_open` names the
-- run that last found each).
-- grain: detection_id

with history as (
    select h.*
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

rules as (
    select * from ref_detection_rules
),

completeness as (
    select * from int_account_completeness
),

params as (
    select * from run_params
),

latest as (
    select *
    from history
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),

seen as (
    select detection_id, min(as_of) as first_seen_at, max(as_of) as last_seen_at
    from history
    group by detection_id
),

console_links as (
    select * from int_console_links
),

final as (
    select
        l.detection_id,
        l.rule_id,
        l.severity,
        l.resource_arn,
        l.resource_type,
        l.account_id,
        l.title,
        s.first_seen_at,
        s.last_seen_at,
        case
            when s.last_seen_at <> p.as_of then 'resolved'
            when l.suppression_reason is not null then 'suppressed'
            else 'open'
        end as status,
        l.evidence,
        r.category,
        r.description,
        r.remediation,
        r."references" as reference_url,
        l.principal_arn,
        case when s.last_seen_at = p.as_of then l.suppression_reason end as suppression_reason,
        case
            when s.last_seen_at = p.as_of then l.suppression_expires_at
        end as suppression_expires_at,
        c.console_url,
        l.suggested_policy,
        l.suggested_policy_verification,
        coalesce(a.is_incomplete, false) as account_incomplete,
        a.incomplete_reason
    from latest as l
    inner join seen as s on s.detection_id = l.detection_id
    left join console_links as c
        on c.resource_arn = l.resource_arn and c.resource_type = l.resource_type
    cross join params as p
    left join rules as r on r.rule_id = l.rule_id
    left join completeness as a on a.account_id = l.account_id
)

select * from final
