-- privilege_escalation_paths: the grain holds (one row per source and target), every path has
-- as many steps as `hops`, starts at the source and ends at the target.
select source_arn, target_arn, count(*) as n
from privilege_escalation_paths
group by source_arn, target_arn
having count(*) > 1
    or any_value(json_array_length(path::json)) <> any_value(hops)
    or any_value(path::json -> 0 ->> 'from') <> source_arn
    or any_value(path::json -> -1 ->> 'to') <> target_arn
