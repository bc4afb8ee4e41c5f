-- permission_insights: usage_status is one of used / unused / unobservable, and "used" means
-- at least one successful call in the window.
select principal_arn, action, usage_status, calls_in_window
from permission_insights
where usage_status not in ('used', 'unused', 'unobservable')
    or (usage_status = 'used') != (calls_in_window > 0)
