"""Collect layer: the collector's defaults that the `ciem` command and the code location name
without loading the AWS SDK (boto3 takes a fifth of a second to import, and `ciem run` never
calls it)."""

DEFAULT_ROLE_NAME = "CiemReadOnly"
DEFAULT_WORKERS = 4
