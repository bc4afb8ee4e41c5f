"""Demo entry: writes data/demo (snapshots, CloudTrail, expected detections, README); `main()`."""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
from pathlib import Path
from typing import Any

from pipelines.demo.accounts import ACCOUNT_NAMES, REGIONS, SEED, SNAPSHOT_DATES
from pipelines.demo.coverage import delivered, silent_folders
from pipelines.demo.credential_report import credential_report
from pipelines.demo.detections import Detection
from pipelines.demo.expected import check_expectations, expected_detections
from pipelines.demo.last_used import last_used
from pipelines.demo.readme import render_readme
from pipelines.demo.reference import extract_aws_managed
from pipelines.demo.scenarios import TABLES
from pipelines.demo.snapshot_iam import authorization_details
from pipelines.demo.snapshot_inventory import describe_instances, list_functions, organization_files
from pipelines.demo.trail import build_trail, check_consistency, trail_files


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=4) + "\n").encode()


def demo_files() -> dict[str, bytes]:
    """Every file of the demo tree, relative path -> bytes (deterministic)."""
    events = build_trail(TABLES)
    used_before = last_used(events)
    files: dict[str, bytes] = {}
    for snapshot in SNAPSHOT_DATES:
        root = f"snapshots/{snapshot.isoformat()}"
        for account in ACCOUNT_NAMES:
            base = f"{root}/{account}"
            files[f"{base}/iam/get-account-authorization-details.json"] = _json(
                authorization_details(account, snapshot, used_before)
            )
            files[f"{base}/iam/credential-report.csv"] = credential_report(
                account, used_before
            ).encode()
            for region in REGIONS:
                files[f"{base}/{region}/ec2/describe-instances.json"] = _json(
                    describe_instances(account, region)
                )
                files[f"{base}/{region}/lambda/list-functions.json"] = _json(
                    list_functions(account, region, snapshot)
                )
            for bucket, policy in sorted(TABLES.bucket_policies[account].items()):
                files[f"{base}/s3/bucket-policies/{bucket}.json"] = _json(policy)
        for name, content in organization_files().items():
            files[f"{root}/organization/{name}"] = _json(content)
    file_rng = random.Random(SEED + 1)  # noqa: S311 - reproducible fake file names
    silent = silent_folders()  # a region's trail delivered nothing on some days (coverage.py)
    for path, content in trail_files(events, file_rng):
        if not any(path.startswith(folder) for folder in silent):
            files[f"cloudtrail/{path}"] = content
    check_consistency(TABLES, events)
    trail = delivered(events)
    expectations = expected_detections(trail, used_before)
    check_expectations(expectations)
    files["expected_detections.csv"] = _detections_csv(expectations.detections)
    files["README.md"] = render_readme(expectations, trail, files).encode()
    return files


def _detections_csv(detections: list[Detection]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["as_of", "rule_id", "resource_arn"])
    for d in detections:
        writer.writerow([d.as_of.isoformat(), d.rule_id, d.resource_arn])
    return buffer.getvalue().encode()


def generate(out_dir: Path) -> None:
    """Write the demo tree under out_dir (snapshots/ and cloudtrail/ are replaced wholesale)."""
    files = demo_files()
    for sub in ("snapshots", "cloudtrail"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.demo",
        description="Write the embedded demo AWS organization (deterministic) to a directory.",
    )
    parser.add_argument("out_dir", nargs="?", type=Path, help="where to write the demo tree")
    parser.add_argument(
        "--extract-aws-managed",
        type=Path,
        metavar="AUTHZ_JSON",
        help="refresh data/reference/aws-managed-policies.json from a cloudsplaining GAAD file",
    )
    args = parser.parse_args(argv)
    if args.extract_aws_managed:
        extract_aws_managed(args.extract_aws_managed)
    if args.out_dir:
        generate(args.out_dir)
    elif not args.extract_aws_managed:
        parser.error("give an output directory (e.g. data/demo)")
