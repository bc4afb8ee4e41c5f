"""Findings: what a run concludes beyond the SQL models: suppressions as code, the detection and
resource history the timeline compares, and the OCSF export. May import the warehouse and the
layers before it."""
