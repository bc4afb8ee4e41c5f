-- suppressions: no entry of the suppressions file has expired (a warning: expired entries no
-- longer apply, so the detections they covered are open again; renew or delete them).
-- severity: warn
select entry_index, rule_id, resource_pattern, reason, expires_at, matched_detections
from suppressions
where status = 'expired'
