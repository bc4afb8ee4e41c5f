"""Warehouse: the DuckDB connection over the lake, SQL model discovery and execution
(`sql/<layer>/<model>.sql`) and the daily CloudTrail aggregates. Imports land, reference and
lake."""
