-- effective_permissions: the grain holds (one row per principal and action).
-- Grouped by an 8-byte hash of the key first, then by the key only where a hash repeats: grouping
-- every (principal, action) as text held 15 GB of spilled strings on ten adversarial accounts
-- (145 M rows: 73 s, and out of memory at 1 GB in two runs of five); the hash pass 12 s.
with keyed as (
    select hash(principal_arn, action) as key_hash from effective_permissions
),

repeated as (
    select key_hash from keyed group by key_hash having count(*) > 1
)

select principal_arn, action, count(*) as n
from effective_permissions
where hash(principal_arn, action) in (select key_hash from repeated)
group by principal_arn, action
having count(*) > 1
