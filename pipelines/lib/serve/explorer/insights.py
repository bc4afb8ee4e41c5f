"""The Insights tab of the explorer: per principal, its granted actions by service (used, unused,
unobservable), the rest of its services summed in one row, and its most called actions.

The server reads `permission_insights` for the principals of one detection. The static page
embeds every detection, a chunk at a time: reading the mart for each chunk scanned every row of
it again (145 M rows on ten accounts, about 1.6 s a chunk of 500 detections). `page_insights`
reads it once instead, a principal bucket at a time (`-- partition: principal_bucket`: a
principal's rows are all in its bucket), into two temporary tables of the rows the tab shows, and
the chunks read those (`source=PAGE`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipelines.lib.warehouse.sql_models import model_parts

# Services shown one by one in the Insights tab; the rest are summed into one row.
MAX_SERVICES = 30
MAX_USED_ACTIONS = 100
MART = "permission_insights"
PAGE_ROWS = "explorer_insight_rows"  # temporary tables of `page_insights`
PAGE_USED = "explorer_used_actions"
PAGE = "page"  # `source` of `insights`: the page's temporary tables

_PRINCIPALS = "principal_arn in (select unnest($p::varchar[]))"


def _services_sql(has: set[str], source: str, where: str) -> str:
    """Per (principal, service) of `source`: the actions by usage status and their figures."""
    last_used = "max(last_used_at)" if "last_used_at" in has else "null"
    calls = "sum(calls_in_window)" if "calls_in_window" in has else "null"
    window = (
        "min(window_start) as window_start, max(window_end) as window_end"
        if {"window_start", "window_end"} <= has
        else "null as window_start, null as window_end"
    )
    version = "max(catalog_version)" if "catalog_version" in has else "null"
    return f"""
        select
            principal_arn,
            service,
            count(*) filter (where usage_status = 'used') as used,
            count(*) filter (where usage_status = 'unused') as unused,
            count(*) filter (where usage_status = 'unobservable') as unobservable,
            count(*) as granted,
            {last_used} as last_used_at,
            {calls} as calls,
            {window},
            {version} as catalog_version
        from {source}
        {where}
        group by principal_arn, service
    """  # noqa: S608 (table names and clauses of this module)


# The services shown one by one, then the rest summed in one row (`slot` MAX_SERVICES + 1),
# ranked in SQL: a principal of a dense organization has hundreds of services granted.
_RANKED = """
    with ranked as (
        select
            *,
            least(row_number() over (
                partition by principal_arn
                order by used desc, granted desc, coalesce(service, '')
            ), {shown} + 1) as slot
        from {services}
    )

    select
        principal_arn,
        slot,
        case
            when slot <= {shown} then any_value(service)
            else count(*) || ' other services'
        end as service,
        sum(used) as used,
        sum(unused) as unused,
        sum(unobservable) as unobservable,
        sum(granted) as granted,
        max(last_used_at) as last_used_at,
        case
            when slot <= {shown} then any_value(calls) else coalesce(sum(calls), 0)
        end as calls,
        min(window_start) as window_start,
        max(window_end) as window_end,
        max(catalog_version) as catalog_version
    from ranked
    group by principal_arn, slot
"""


def _ranked_sql(has: set[str], source: str, where: str) -> str:
    """The Insights rows of the principals of `source` (`where`: which)."""
    services = f"services as ({_services_sql(has, source, where)}),"
    ranked = _RANKED.format(shown=MAX_SERVICES, services="services").strip()
    return f"with {services} {ranked.removeprefix('with ')}"


def _used_sql(source: str, where: str) -> str:
    """The most called actions of each principal of `source`."""
    return f"""
        select principal_arn, action, last_used_at, calls_in_window as calls
        from {source}
        where usage_status = 'used' {where}
        qualify row_number() over (
            partition by principal_arn order by calls_in_window desc, action
        ) <= {MAX_USED_ACTIONS}
    """  # noqa: S608 (table names and clauses of this module)


@contextmanager
def page_insights(con: duckdb.DuckDBPyConnection, has: set[str] | None) -> Iterator[None]:
    """Within the block, the Insights rows of every principal in two temporary tables (`has`:
    the mart's columns, None when it is missing), read from the mart a bucket at a time."""
    if has is None:
        yield
        return
    parts = model_parts(con, MART) or [MART]
    used = {"last_used_at", "calls_in_window"} <= has
    try:
        for i, part in enumerate(parts):
            query = _ranked_sql(has, part, "")
            verb = f"create temp table {PAGE_ROWS} as" if i == 0 else f"insert into {PAGE_ROWS}"
            con.execute(f"{verb} {query}")
            if used:
                verb = f"create temp table {PAGE_USED} as" if i == 0 else f"insert into {PAGE_USED}"
                con.execute(f"{verb} {_used_sql(part, '')}")
        yield
    finally:
        for name in (PAGE_ROWS, PAGE_USED):
            con.execute(f"drop table if exists temp.{name}")


def rows_query(has: set[str], source: str = MART) -> str:
    """The query of the Insights rows (`slot` order) of the principals `$p` (`has`: the mart's
    columns), from the mart or, with `source=PAGE`, from the tables of `page_insights`."""
    if source == PAGE:
        return f"select * from {PAGE_ROWS} where {_PRINCIPALS} order by principal_arn, slot"  # noqa: S608 (constant names)
    return f"{_ranked_sql(has, MART, 'where ' + _PRINCIPALS)} order by principal_arn, slot"


def used_query(has: set[str], source: str = MART) -> str | None:
    """The query of the most called actions of the principals `$p`, or None when the mart has
    no usage columns."""
    if not {"last_used_at", "calls_in_window"} <= has:
        return None
    if source == PAGE:
        query = f"select * from {PAGE_USED} where {_PRINCIPALS}"  # noqa: S608 (constant names)
    else:
        query = _used_sql(MART, "and " + _PRINCIPALS)
    return f"{query} order by principal_arn, calls desc, action"
