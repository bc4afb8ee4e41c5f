-- int_detections_current: every rule that fired is in the registry with a known severity.
select d.rule_id, r.severity
from int_detections_current as d
left join ref_detection_rules as r on r.rule_id = d.rule_id
where r.rule_id is null or r.severity not in ('critical', 'high', 'medium', 'low', 'info')
