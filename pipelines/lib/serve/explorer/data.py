"""The explorer's data: a fixed set of read-only queries on the warehouse, shaped as JSON.

`list_payload` feeds the list (detections, group-by views, header figures); `detail_payloads`
feeds the side panel of each detection (insights, relationships, resource configuration,
timeline, remediation). The server answers one detection at a time and the static snapshot
embeds every one, through the same functions. Tables and columns other steps add later
(relationships, console_url, suggested_policy, ...) are optional: a missing one makes its part
`{"available": false}` instead of an error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from pipelines.lib.serve.explorer import insights

SEVERITIES = ("critical", "high", "medium", "low", "info")
# The list: one row per detection, columns in this order (a missing column is null).
LIST_COLUMNS = (
    "detection_id",
    "rule_id",
    "severity",
    "resource_arn",
    "resource_type",
    "account_id",
    "title",
    "status",
    "first_seen_at",
    "last_seen_at",
    "category",
    "principal_arn",
    "suppression_reason",
)
# Edges drawn around one resource (its own, then its groups' and roles' edges).
MAX_EDGES = 80
# Columns of a timeline row that repeat the detection (not shown per event).
_TIMELINE_DETECTION_COLUMNS = {
    "detection_id",
    "rule_id",
    "severity",
    "resource_arn",
    "resource_type",
    "account_id",
    "title",
}
# Relationships followed one step further from a neighbouring group or role: its policies and
# boundary (it is their source) and who can assume it (it is their target).
_SECOND_HOP_AS_SOURCE = ("has_policy", "has_boundary")
_SECOND_HOP_AS_TARGET = ("can_assume",)
_SECOND_HOP_TYPES = ("iam_group", "iam_role")

Catalog = dict[str, set[str]]


def catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    """Tables and views of the warehouse with their columns (what the explorer can show)."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'main'"
    ).fetchall()
    tables: Catalog = defaultdict(set)
    for table, column in rows:
        tables[table].add(column)
    return dict(tables)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description or []]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]


def _pretty_json(text: str | None) -> str | None:
    """A JSON document indented for reading (the text as it is when it is not JSON): only the
    suggested policy, which the page copies as it shows it. Every other JSON text (evidence,
    relationship and timeline details, policy documents) goes as stored and the page indents
    it: indented here, the whitespace was more than half of a large organization's page."""
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=False)
    except (TypeError, ValueError):
        return text


def _parse_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _col(cat: Catalog, table: str, column: str, alias: str | None = None) -> str:
    """`column` when the table has it, else a typed null (for tables other steps extend)."""
    name = alias or column
    if column in cat.get(table, set()):
        return f'"{column}" as "{name}"'
    return f'null::varchar as "{name}"'


# --- the list -------------------------------------------------------------------------------


