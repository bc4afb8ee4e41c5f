-- effective_permissions: the grain holds (one row per principal and action).
-- partition: principal_bucket
-- Checked bucket by bucket: no key repeats within a bucket's rows, and every principal there is
-- of that bucket (`outside_its_bucket`); with int_principal_policy_sets' own check (one row per
-- principal) no key repeats at all. Grouping the 145 M keys of ten adversarial accounts at once
-- ran out of memory at 1 GB in two runs of five (73 s and 15 GB spilled as text, 12 s and 3.7 GB
-- as 8-byte hashes). A key is grouped by its hash first, then as text only where a hash repeats.
with keyed as (
    select hash(principal_arn, action) as key_hash from effective_permissions
),

repeated as (
    select key_hash from keyed group by key_hash having count(*) > 1
),

bucket_principals as (
    select principal_arn from int_principal_policy_sets
)

select principal_arn, action, count(*) as n, false as outside_its_bucket
from effective_permissions
where hash(principal_arn, action) in (select key_hash from repeated)
group by principal_arn, action
having count(*) > 1

union all

select e.principal_arn, null as action, count(*) as n, true as outside_its_bucket
from effective_permissions as e
anti join bucket_principals as b on e.principal_arn = b.principal_arn
group by e.principal_arn
