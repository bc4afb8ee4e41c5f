"""Warehouse: the DuckDB connection over the lake, SQL model discovery and execution
(`sql/<layer>/<model>.sql`) and the daily CloudTrail aggregates. May import land, reference and
lake."""
