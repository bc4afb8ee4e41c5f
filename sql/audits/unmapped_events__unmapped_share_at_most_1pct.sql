-- unmapped_events: at most 1% of the window's events are unmapped (a warning, not an error:
-- the run goes on, those calls just count for nobody's usage).
-- severity: warn
select sum(events) as unmapped_events, sum(share_of_events) as unmapped_share
from unmapped_events
having sum(share_of_events) > 0.01