def list_payload(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Everything the list and its header need, for every detection."""
    cat = catalog(con)
    if "detections" not in cat:
        return {"available": False, "tables": sorted(cat)}
    select = ", ".join(_col(cat, "detections", c) for c in LIST_COLUMNS)
    rows = con.execute(
        f"select {select} from detections "
        "order by list_position(['critical', 'high', 'medium', 'low', 'info'], severity), "
        "rule_id, resource_arn, detection_id"
    ).fetchall()
    detections = [[_plain(v) for v in row] for row in rows]
    status_index = LIST_COLUMNS.index("status")
    severity_index = LIST_COLUMNS.index("severity")
    last_seen = LIST_COLUMNS.index("last_seen_at")
    open_by_severity = dict.fromkeys(SEVERITIES, 0)
    for row in detections:
        if row[status_index] == "open" and row[severity_index] in open_by_severity:
            open_by_severity[row[severity_index]] += 1
    return {
        "available": True,
        "as_of": max((str(r[last_seen]) for r in detections if r[last_seen]), default=None),
        "columns": list(LIST_COLUMNS),
        "detections": detections,
        "open_by_severity": open_by_severity,
        "runs": _runs(con, cat),
        "rules": _rules(con, cat),
        "by_risk": _view_rows(con, cat, "identity_risks_by_risk"),
        "by_resource": _view_rows(con, cat, "identity_risks_by_resource"),
        "tables": {
            name: name in cat
            for name in (
                "detection_timeline",
                "permission_insights",
                "relationships",
                "principals",
                "stg_policy_documents",
            )
        },
    }


def _runs(con: duckdb.DuckDBPyConnection, cat: Catalog) -> list[dict[str, Any]] | None:
    """Open detections per run (as-of date) over time, from the detection history: a detection
    a suppression covered in that run is not open (a run where all were suppressed counts 0)."""
    if "detection_history" not in cat:
        return None
    suppressed = (
        "suppression_reason is not null"
        if "suppression_reason" in cat["detection_history"]
        else "false"
    )
    return _dicts(
        con.execute(
            "select as_of, count(distinct detection_id) filter (where not "
            f"({suppressed})) as open_detections "
            "from detection_history group by as_of order by as_of"
        )
    )


def _rules(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, dict[str, Any]]:
    if "ref_detection_rules" not in cat:
        return {}
    rows = _dicts(con.execute("select rule_id, title, severity, category from ref_detection_rules"))
    return {r["rule_id"]: r for r in rows}


def _view_rows(
    con: duckdb.DuckDBPyConnection, cat: Catalog, view: str
) -> list[dict[str, Any]] | None:
    if view not in cat:
        return None
    return _dicts(con.execute(f"select * from {view} order by all"))


# --- the side panel -------------------------------------------------------------------------


def detail_payloads(
    con: duckdb.DuckDBPyConnection, detection_ids: Sequence[str], insights_from: str = insights.MART
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The side panel of each detection: (per detection: the detection and its timeline; per
    resource: insights, relationships and configuration). Unknown ids are left out.
    `insights_from=insights.PAGE`: the Insights rows of `insights.page_insights`."""
    cat = catalog(con)
    if "detections" not in cat or not detection_ids:
        return {}, {}
    detections = _dicts(
        con.execute(
            "select * from detections where detection_id in (select unnest($ids::varchar[]))",
            {"ids": list(detection_ids)},
        )
    )
    if not detections:
        return {}, {}
    principal_of = _principals_of(con, cat, detections)
    timelines = _timelines(con, cat, detections)
    per_detection = {}
    resource_principal: dict[str, str | None] = {}
    for d in detections:
        arn = d["resource_arn"]
        resource_principal.setdefault(arn, principal_of.get(arn))
        per_detection[d["detection_id"]] = {
            "detection": _detection_view(d),
            "resource_key": arn,
            "timeline": timelines.get(d["detection_id"], {"available": False}),
        }
    resources = _resource_payloads(con, cat, resource_principal, insights_from)
    return per_detection, resources


def detail_payload(con: duckdb.DuckDBPyConnection, detection_id: str) -> dict[str, Any] | None:
    """One detection's side panel, resource parts merged in (what the server answers)."""
    per_detection, resources = detail_payloads(con, [detection_id])
    if detection_id not in per_detection:
        return None
    detail = per_detection[detection_id]
    return {**detail, **resources[detail["resource_key"]]}


def _detection_view(d: dict[str, Any]) -> dict[str, Any]:
    view = dict(d)
    view["suggested_policy"] = _pretty_json(d.get("suggested_policy"))
    view["suggested_policy_verification"] = _parse_json(d.get("suggested_policy_verification"))
    return view


def _principals_of(
    con: duckdb.DuckDBPyConnection, cat: Catalog, detections: list[dict[str, Any]]
) -> dict[str, str | None]:
    """The IAM user or role whose permissions stand behind each resource: the detection's
    principal_arn, the resource itself for users and roles, the role an instance or function
    runs as."""
    out: dict[str, str | None] = {}
    runs_as = _runs_as(con, cat)
    for d in detections:
        arn = d["resource_arn"]
        principal = d.get("principal_arn")
        if not principal and d.get("resource_type") in ("iam_user", "iam_role"):
            principal = arn
        principal = principal or runs_as.get(arn)
        if principal or arn not in out:
            out[arn] = principal
    return out


def _runs_as(con: duckdb.DuckDBPyConnection, cat: Catalog) -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    if {"raw_ec2_instances", "raw_iam_instance_profiles"} <= cat.keys():
        pairs += con.execute(
            "select i.arn, p.role_arn from raw_ec2_instances as i "
            "inner join raw_iam_instance_profiles as p on p.arn = i.instance_profile_arn"
        ).fetchall()
    if "raw_lambda_functions" in cat:
        pairs += con.execute(
            "select function_arn, role_arn from raw_lambda_functions where role_arn is not null"
        ).fetchall()
    if "relationships" in cat:
        pairs += con.execute(
            "select source_arn, target_arn from relationships where relationship = 'runs_as'"
        ).fetchall()
    return dict(pairs)


def _timelines(
    con: duckdb.DuckDBPyConnection, cat: Catalog, detections: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each detection's events, newest first, with the resource changes recorded for it."""
    if "detection_timeline" not in cat:
        return {}
    ids = [d["detection_id"] for d in detections]
    rows = _dicts(
        con.execute(
            "select * from detection_timeline where detection_id in "
            "(select unnest($ids::varchar[]))",
            {"ids": ids},
        )
    )
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_id[row["detection_id"]].append(row)
    out = {}
    for d in detections:
        events = _dedupe_events(by_id[d["detection_id"]])
        out[d["detection_id"]] = {"available": True, "events": events}
    return out


def _dedupe_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    events = []
    for row in rows:
        event = {k: v for k, v in row.items() if k not in _TIMELINE_DETECTION_COLUMNS}
        key = json.dumps(event, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            events.append(event)
    # Newest first; on the same day a change is listed below (before) what it caused.
    events.sort(key=lambda e: (str(e.get("event_at")), e.get("event_type") != "resource_changed"))
    events.reverse()
    return events


def _resource_payloads(
    con: duckdb.DuckDBPyConnection,
    cat: Catalog,
    principal_of: dict[str, str | None],
    insights_from: str,
) -> dict[str, dict[str, Any]]:
    arns = sorted(principal_of)
    principals = sorted({p for p in principal_of.values() if p})
    found = _insights(con, cat, principals, insights_from)
    graphs = _relationships(con, cat, arns)
    configs = _configurations(con, cat, sorted({*arns, *principals}))
    out = {}
    for arn in arns:
        principal = principal_of[arn]
        if "permission_insights" not in cat:
            insight = {"available": False, "reason": "the permission_insights table is missing"}
        elif not principal:
            insight = {"available": False, "reason": "no IAM user or role behind this resource"}
        else:
            insight = found.get(principal) or {
                "available": True,
                "principal_arn": principal,
                "services": [],
                "totals": _totals([]),
                "used_actions": [],
            }
        out[arn] = {
            "insights": insight,
            "relationships": graphs.get(arn, {"available": False}),
            "resource": _with_role_policies(configs, arn, principal),
        }
    return out


def _with_role_policies(
    configs: dict[str, dict[str, Any]], arn: str, principal: str | None
) -> dict[str, Any]:
    """An instance's or function's configuration, followed by the policies of the role it runs
    as (marked `via`), since they are what make it risky."""
    config = configs[arn]
    if not principal or principal == arn or config["policies"] is None:
        return config
    inherited = [{**p, "via": principal} for p in configs[principal]["policies"] or []]
    return {**config, "policies": config["policies"] + inherited}


# --- Insights -------------------------------------------------------------------------------


def _insights(
    con: duckdb.DuckDBPyConnection, cat: Catalog, principals: list[str], source: str
) -> dict[str, dict[str, Any]]:
    if "permission_insights" not in cat or not principals:
        return {}
    has = cat["permission_insights"]
    rows = _dicts(con.execute(insights.rows_query(has, source), {"p": principals}))
    used_actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    used = insights.used_query(has, source)
    if used is not None:
        for row in _dicts(con.execute(used, {"p": principals})):
            used_actions[row.pop("principal_arn")].append(row)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("principal_arn")].append(row)
    out = {}
    for principal, services in grouped.items():
        first = services[0]
        out[principal] = {
            "available": True,
            "principal_arn": principal,
            "window_start": first["window_start"],
            "window_end": first["window_end"],
            "catalog_version": first["catalog_version"],
            "totals": _totals(services),  # the rest row carries the rest's counts
            "services": [{k: s[k] for k in _SERVICE_KEYS} for s in services],
            "used_actions": used_actions.get(principal, []),
        }
    return out


def _totals(services: list[dict[str, Any]]) -> dict[str, Any]:
    """The gap: unused share of the observable granted actions (its denominator)."""
    used = sum(s["used"] for s in services)
    unused = sum(s["unused"] for s in services)
    unobservable = sum(s["unobservable"] for s in services)
    observable = used + unused
    return {
        "granted": used + unused + unobservable,
        "used": used,
        "unused": unused,
        "unobservable": unobservable,
        "observable": observable,
        "gap_pct": round(100.0 * unused / observable, 2) if observable else None,
    }


_SERVICE_KEYS = ("service", "used", "unused", "unobservable", "granted", "last_used_at", "calls")


# --- Relationships --------------------------------------------------------------------------

_EDGE_COLUMNS = (
    "source_arn",
    "source_type",
    "relationship",
    "target_arn",
    "target_type",
    "is_risky",
    "risk_reason",
    "details",
)


def _relationships(
    con: duckdb.DuckDBPyConnection, cat: Catalog, arns: list[str]
) -> dict[str, dict[str, Any]]:
    """Each resource's neighbourhood: its own edges, then the policies, boundary and trust of
    the groups and roles next to it."""
    if "relationships" not in cat:
        return {}
    has = cat["relationships"]
    cols = ", ".join(f"r.{c}" if c in has else f"null as {c}" for c in _EDGE_COLUMNS)
    rows = _dicts(
        con.execute(
            f"""
            with centers as (
                select unnest($arns::varchar[]) as center
            ),

            first_hop as (
                select c.center, 1 as hop, {cols}
                from relationships as r
                inner join centers as c on r.source_arn = c.center
                union all
                select c.center, 1 as hop, {cols}
                from relationships as r
                inner join centers as c on r.target_arn = c.center
            ),

            neighbours as (
                select distinct center,
                    case when source_arn = center then target_arn else source_arn end as arn,
                    case when source_arn = center then target_type else source_type end as type
                from first_hop
            ),

            second_hop as (
                select n.center, 2 as hop, {cols}
                from relationships as r
                inner join neighbours as n on r.source_arn = n.arn
                where n.type in {_SECOND_HOP_TYPES} and r.relationship in {_SECOND_HOP_AS_SOURCE}
                union all
                select n.center, 2 as hop, {cols}
                from relationships as r
                inner join neighbours as n on r.target_arn = n.arn
                where n.type in {_SECOND_HOP_TYPES} and r.relationship in {_SECOND_HOP_AS_TARGET}
                    and r.source_arn <> n.center
            ),

            hops as (
                select * from first_hop
                union all
                select * from second_hop
            ),

            distinct_edges as (
                -- an edge once per neighbourhood, at its nearest hop
                select * from hops
                qualify row_number() over (
                    partition by center, source_arn, relationship, target_arn order by hop
                ) = 1
            ),

            numbered as (
                select
                    *,
                    row_number() over (
                        partition by center order by hop, relationship, source_arn, target_arn
                    ) as position,
                    count(*) over (partition by center) as total
                from distinct_edges
            )

            -- the first MAX_EDGES (counted past the cap: the panel says how many it does not draw)
            select * from numbered
            where position <= $cap
            order by center, position
            """,
            {"arns": arns, "cap": MAX_EDGES},
        )
    )
    edges: dict[str, list[dict[str, Any]]] = {arn: [] for arn in arns}
    totals: dict[str, int] = dict.fromkeys(arns, 0)
    for row in rows:
        center = row.pop("center")
        del row["position"]
        totals[center] = row.pop("total")
        row["is_risky"] = bool(row["is_risky"])
        row["details"] = row["details"] if isinstance(row["details"], str) else None
        edges[center].append(row)
    # `total`: the distinct edges of the neighbourhood; `edges`: the first MAX_EDGES of them (its
    # own edges first, by relationship, source and target)
    return {
        arn: {"available": True, "center": arn, "edges": e, "total": totals[arn]}
        for arn, e in edges.items()
    }


# --- Resource -------------------------------------------------------------------------------

# The attributes shown for each kind of resource (the row of its table, in this order).
_PRINCIPAL_ATTRIBUTES = (
    "principal_arn",
    "principal_type",
    "name",
    "account_id",
    "path",
    "created_at",
    "permissions_boundary_arn",
    "is_service_linked",
    "is_sso_reserved",
    "password_enabled",
    "mfa_active",
    "has_active_access_key",
    "last_activity_at",
    "granted_actions",
    "used_actions",
    "unused_actions",
    "unobservable_actions",
    "gap_ratio",
)


def _configurations(
    con: duckdb.DuckDBPyConnection, cat: Catalog, arns: list[str]
) -> dict[str, dict[str, Any]]:
    attributes = _attributes(con, cat, arns)
    policies = _policies(con, cat, arns, attributes)
    groups = _group_memberships(con, cat, arns)
    out = {}
    for arn in arns:
        attrs = attributes.get(arn)
        tags = _parse_json(attrs.pop("tags_json", None)) if attrs else None
        out[arn] = {
            "available": attrs is not None or bool(policies and policies.get(arn)),
            "attributes": attrs or {},
            "tags": tags if isinstance(tags, list) else [],
            "groups": groups.get(arn, []),
            "policies": policies.get(arn, []) if policies is not None else None,
        }
    return out


def _attributes(
    con: duckdb.DuckDBPyConnection, cat: Catalog, arns: list[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    sources = []
    if "principals" in cat:
        wanted = [c for c in (*_PRINCIPAL_ATTRIBUTES, "tags_json") if c in cat["principals"]]
        sources.append(("principals", "principal_arn", wanted))
    if "raw_ec2_instances" in cat:
        sources.append(("raw_ec2_instances", "arn", sorted(cat["raw_ec2_instances"])))
    if "raw_lambda_functions" in cat:
        columns = sorted(cat["raw_lambda_functions"])
        sources.append(("raw_lambda_functions", "function_arn", columns))
    if "raw_credential_report" in cat:  # the root user, and users' credential facts
        sources.append(("raw_credential_report", "arn", sorted(cat["raw_credential_report"])))
    for table, key, columns in sources:
        select = ", ".join(f'"{c}"' for c in columns)
        rows = _dicts(
            con.execute(
                f"select {key} as _key, {select} from {table} "
                f"where {key} in (select unnest($arns::varchar[]))",
                {"arns": arns},
            )
        )
        for row in rows:
            out.setdefault(row.pop("_key"), row)
    return out


def _policies(
    con: duckdb.DuckDBPyConnection,
    cat: Catalog,
    arns: list[str],
    attributes: dict[str, dict[str, Any]],
) -> dict[str, list[dict[str, Any]]] | None:
    """The policy documents of each resource, as stored (the page indents them): inline,
    attached managed, its permission boundary, and the policies attached to it (trust policy,
    resource policy)."""
    if "stg_policy_documents" not in cat:
        return None
    attached: list[tuple[str, str, str]] = []  # (resource, kind, policy arn)
    if "raw_iam_policy_attachments" in cat:
        attached += [
            (r, "managed", p)
            for r, p in con.execute(
                "select principal_arn, policy_arn from raw_iam_policy_attachments "
                "where principal_arn in (select unnest($arns::varchar[]))",
                {"arns": arns},
            ).fetchall()
        ]
    for arn, attrs in attributes.items():
        if attrs.get("permissions_boundary_arn"):
            attached.append((arn, "boundary", attrs["permissions_boundary_arn"]))
    managed = dict(
        con.execute(
            "select policy_arn, any_value(document) from stg_policy_documents "
            "where policy_kind = 'managed' and policy_arn in (select unnest($p::varchar[])) "
            "group by policy_arn",
            {"p": sorted({p for _, _, p in attached})},
        ).fetchall()
    )
    own = con.execute(
        """
        select coalesce(principal_arn, resource_arn) as owner, policy_kind, policy_name,
               policy_arn, document
        from stg_policy_documents
        where principal_arn in (select unnest($arns::varchar[]))
            or resource_arn in (select unnest($arns::varchar[]))
        order by owner, policy_kind, policy_name
        """,
        {"arns": arns},
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for owner, kind, name, policy_arn, document in own:
        out[owner].append({"kind": kind, "name": name, "arn": policy_arn, "document": document})
    for owner, kind, policy_arn in sorted(attached):
        out[owner].append(
            {
                "kind": kind,
                "name": policy_arn.rsplit("/", 1)[-1],
                "arn": policy_arn,
                "document": managed.get(policy_arn),
            }
        )
    return out


def _group_memberships(
    con: duckdb.DuckDBPyConnection, cat: Catalog, arns: list[str]
) -> dict[str, list[str]]:
    if "raw_iam_group_memberships" not in cat:
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    for user, group in con.execute(
        "select user_arn, group_arn from raw_iam_group_memberships "
        "where user_arn in (select unnest($arns::varchar[])) order by group_arn",
        {"arns": arns},
    ).fetchall():
        out[user].append(group)
    return out


# --- the static snapshot --------------------------------------------------------------------


def snapshot_payload(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The list and every detection's side panel, for the self-contained page."""
    listing = list_payload(con)
    ids = [row[0] for row in listing.get("detections", [])]
    details, resources = detail_payloads(con, ids)
    return {"list": listing, "details": details, "resources": resources}
