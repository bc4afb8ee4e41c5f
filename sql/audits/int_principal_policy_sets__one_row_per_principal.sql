-- int_principal_policy_sets: one row per principal, so one policy set and one principal bucket
-- each (the per-bucket grain audits of the partitioned marts rely on it).
select principal_arn, count(*) as n
from int_principal_policy_sets
group by principal_arn
having count(*) > 1
