-- detections: detection_id is unique and every status is a known one.
select detection_id, count(*) as n, list(status) as statuses
from detections
group by detection_id
having count(*) > 1 or bool_or(status not in ('open', 'resolved', 'suppressed'))
