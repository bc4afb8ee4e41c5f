-- int_account_completeness
-- Which accounts this run could not read in full. An account is incomplete when any of its
-- snapshot input was refused or is missing:
--   * a quarantined file or record under `<account>/` (its authorization details as a whole, a
--     user, role, group or policy in them, a refused policy document, its credential report, a
--     resource policy, ...);
--   * its authorization details are absent (no user, role or group landed) while the previous run
--     had principals or detections for it;
--   * a quarantined SCP/RCP file `organization/policies/<id>.json` whose targets file attaches it
--     to the account, an OU above it or the root (the management account excepted: organization
--     policies do not restrict it), or a quarantined parents file on its path to the root;
--   * any other quarantined organization file (targets, accounts, roots, the organization):
--     where the policies apply is unknown, so every member account;
--   * a quarantined accounts list or organization description (`list-accounts.json`,
--     `describe-organization.json`): which accounts are in the organization is unknown, and the
--     trust and resource-policy rules of every account (the management account included) judge
--     other accounts by it, so every account.
-- An unreadable policy is never read as absent: the detection lifecycle holds an incomplete
-- account's previous detections open (int_detections_current) and the marts say so.
-- `incomplete_reason` is one line per reason, joined with '; ' (null when complete).
-- `previous_as_of` is the previous run's as-of date (null on the first run); `seen_before` says
-- that run had the account (principals or detections).
-- The earlier runs' history is read from `earlier_detection_history` and
-- `earlier_resource_config_history` (the same lake files as `detection_history` and
-- `resource_config_history`, under names that are no dependency within a run: this run appends
-- to them only after int_detections_current, which reads this model), before this as-of date.
-- grain: account_id

with recursive params as (
    select * from run_params
),

earlier_detections as (
    select * from earlier_detection_history
    where as_of < (select as_of from params)
),

earlier_config as (
    select * from earlier_resource_config_history
    where as_of < (select as_of from params)
),

snapshot_quarantine as (
    select file, record, field
    from raw_quarantine
    where source = 'snapshot'
),

management as (
    select management_account_id as account_id from raw_org_organization
),

current_principal_accounts as (
    select account_id from raw_iam_users
    union
    select account_id from raw_iam_roles
    union
    select account_id from raw_iam_groups
),

previous_run as (
    select max(as_of) as previous_as_of
    from (
        select as_of from earlier_detections
        union
        select as_of from earlier_config
    )
),

previous_accounts as (
    -- Accounts the previous run had principals or detections for.
    select distinct c.account_id
    from earlier_config as c
    inner join previous_run as r on c.as_of = r.previous_as_of
    where c.resource_type in ('iam_user', 'iam_role', 'iam_group') and c.account_id is not null
    union
    select distinct h.account_id
    from earlier_detections as h
    inner join previous_run as r on h.as_of = r.previous_as_of
    where h.account_id is not null
),

quarantined_account_files as (
    select
        split_part(file, '/', 1) as account_id,
        file,
        count(*) as items,
        bool_or(record is null and field is null) as whole_file
    from snapshot_quarantine
    where regexp_matches(file, '^[0-9]{12}/')
    group by 1, 2
),

known_accounts as (
    select account_id from raw_org_accounts
    union
    select account_id from management where account_id is not null
    union
    select account_id from current_principal_accounts
    union
    select account_id from previous_accounts
    union
    select account_id from quarantined_account_files
),

member_accounts as (
    select account_id from known_accounts
    where account_id not in (select account_id from management where account_id is not null)
),

chain(account_id, node_id) as (
    -- Each member account's path to the root: itself, its OUs, the root.
    select account_id, account_id from member_accounts
    union
    select c.account_id, p.parent_id
    from chain as c
    inner join raw_org_parents as p on p.child_id = c.node_id
),

quarantined_org_files as (
    select
        file,
        case
            when regexp_matches(file, '^organization/policies/[^/]+\.json$') then 'policy'
            when regexp_matches(file, '^organization/parents/[^/]+\.json$') then 'parents'
            when file in (
                'organization/list-accounts.json', 'organization/describe-organization.json'
            ) then 'membership'
            else 'other'
        end as kind,
        regexp_extract(file, '^organization/[^/]+/([^/]+)\.json$', 1) as node_or_policy_id,
        count(*) as items
    from snapshot_quarantine
    where file like 'organization/%'
    group by 1, 2, 3
),

org_reasons as (
    -- An unreadable SCP/RCP: its targets file (read on its own) still names where it applies.
    select distinct
        c.account_id,
        'unreadable organization policy ' || q.node_or_policy_id || ' (' || q.file
        || ') applies to it' as reason
    from quarantined_org_files as q
    inner join raw_org_policy_targets as t on t.policy_id = q.node_or_policy_id
    inner join chain as c on c.node_id = t.target_id
    where q.kind = 'policy'
    union
    select distinct
        c.account_id,
        'unreadable organization parents file ' || q.file || ' on its path to the root'
    from quarantined_org_files as q
    inner join chain as c on c.node_id = q.node_or_policy_id
    where q.kind = 'parents'
    union
    select
        m.account_id,
        'unreadable organization file ' || q.file || ' (where organization policies apply is unknown)'
    from quarantined_org_files as q
    cross join member_accounts as m
    where q.kind in ('other', 'membership')
    union
    select
        k.account_id,
        'unreadable organization file ' || q.file
        || ' (which accounts are in the organization is unknown)'
    from quarantined_org_files as q
    cross join known_accounts as k
    where q.kind = 'membership'
),

account_reasons as (
    select
        account_id,
        'unreadable input ' || file || case
            when whole_file then ' (whole file)'
            else ' (' || items || ' record(s) or field(s) refused)'
        end as reason
    from quarantined_account_files
    union all
    select
        a.account_id,
        'authorization details absent (the previous run had its principals or detections)'
    from previous_accounts as a
    where a.account_id not in (select account_id from current_principal_accounts)
        and a.account_id not in (
            select account_id from quarantined_account_files
            where file = account_id || '/iam/get-account-authorization-details.json'
        )
    union all
    select account_id, reason from org_reasons
),

reasons as (
    select account_id, string_agg(reason, '; ' order by reason) as incomplete_reason
    from account_reasons
    group by account_id
),

final as (
    select
        k.account_id,
        r.account_id is not null as is_incomplete,
        r.incomplete_reason,
        pr.previous_as_of,
        k.account_id in (select account_id from previous_accounts) as seen_before
    from known_accounts as k
    cross join previous_run as pr
    left join reasons as r on r.account_id = k.account_id
)

select * from final
