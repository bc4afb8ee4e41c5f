-- effective_permissions: the grain holds (one row per principal and action).
select principal_arn, action, count(*) as n
from effective_permissions
group by principal_arn, action
having count(*) > 1
