"""Land: turn what AWS returned (snapshot JSON/CSV, CloudTrail delivery files) into typed
Parquet tables in the lake, quarantining bad records with their reason. May import only
`pipelines.lib.lake`."""
