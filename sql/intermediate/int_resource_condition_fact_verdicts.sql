-- int_resource_condition_fact_verdicts
-- The Condition of each resource-based or trust policy statement decided once per distinct
-- tuple of snapshot facts it reads (`facts_json`, see int_resource_condition_facts), by the
-- condition evaluator `ciem explain` uses (this model's Python transform): `verdict` 'true',
-- 'false' or 'unknown', `needed_keys` the lower-cased request keys an 'unknown' still needs
-- (null for a Condition that is not a JSON object). int_resource_condition_verdicts gives the
-- verdict to every principal with these facts.
-- grain: policy_key, statement_index, facts_json
-- transform: pipelines.lib.warehouse.condition_verdicts:resource_verdicts

select distinct policy_key, statement_index, condition_json, facts_json
from int_resource_condition_facts
