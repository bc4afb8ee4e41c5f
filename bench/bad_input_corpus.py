"""Bad-input corpus (issue 18, "What it must show"): one damage per case, run end to end.

    .venv/bin/python bench/bad_input_corpus.py [--jobs 2] [--only ID ...] [--heavy] [--keep]

1. A clean baseline: `ciem run` on the demo as of 2026-11-19 into a lake ("a good run happened
   yesterday"); every case starts from a copy of that lake. The reference is a clean run as of
   2026-11-20 on an untouched copy of the inputs, from the same lake.
2. Each case changes ONE thing in a copy of the demo's 2026-11-20 snapshot (authorization
   details, credential report, compute, SCPs and organization files, S3 bucket and
   KMS/Lambda/SQS/SNS/Secrets Manager resource policies) or of its CloudTrail folder (one file
   changed or added), or writes a valid AWS variant that must be evaluated as the original.
3. `ciem run --as-of 2026-11-20` per case (subprocess), then every result table is compared
   with the reference as whole sets of rows. Rows that mention the case's touched scope (the
   account, principal, policy, resource or file it damaged, plus every account the run flags
   incomplete) may differ; nothing else may. Outcomes:
   - `evaluated right`: a valid variant gives the reference's results (or the changes it states,
     inside its scope) and quarantines nothing;
   - `quarantined, rest intact`: the damaged file is in `quarantine`, the accounts it must make
     incomplete are flagged, nothing outside the scope changed, nothing was newly resolved;
   - `silently wrong`: anything else (a change outside the scope, a resolved detection, a
     missing quarantine entry, a valid input refused);
   - `whole-run failure`: non-zero exit code.
4. Prints a Markdown table of outcomes and a summary, and writes it to
   bench/results/bad_input_corpus.md.

Case generators (`CASES`, `Case.apply`) are importable without running anything:
tests/faults/test_bad_input_corpus.py checks the corpus cannot shrink.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SNAPSHOT = DEMO / "snapshots" / "2026-11-20"
PREVIOUS_SNAPSHOT = DEMO / "snapshots" / "2026-11-19"
CLOUDTRAIL = DEMO / "cloudtrail"
AS_OF, PREVIOUS_AS_OF = "2026-11-20", "2026-11-19"
RESULTS = ROOT / "bench" / "results" / "bad_input_corpus.md"
CIEM = ROOT / ".venv" / "bin" / "ciem"

MGMT, PROD, DEV = "111111111111", "222222222222", "333333333333"
GAAD = "iam/get-account-authorization-details.json"
CRED = "iam/credential-report.csv"
SCP_DENY = "organization/policies/p-denyguardrails.json"
SCP_FULL = "organization/policies/p-FullAWSAccess.json"
BUCKET = f"{DEV}/s3/bucket-policies/ciem-demo-dev-artifacts.json"
BUCKET_ARN = "arn:aws:s3:::ciem-demo-dev-artifacts"
PUBLIC_BUCKET = f"{PROD}/s3/bucket-policies/ciem-demo-prod-public-assets.json"
TRAIL_DIR = "AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/eu-west-1/2026/11"
# A delivery file the 2026-11-19 run landed, and one only the 2026-11-20 run lands.
# (Found by its delivery time: the random part of the name changes when the demo is regenerated.)
CT_LANDED = next(
    path.relative_to(CLOUDTRAIL).as_posix()
    for path in sorted((CLOUDTRAIL / TRAIL_DIR / "19").glob("*_20261119T0719Z_*.json.gz"))
)
CT_NEW_DAY = f"{TRAIL_DIR}/20"
# A delivery file only the 2026-11-20 run lands: format variants under a new name rewrite this
# one (the same rewrite of CT_LANDED would redeliver events the 2026-11-19 run already landed,
# which is a duplicate, named as such, not a format question).
CT_NEW = next(
    path.relative_to(CLOUDTRAIL).as_posix()
    for path in sorted((CLOUDTRAIL / CT_NEW_DAY).glob("*_20261120T*.json.gz"))
)
JUNK = "this is not JSON {"

Edit = Callable[[Path, Path], Path]  # (snapshot copy, cloudtrail copy) -> the path it changed


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # snapshot | scp | resource-policy | cloudtrail | valid-variant
    damage: str
    apply: Edit
    # same: results identical to the reference, nothing quarantined
    # scoped: nothing quarantined, changes only in rows mentioning `scope` (stated per case)
    # quarantine: `file` quarantined, `incomplete` flagged, nothing outside `scope` changed
    # either: scoped or quarantine (AWS or the README leave both readings open)
    expect: str
    file: str | None = None  # the quarantine entry's file (relative to its input folder)
    scope: tuple[str, ...] = ()  # strings that put a result row in the touched scope
    incomplete: tuple[str, ...] = ()  # accounts that must be flagged incomplete
    cloudtrail: bool = False  # the case edits the CloudTrail copy
    heavy: bool = False  # only with --heavy


# ---------------------------------------------------------------------------------------------
# editing helpers


def _deep(depth: int) -> str:
    return '{"a": ' * depth + '"x"' + "}" * depth


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=1))


def gaad(account: str, edit: Callable[[dict[str, Any]], None]) -> Edit:
    """Edit one account's authorization details as JSON."""

    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / account / GAAD
        doc = _read_json(path)
        edit(doc)
        _write_json(path, doc)
        return path

    return apply


def gaad_then_text(
    account: str, edit: Callable[[dict[str, Any]], None], old: bytes, new: bytes
) -> Edit:
    """Edit as JSON (placing a marker), then replace the marker's bytes (NaN, Latin-1, depth)."""

    def apply(snapshot: Path, trail: Path) -> Path:
        path = gaad(account, edit)(snapshot, trail)
        data = path.read_bytes()
        assert old in data, old
        path.write_bytes(data.replace(old, new))
        return path

    return apply


def write_text(relative: str, text: str | bytes) -> Edit:
    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    return apply


def truncate(relative: str, keep: float = 0.5) -> Edit:
    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / relative
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return apply


def unreadable(relative: str, how: str) -> Edit:
    """A folder, a symlink loop or a dangling symlink in place of a file."""

    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / relative
        path.unlink()
        if how == "folder":
            path.mkdir()
        elif how == "loop":
            path.symlink_to(path.name)
        else:
            path.symlink_to("nowhere.json")
        return path

    return apply


def json_file(relative: str, edit: Callable[[Any], Any]) -> Edit:
    """Edit a snapshot JSON file; `edit` returns the new document (or None to keep it)."""

    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / relative
        doc = _read_json(path)
        new = edit(doc)
        _write_json(path, doc if new is None else new)
        return path

    return apply


def text_replace(relative: str, old: str, new: str) -> Edit:
    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))
        return path

    return apply


def scp(relative: str, edit: Callable[[dict[str, Any]], Any]) -> Edit:
    """Edit the content of an SCP (a JSON string inside describe-policy's output)."""

    def outer(doc: dict[str, Any]) -> None:
        content = json.loads(doc["Policy"]["Content"])
        new = edit(content)
        doc["Policy"]["Content"] = new if isinstance(new, str) else json.dumps(content)

    return json_file(relative, outer)


def scp_content(relative: str, content: Any) -> Edit:
    def outer(doc: dict[str, Any]) -> None:
        doc["Policy"]["Content"] = content

    return json_file(relative, outer)


# authorization-details paths (account 333333333333 unless named)
def managed(doc: dict[str, Any], index: int = 2) -> dict[str, Any]:
    """Policies[2] is DevGuardrails (one Deny statement); [3] LegacyBackupPolicy (one Allow)."""
    return doc["Policies"][index]["PolicyVersionList"][0]["Document"]


def _named(items: list[dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    """The entry called `name` (by name: the demo's lists grow)."""
    return next(item for item in items if item[key] == name)


def user_inline(doc: dict[str, Any]) -> dict[str, Any]:
    user = _named(doc["UserDetailList"], "UserName", "sandbox-owner")
    return user["UserPolicyList"][0]["PolicyDocument"]


def role_inline(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["RoleDetailList"][3]["RolePolicyList"][0]["PolicyDocument"]  # OrgAccountAccessRole


def group_inline(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["GroupDetailList"][0]["GroupPolicyList"][0]["PolicyDocument"]  # Developers


def trust(doc: dict[str, Any], index: int | None = None) -> dict[str, Any]:
    """A role's trust policy: RoleDetailList[index], by default dev-ec2-role's."""
    roles = doc["RoleDetailList"]
    role = _named(roles, "RoleName", "dev-ec2-role") if index is None else roles[index]
    return role["AssumeRolePolicyDocument"]


def statement0(document: dict[str, Any]) -> dict[str, Any]:
    return document["Statement"][0]


def set_first(getter: Callable[[dict[str, Any]], dict[str, Any]], **values: Any) -> Callable:
    return lambda doc: statement0(getter(doc)).update(values)


def rename_key(getter: Callable, old: str, new: str) -> Callable:
    def edit(doc: dict[str, Any]) -> None:
        st = statement0(getter(doc))
        st[new] = st.pop(old)

    return edit


def resource_policy(service: str, folder: str, name: str, text: str | bytes) -> Edit:
    """A KMS / Lambda / SQS / SNS / Secrets Manager policy file added to the dev account."""
    return write_text(f"{DEV}/eu-west-1/{service}/{folder}/{name}.json", text)


def resource_folder(service: str, folder: str, name: str) -> Edit:
    def apply(snapshot: Path, _trail: Path) -> Path:
        path = snapshot / DEV / "eu-west-1" / service / folder / f"{name}.json"
        path.mkdir(parents=True)
        return path

    return apply


VALID_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnableRootPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _policy_with(**first: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID_KEY_POLICY)
    doc["Statement"][0].update(first)
    return doc


# CloudTrail helpers -------------------------------------------------------------------------


def _records(path: Path) -> list[dict[str, Any]]:
    return json.loads(gzip.decompress(path.read_bytes()))["Records"]


def _template(trail: Path) -> dict[str, Any]:
    return copy.deepcopy(_records(trail / CT_LANDED)[0])


def _new_file(trail: Path, stamp: str, tag: str, suffix: str = ".json.gz") -> Path:
    folder = trail / CT_NEW_DAY
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{DEV}_CloudTrail_eu-west-1_20261120T{stamp}Z_{tag:0<16}{suffix}"


def ct_added(
    tag: str,
    records: Callable[[dict[str, Any]], list[Any]],
    post: Callable[[str], bytes] | None = None,
) -> Edit:
    """A delivery file added on 2026-11-20 holding records built from a real event."""

    def apply(_snapshot: Path, trail: Path) -> Path:
        base = _template(trail)
        text = json.dumps({"Records": records(base)})
        data = post(text) if post else gzip.compress(text.encode())
        path = _new_file(trail, "2355", tag)
        path.write_bytes(data)
        return path

    return apply


def ct_event(base: dict[str, Any], event_id: str, **changes: Any) -> dict[str, Any]:
    event = {**copy.deepcopy(base), "eventID": event_id}
    event.update(changes)
    return event


def ct_replace(
    transform: Callable[[bytes], bytes], new_name: str | None = None, source: str | None = None
) -> Edit:
    """The landed delivery file (or `source`) rewritten (optionally under a new name)."""

    def apply(_snapshot: Path, trail: Path) -> Path:
        path = trail / (source or CT_LANDED)
        data = transform(path.read_bytes())
        target = path.with_name(new_name) if new_name else path
        if new_name:
            path.unlink()
        target.write_bytes(data)
        return target

    return apply


def _records_bytes(data: bytes) -> list[dict[str, Any]]:
    return json.loads(gzip.decompress(data))["Records"]


def ct_add_raw(tag: str, data: Callable[[Path], bytes], suffix: str = ".json.gz") -> Edit:
    def apply(_snapshot: Path, trail: Path) -> Path:
        path = _new_file(trail, "2356", tag, suffix)
        path.write_bytes(data(trail))
        return path

    return apply


def ct_same_file_twice(_snapshot: Path, trail: Path) -> Path:
    source = sorted((trail / CT_NEW_DAY).glob("*.json.gz"))[0]
    target = _new_file(trail, "2359", "samefileagain")
    shutil.copy(source, target)
    return target


def ct_redelivered(_snapshot: Path, trail: Path) -> Path:
    record = _records(trail / CT_LANDED)[-1]
    target = _new_file(trail, "0005", "redelivered")
    target.write_bytes(gzip.compress(json.dumps({"Records": [record]}).encode()))
    return target


def ct_unreadable(how: str) -> Edit:
    def apply(_snapshot: Path, trail: Path) -> Path:
        path = _new_file(trail, "2357", f"unreadable{how}")
        if how == "folder":
            path.mkdir()
        else:
            path.symlink_to(path.name)
        return path

    return apply


def _strip_suffix(data: bytes) -> bytes:
    records = _records_bytes(data)
    for r in records:
        name = r["eventName"]
        if r["eventSource"] == "lambda.amazonaws.com":
            r["eventName"] = name.rstrip("v0123456789")
    return gzip.compress(json.dumps({"Records": records}).encode())


def _export_lines(data: bytes, wrap: bool = False, timestamp: bool = False) -> bytes:
    lines = []
    for r in _records_bytes(data):
        if timestamp:
            r = dict(r)
            r["@timestamp"] = r.pop("eventTime")
        lines.append(json.dumps({"event": r} if wrap else r))
    return ("\n".join(lines) + "\n").encode()


def _bomb(_trail: Path) -> bytes:
    """~400 MB of JSON whitespace inside one record, a few hundred KB compressed."""
    compressor = gzip.GzipFile
    import io

    buffer = io.BytesIO()
    with compressor(fileobj=buffer, mode="wb", compresslevel=9) as out:
        out.write(b'{"Records": [{"eventVersion": "1.08", "pad": "')
        chunk = b" " * (1 << 20)
        for _ in range(400):
            out.write(chunk)
        out.write(b'"}]}')
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# the corpus


def _cases() -> list[Case]:
    cases: list[Case] = []

    def add(*args: Any, **kwargs: Any) -> None:
        cases.append(Case(*args, **kwargs))

    dev_gaad, prod_gaad, mgmt_gaad = f"{DEV}/{GAAD}", f"{PROD}/{GAAD}", f"{MGMT}/{GAAD}"
    q_dev = {"expect": "quarantine", "file": dev_gaad, "scope": (DEV,), "incomplete": (DEV,)}

    # --- snapshot: whole authorization-details files ------------------------------------------
    add(
        "gaad-junk",
        "snapshot",
        f"{PROD} authorization details replaced by junk",
        write_text(prod_gaad, JUNK),
        "quarantine",
        prod_gaad,
        (PROD,),
        (PROD,),
    )
    add(
        "gaad-truncated",
        "snapshot",
        "authorization details cut in half (truncated JSON)",
        truncate(dev_gaad),
        **q_dev,
    )
    add(
        "gaad-empty",
        "snapshot",
        f"{MGMT} authorization details an empty file",
        write_text(mgmt_gaad, ""),
        "quarantine",
        mgmt_gaad,
        (MGMT,),
        (MGMT,),
    )
    add(
        "gaad-top-level-array",
        "snapshot",
        "authorization details a JSON array, not an object",
        write_text(dev_gaad, "[]"),
        **q_dev,
    )
    add(
        "gaad-list-is-string",
        "snapshot",
        "UserDetailList is a string (wrong type)",
        gaad(DEV, lambda d: d.update(UserDetailList="oops")),
        **q_dev,
    )
    add(
        "gaad-folder",
        "snapshot",
        "a directory in place of authorization details",
        unreadable(dev_gaad, "folder"),
        **q_dev,
    )
    add(
        "gaad-symlink-loop",
        "snapshot",
        "a symlink loop in place of authorization details",
        unreadable(dev_gaad, "loop"),
        **q_dev,
    )
    add(
        "gaad-dangling-symlink",
        "snapshot",
        "a dangling symlink in place of authorization details",
        unreadable(prod_gaad, "dangling"),
        "quarantine",
        prod_gaad,
        (PROD,),
        (PROD,),
    )

    # --- snapshot: policy grammar (managed policy DevGuardrails, a Deny) ------------------------
    grammar: list[tuple[str, str, Callable]] = [
        ("effect-allw", '"Effect": "Allw"', set_first(managed, Effect="Allw")),
        ("statement-missing", "no Statement", lambda d: managed(d).pop("Statement")),
        ("statement-string", '"Statement": "oops"', lambda d: managed(d).update(Statement="oops")),
        ("action-number", '"Action": 42', set_first(managed, Action=42)),
        ("effect-lowercase-key", 'lowercase "effect" key', rename_key(managed, "Effect", "effect")),
        ("resource-null", '"Resource": null', set_first(managed, Resource=None)),
        (
            "object-in-action-list",
            "an object inside the Action list",
            set_first(managed, Action=["s3:GetObject", {"x": 1}]),
        ),
        (
            "condition-not-object",
            '"Condition": {"StringEquals": "oops"}',
            set_first(managed, Condition={"StringEquals": "oops"}),
        ),
        (
            "resource-aws-mars",
            "Resource in unknown partition aws-mars",
            set_first(managed, Resource="arn:aws-mars:s3:::bucket/*"),
        ),
        (
            "version-2012-10-18",
            '"Version": "2012-10-18" (no such version)',
            lambda d: managed(d).update(Version="2012-10-18"),
        ),
        (
            "action-without-service",
            '"Action": "GetObject" (no service prefix)',
            set_first(managed, Action="GetObject"),
        ),
        ("empty-action-list", '"Action": []', set_first(managed, Action=[])),
        (
            "action-and-notaction",
            "both Action and NotAction in one statement",
            set_first(managed, NotAction="s3:GetObject"),
        ),
        (
            "principal-in-identity",
            "a Principal in an identity policy",
            set_first(managed, Principal="*"),
        ),
        ("sid-number", '"Sid": 7 (not a string)', set_first(managed, Sid=7)),
    ]
    for name, what, edit in grammar:
        add(
            f"managed-{name}",
            "snapshot",
            f"managed policy DevGuardrails: {what}",
            gaad(DEV, edit),
            **q_dev,
        )
    add(
        "managed-condition-deep",
        "snapshot",
        "managed policy Condition nested 100,000 deep",
        gaad_then_text(
            DEV,
            set_first(managed, Condition={"StringEquals": {"k": "DEEP"}}),
            b'"DEEP"',
            _deep(100_000).encode(),
        ),
        **q_dev,
    )
    add(
        "managed-document-undecodable",
        "snapshot",
        "managed policy Document a URL-encoded string that is not JSON",
        gaad(
            DEV,
            lambda d: d["Policies"][3]["PolicyVersionList"][0].update(
                Document="%7B%22Version%22%3A%20oops"
            ),
        ),
        **q_dev,
    )
    add(
        "user-inline-effect-allw",
        "snapshot",
        'user inline policy: "Effect": "Allw"',
        gaad(DEV, set_first(user_inline, Effect="Allw")),
        **q_dev,
    )
    add(
        "user-inline-resource-null",
        "snapshot",
        'user inline policy: "Resource": null',
        gaad(DEV, set_first(user_inline, Resource=None)),
        **q_dev,
    )
    add(
        "user-inline-effect-lowercase",
        "snapshot",
        'user inline policy: lowercase "effect"',
        gaad(DEV, rename_key(user_inline, "Effect", "effect")),
        **q_dev,
    )
    add(
        "role-inline-action-number",
        "snapshot",
        'role inline policy: "Action": 42',
        gaad(DEV, set_first(role_inline, Action=42)),
        **q_dev,
    )
    add(
        "group-inline-effect-allw",
        "snapshot",
        'group inline policy: "Effect": "Allw"',
        gaad(DEV, set_first(group_inline, Effect="Allw")),
        **q_dev,
    )
    add(
        "trust-principal-lowercase",
        "snapshot",
        'trust policy: Principal {"service": …}',
        gaad(DEV, set_first(trust, Principal={"service": "ec2.amazonaws.com"})),
        **q_dev,
    )
    add(
        "trust-no-principal",
        "snapshot",
        "trust policy statement without Principal",
        gaad(DEV, lambda d: statement0(trust(d)).pop("Principal")),
        **q_dev,
    )
    add(
        "trust-condition-deep",
        "snapshot",
        f"{MGMT} trust policy Condition nested 100,000 deep",
        gaad_then_text(
            MGMT,
            set_first(lambda d: trust(d, 0), Condition={"StringEquals": {"SAML:aud": "DEEP"}}),
            b'"DEEP"',
            _deep(100_000).encode(),
        ),
        "quarantine",
        mgmt_gaad,
        (MGMT,),
        (MGMT,),
    )
    add(
        "boundary-effect-allw",
        "snapshot",
        'permission boundary S3CloudWatchBoundary: "Allw"',
        gaad(PROD, lambda d: statement0(managed(d, 2)).update(Effect="Allw")),
        "quarantine",
        prod_gaad,
        (PROD,),
        (PROD,),
    )

    # --- snapshot: records and values ---------------------------------------------------------
    def dup_user(d: dict[str, Any]) -> None:
        d["UserDetailList"].append(copy.deepcopy(d["UserDetailList"][3]))

    def dup_role(d: dict[str, Any]) -> None:
        d["RoleDetailList"].append(copy.deepcopy(d["RoleDetailList"][6]))

    def dup_changed(d: dict[str, Any]) -> None:
        changed = copy.deepcopy(d["UserDetailList"][6])
        changed["UserPolicyList"] = []
        d["UserDetailList"].append(changed)

    add(
        "user-duplicated",
        "snapshot",
        "a user record repeated identically (pages merged twice)",
        gaad(DEV, dup_user),
        "same",
    )
    add(
        "role-duplicated",
        "snapshot",
        "a role record repeated identically",
        gaad(DEV, dup_role),
        "same",
    )
    add(
        "user-duplicated-different",
        "snapshot",
        "a user repeated with different content",
        gaad(DEV, dup_changed),
        **q_dev,
    )
    add(
        "tag-latin1",
        "snapshot",
        "a Latin-1 byte (0xE9) in a user tag",
        gaad_then_text(
            DEV,
            lambda d: d["UserDetailList"][1].update(
                Tags=[{"Key": "owner", "Value": "PLACEHOLDER"}]
            ),
            b"PLACEHOLDER",
            b"Ren\xe9e",
        ),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "max-session-nan",
        "snapshot",
        "NaN MaxSessionDuration on a role",
        gaad_then_text(
            DEV,
            lambda d: d["RoleDetailList"][5].update(MaxSessionDuration=-1),
            b'"MaxSessionDuration": -1',
            b'"MaxSessionDuration": NaN',
        ),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "max-session-string",
        "snapshot",
        'MaxSessionDuration "3600" (a string)',
        gaad(DEV, lambda d: d["RoleDetailList"][5].update(MaxSessionDuration="3600")),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "create-date-number",
        "snapshot",
        "a user's CreateDate a number",
        gaad(DEV, lambda d: d["UserDetailList"][2].update(CreateDate=12345)),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "user-arn-null",
        "snapshot",
        "a user's Arn null (required value)",
        gaad(DEV, lambda d: d["UserDetailList"][2].update(Arn=None)),
        **q_dev,
    )
    add(
        "user-arn-aws-mars",
        "snapshot",
        "a user's Arn in partition aws-mars",
        gaad(
            DEV,
            lambda d: d["UserDetailList"][4].update(
                Arn=d["UserDetailList"][4]["Arn"].replace("arn:aws:", "arn:aws-mars:")
            ),
        ),
        **q_dev,
    )
    add(
        "tags-string",
        "snapshot",
        'a user\'s Tags "oops" (wrong type)',
        gaad(DEV, lambda d: d["UserDetailList"][0].update(Tags="oops")),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "tags-deep",
        "snapshot",
        "a user's Tags nested 5,000 deep",
        gaad_then_text(
            DEV,
            lambda d: d["UserDetailList"][0].update(Tags="DEEP"),
            b'"DEEP"',
            ("[" + _deep(5_000) + "]").encode(),
        ),
        "quarantine",
        dev_gaad,
        (DEV,),
    )
    add(
        "attached-policy-missing",
        "snapshot",
        "a user attached to a policy absent from Policies",
        gaad(
            DEV,
            lambda d: _named(d["UserDetailList"], "UserName", "legacy-backup")[
                "AttachedManagedPolicies"
            ].__setitem__(
                0, {"PolicyName": "Ghost", "PolicyArn": f"arn:aws:iam::{DEV}:policy/Ghost"}
            ),
        ),
        "either",
        dev_gaad,
        (DEV,),
    )

    # credential report, compute
    dev_cred, dev_ec2 = f"{DEV}/{CRED}", f"{DEV}/eu-west-1/ec2/describe-instances.json"
    dev_lambda = f"{DEV}/eu-west-1/lambda/list-functions.json"
    add(
        "credreport-binary",
        "snapshot",
        "credential report replaced by binary junk",
        write_text(dev_cred, bytes(range(256)) * 4),
        "quarantine",
        dev_cred,
        (DEV,),
        (DEV,),
    )
    add(
        "credreport-short-line",
        "snapshot",
        "a credential-report line with columns missing",
        lambda s, t: _credreport_edit(
            s, lambda lines: lines.__setitem__(2, ",".join(lines[2].split(",")[:5]))
        ),
        "quarantine",
        dev_cred,
        (DEV,),
    )
    add(
        "credreport-latin1",
        "snapshot",
        "a Latin-1 byte in the credential report",
        lambda s, t: _credreport_bytes(s),
        "quarantine",
        dev_cred,
        (DEV,),
    )
    add(
        "credreport-bad-date",
        "snapshot",
        "credential report password_last_used 'yesterday'",
        lambda s, t: _credreport_edit(s, _bad_date),
        "quarantine",
        dev_cred,
        (DEV,),
    )
    add(
        "ec2-junk",
        "snapshot",
        "describe-instances replaced by junk",
        write_text(dev_ec2, JUNK),
        "quarantine",
        dev_ec2,
        (DEV,),
        (DEV,),
    )
    add(
        "ec2-profile-number",
        "snapshot",
        "an instance's IamInstanceProfile a number",
        json_file(dev_ec2, _ec2_profile_number),
        "quarantine",
        dev_ec2,
        (DEV,),
    )
    add(
        "lambda-truncated",
        "snapshot",
        "list-functions truncated",
        truncate(dev_lambda),
        "quarantine",
        dev_lambda,
        (DEV,),
        (DEV,),
    )
    add(
        "lambda-role-aws-mars",
        "snapshot",
        "a function's Role ARN in partition aws-mars",
        json_file(dev_lambda, _lambda_role_mars),
        "quarantine",
        dev_lambda,
        (DEV,),
    )

    # --- SCPs and organization files ---------------------------------------------------------
    members = (PROD, DEV)
    q_scp = {"expect": "quarantine", "scope": (*members, "p-denyguardrails"), "incomplete": members}
    add(
        "scp-deny-junk",
        "scp",
        "Deny SCP file replaced by junk",
        write_text(SCP_DENY, JUNK),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-full-junk",
        "scp",
        "FullAWSAccess SCP file replaced by junk",
        write_text(SCP_FULL, JUNK),
        "quarantine",
        SCP_FULL,
        (*members, "p-FullAWSAccess"),
        members,
    )
    add(
        "scp-effect-lowercase",
        "scp",
        'Deny SCP: "Effect": "deny"',
        scp(SCP_DENY, lambda c: statement0(c).update(Effect="deny")),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-content-truncated",
        "scp",
        "Deny SCP Content truncated JSON",
        scp_content(SCP_DENY, '{"Version": "2012-10-17", "Statement": [{"Effect": "De'),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-content-deep",
        "scp",
        "Deny SCP Content nested 50,000 deep",
        scp_content(SCP_DENY, '{"Statement": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-principal",
        "scp",
        "Deny SCP with a Principal (SCPs have none)",
        scp(SCP_DENY, lambda c: statement0(c).update(Principal="*")),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-content-number",
        "scp",
        "Deny SCP Content a number",
        scp_content(SCP_DENY, 42),
        file=SCP_DENY,
        **q_scp,
    )
    add(
        "scp-full-effect-allw",
        "scp",
        'FullAWSAccess: "Effect": "Allw"',
        scp(SCP_FULL, lambda c: statement0(c).update(Effect="Allw")),
        "quarantine",
        SCP_FULL,
        (*members, "p-FullAWSAccess"),
        members,
    )
    add(
        "scp-folder",
        "scp",
        "a directory in place of the Deny SCP",
        unreadable(SCP_DENY, "folder"),
        file=SCP_DENY,
        **q_scp,
    )
    targets = "organization/targets/p-denyguardrails.json"
    add(
        "scp-targets-junk",
        "scp",
        "the Deny SCP's targets file replaced by junk",
        write_text(targets, JUNK),
        file=targets,
        **q_scp,
    )
    add(
        "scp-targets-loop",
        "scp",
        "a symlink loop in place of the Deny SCP's targets",
        unreadable(targets, "loop"),
        file=targets,
        **q_scp,
    )
    parents = f"organization/parents/{PROD}.json"
    add(
        "org-parents-junk",
        "scp",
        f"organization/parents/{PROD}.json replaced by junk",
        write_text(parents, JUNK),
        "quarantine",
        parents,
        (PROD,),
        (PROD,),
    )
    accounts = "organization/list-accounts.json"
    add(
        "org-accounts-truncated",
        "scp",
        "list-accounts truncated",
        truncate(accounts),
        "quarantine",
        accounts,
        (PROD, DEV),
        # Which accounts are in the organization is unknown: every account's trust and
        # resource-policy rules depend on it, the management account's included.
        (MGMT, PROD, DEV),
    )

    # --- resource policies -------------------------------------------------------------------
    q_bucket = {
        "expect": "quarantine",
        "file": BUCKET,
        "scope": (DEV, BUCKET_ARN),
        "incomplete": (DEV,),
    }
    add(
        "bucket-junk",
        "resource-policy",
        "S3 bucket policy replaced by junk",
        write_text(BUCKET, JUNK),
        **q_bucket,
    )
    add(
        "bucket-effect-allw",
        "resource-policy",
        'S3 bucket policy: "Effect": "Allw"',
        json_file(BUCKET, lambda d: statement0(d).update(Effect="Allw")),
        **q_bucket,
    )
    add(
        "bucket-no-principal",
        "resource-policy",
        "S3 bucket policy statement without Principal",
        json_file(BUCKET, lambda d: statement0(d).pop("Principal")),
        **q_bucket,
    )
    add(
        "bucket-principal-lowercase",
        "resource-policy",
        'S3 bucket policy Principal {"aws": …}',
        json_file(
            BUCKET,
            lambda d: d["Statement"][1].update(
                Principal={"aws": d["Statement"][1]["Principal"]["AWS"]}
            ),
        ),
        **q_bucket,
    )
    add(
        "bucket-condition-deep",
        "resource-policy",
        "S3 bucket policy Condition 100,000 deep",
        lambda s, t: _bucket_deep(s),
        **q_bucket,
    )
    add(
        "bucket-folder",
        "resource-policy",
        "a directory in place of a bucket policy",
        unreadable(BUCKET, "folder"),
        **q_bucket,
    )
    add(
        "bucket-resource-null",
        "resource-policy",
        'S3 bucket policy "Resource": null',
        json_file(BUCKET, lambda d: d["Statement"][1].update(Resource=None)),
        **q_bucket,
    )

    def q_res(service: str, folder: str, name: str) -> dict[str, Any]:
        return {
            "expect": "quarantine",
            "file": f"{DEV}/eu-west-1/{service}/{folder}/{name}.json",
            "scope": (DEV, name),
            "incomplete": (DEV,),
        }

    add(
        "kms-junk",
        "resource-policy",
        "a KMS key policy file of junk",
        resource_policy("kms", "key-policies", "bench-key", JUNK),
        **q_res("kms", "key-policies", "bench-key"),
    )
    add(
        "kms-effect-allw",
        "resource-policy",
        'a KMS key policy with "Effect": "Allw"',
        resource_policy(
            "kms", "key-policies", "bench-key", json.dumps(_policy_with(Effect="Allw"))
        ),
        **q_res("kms", "key-policies", "bench-key"),
    )
    add(
        "kms-folder",
        "resource-policy",
        "a directory in place of a KMS key policy",
        resource_folder("kms", "key-policies", "bench-key"),
        **q_res("kms", "key-policies", "bench-key"),
    )
    add(
        "lambda-policy-truncated",
        "resource-policy",
        'a Lambda function policy {"Policy": "<truncated JSON>"}',
        resource_policy(
            "lambda",
            "function-policies",
            "bench-fn",
            json.dumps({"Policy": json.dumps(VALID_KEY_POLICY)[:40]}),
        ),
        **q_res("lambda", "function-policies", "bench-fn"),
    )
    add(
        "sqs-resource-null",
        "resource-policy",
        'an SQS queue policy (get-queue-attributes) with "Resource": null',
        resource_policy(
            "sqs",
            "queue-policies",
            "bench-queue",
            json.dumps({"Attributes": {"Policy": json.dumps(_policy_with(Resource=None))}}),
        ),
        **q_res("sqs", "queue-policies", "bench-queue"),
    )
    add(
        "sns-principal-aws-mars",
        "resource-policy",
        "an SNS topic policy Principal in aws-mars",
        resource_policy(
            "sns",
            "topic-policies",
            "bench-topic",
            json.dumps(_policy_with(Principal={"AWS": "arn:aws-mars:iam::123456789012:root"})),
        ),
        **q_res("sns", "topic-policies", "bench-topic"),
    )
    add(
        "secret-condition-deep",
        "resource-policy",
        "a Secrets Manager policy Condition nested 100,000 deep",
        resource_policy(
            "secretsmanager",
            "secret-policies",
            "bench-secret",
            json.dumps(_policy_with(Condition={"StringEquals": {"k": "DEEP"}})).replace(
                '"DEEP"', _deep(100_000)
            ),
        ),
        **q_res("secretsmanager", "secret-policies", "bench-secret"),
    )
    add(
        "secret-not-utf8",
        "resource-policy",
        "a Secrets Manager policy with a 0xFF byte",
        resource_policy(
            "secretsmanager",
            "secret-policies",
            "bench-secret",
            json.dumps(_policy_with(Sid="PLACE")).encode().replace(b"PLACE", b"\xff"),
        ),
        **q_res("secretsmanager", "secret-policies", "bench-secret"),
    )

    # --- CloudTrail --------------------------------------------------------------------------
    ct_scope = (DEV,)
    add(
        "ct-truncated-gzip",
        "cloudtrail",
        "a landed delivery file truncated (corrupt gzip)",
        ct_replace(lambda b: b[: len(b) // 2]),
        "quarantine",
        CT_LANDED,
        ct_scope,
        cloudtrail=True,
    )
    add(
        "ct-not-utf8",
        "cloudtrail",
        "a 0xFF byte inside a .gz record (added file)",
        ct_added(
            "notutf8",
            lambda b: [ct_event(b, "bench-not-utf8", userAgent="@@FF@@")],
            lambda text: gzip.compress(text.encode().replace(b"@@FF@@", b"curl/\xff\xfe")),
        ),
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2355Z_notutf8000000000.json.gz",
        ct_scope,
        cloudtrail=True,
    )
    deep_file = f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2355Z_deep000000000000.json.gz"
    add(
        "ct-request-deep",
        "cloudtrail",
        "requestParameters nested 100,000 deep (added file)",
        ct_added(
            "deep",
            lambda b: [ct_event(b, "bench-deep", requestParameters="@@DEEP@@")],
            lambda text: gzip.compress(
                text.replace('"@@DEEP@@"', "[" * 100_000 + "]" * 100_000).encode()
            ),
        ),
        "quarantine",
        deep_file,
        ct_scope,
        cloudtrail=True,
    )
    add(
        "ct-same-file-twice",
        "cloudtrail",
        "the same delivery file under a second name",
        ct_same_file_twice,
        # Counted once: either nothing changes but the manifest row of the copy, or the copy's
        # records are quarantined as repeats; usage and detections are the reference's.
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2359Z_samefileagain000.json.gz",
        cloudtrail=True,
        scope=("samefileagain",),
    )
    add(
        "ct-eventid-redelivered",
        "cloudtrail",
        "an eventID redelivered in another file",
        ct_redelivered,
        "either",  # counted once; the new file's manifest row is the only change allowed
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T0005Z_redelivered00000.json.gz",
        cloudtrail=True,
        scope=("redelivered",),
    )
    for year, stamp in (
        ("2031", "2031-11-20T09:00:00Z"),
        ("2014", "2014-11-20T09:00:00Z"),
        ("2010", "2010-01-01T00:00:00Z"),
    ):
        add(
            f"ct-event-{year}",
            "cloudtrail",
            f"an event dated {year} in a 2026-11-20 file",
            ct_added(
                f"year{year}", lambda b, s=stamp, y=year: [ct_event(b, f"bench-{y}", eventTime=s)]
            ),
            "either",
            f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2355Z_year{year}00000000.json.gz",
            (f"year{year}",),  # the manifest row only: no usage, no permission change
            cloudtrail=True,
        )
    add(
        "ct-no-user-identity",
        "cloudtrail",
        "a record without userIdentity",
        ct_added(
            "nobody",
            lambda b: [
                {k: v for k, v in ct_event(b, "bench-nobody").items() if k != "userIdentity"}
            ],
        ),
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2355Z_nobody0000000000.json.gz",
        (*ct_scope, "nobody"),
        cloudtrail=True,
    )
    junk_file = f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2356Z_junk000000000000.json.gz"
    add(
        "ct-junk-file",
        "cloudtrail",
        "a junk file with a delivery name",
        ct_add_raw("junk", lambda t: JUNK.encode()),
        "quarantine",
        junk_file,
        ("junk0000",),
        cloudtrail=True,
    )
    records_obj = f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2356Z_recordsobject000.json.gz"
    add(
        "ct-records-object",
        "cloudtrail",
        '{"Records": {}} (not an array)',
        ct_add_raw("recordsobject", lambda t: gzip.compress(b'{"Records": {}}')),
        "quarantine",
        records_obj,
        ("recordsobject",),
        cloudtrail=True,
    )
    add(
        "ct-event-time-number",
        "cloudtrail",
        "a record whose eventTime is a number",
        ct_added("timenumber", lambda b: [ct_event(b, "bench-time-number", eventTime=12345)]),
        "quarantine",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2355Z_timenumber000000.json.gz",
        (*ct_scope, "timenumber"),
        cloudtrail=True,
    )
    add(
        "ct-empty-gzip",
        "cloudtrail",
        "a gzip of zero bytes",
        ct_add_raw("emptygzip", lambda t: gzip.compress(b"")),
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2356Z_emptygzip0000000.json.gz",
        ("emptygzip",),
        cloudtrail=True,
    )
    add(
        "ct-folder",
        "cloudtrail",
        "a directory named like a delivery file",
        ct_unreadable("folder"),
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2357Z_unreadablefolder.json.gz",
        ("unreadablefolder",),
        cloudtrail=True,
    )
    add(
        "ct-symlink-loop",
        "cloudtrail",
        "a symlink loop named like a delivery file",
        ct_unreadable("loop"),
        "quarantine",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2357Z_unreadableloop00.json.gz",
        ("unreadableloop",),
        cloudtrail=True,
    )
    add(
        "ct-plain-not-utf8",
        "cloudtrail",
        "a plain (not gzip) JSON file with a 0xFF byte",
        ct_add_raw(
            "plainff",
            lambda t: (
                json.dumps(
                    {"Records": [ct_event(_template(t), "bench-plain-ff", userAgent="@@FF@@")]}
                )
                .encode()
                .replace(b"@@FF@@", b"\xff")
            ),
            ".json",
        ),
        "either",
        f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2356Z_plainff000000000.json",
        (*ct_scope, "plainff"),
        cloudtrail=True,
    )
    bomb = f"{CT_NEW_DAY}/{DEV}_CloudTrail_eu-west-1_20261120T2356Z_bomb000000000000.json.gz"
    add(
        "ct-gzip-bomb",
        "cloudtrail",
        "a .json.gz expanding to 400 MB",
        ct_add_raw("bomb", _bomb),
        "either",
        bomb,
        ("bomb0000",),
        cloudtrail=True,
        heavy=True,
    )

    # --- valid AWS variants: evaluated as the original -----------------------------------------
    add(
        "valid-statement-object",
        "valid-variant",
        "managed policy Statement an object, not a list",
        gaad(DEV, lambda d: managed(d, 3).update(Statement=managed(d, 3)["Statement"][0])),
        "same",
    )
    add(
        "valid-action-string",
        "valid-variant",
        "a one-element Action list written as a string",
        gaad(MGMT, _action_as_string),
        "same",
    )
    add(
        "valid-resource-list",
        "valid-variant",
        '"Resource": "*" written as ["*"]',
        gaad(
            DEV,
            lambda d: statement0(managed(d, 3)).update(
                Resource=[statement0(managed(d, 3))["Resource"]]
            ),
        ),
        "same",
    )
    add(
        "valid-version-2008",
        "valid-variant",
        'bucket policy "Version": "2008-10-17"',
        json_file(BUCKET, lambda d: d.update(Version="2008-10-17")),
        "same",
    )
    add(
        "valid-bare-account-principal",
        "valid-variant",
        'trust Principal {"AWS": "111111111111"} (bare account id for …:root)',
        gaad(DEV, lambda d: statement0(trust(d, 3)).update(Principal={"AWS": MGMT})),
        "same",
    )
    add(
        "valid-principal-aws-star",
        "valid-variant",
        'bucket Principal {"AWS": "*"} for "*"',
        json_file(BUCKET, lambda d: statement0(d).update(Principal={"AWS": "*"})),
        "same",
    )
    add(
        "valid-url-encoded-documents",
        "valid-variant",
        "every policy document URL-encoded (raw IAM API)",
        gaad(DEV, _url_encode_all),
        "same",
    )
    add(
        "valid-python-dates",
        "valid-variant",
        "dates as str(datetime), not ISO",
        gaad(DEV, _python_dates),
        "same",
    )
    add(
        "valid-reindented",
        "valid-variant",
        "authorization details re-indented (8 spaces, ASCII)",
        lambda s, t: _reformat(s / DEV / GAAD, reorder_keys=False),
        "same",
    )
    add(
        "valid-keys-reordered",
        "valid-variant",
        "authorization details with object keys reordered",
        lambda s, t: _reformat(s / DEV / GAAD, reorder_keys=True),
        "same",
    )
    add(
        "valid-extra-keys",
        "valid-variant",
        'authorization details with "IsTruncated": false and an unknown key',
        gaad(DEV, lambda d: d.update(IsTruncated=False, Future={"x": 1})),
        "same",
    )
    add(
        "valid-lambda-extra-field",
        "valid-variant",
        "list-functions with an unknown field",
        json_file(dev_lambda, lambda d: d.update(NextMarker=None, Extra=[1, 2])),
        "same",
    )
    add(
        "valid-action-case",
        "valid-variant",
        'Action in mixed case ("S3:GetObject")',
        json_file(
            BUCKET, lambda d: d["Statement"][1].update(Action=["S3:GETOBJECT", "s3:putobject"])
        ),
        "same",
    )
    add(
        "valid-scp-statement-object",
        "valid-variant",
        "Deny SCP Statement an object",
        scp(SCP_DENY, lambda c: c.update(Statement=c["Statement"][0])),
        "same",
    )
    add(
        "valid-scp-raw-document",
        "valid-variant",
        "SCP Content URL-encoded",
        json_file(SCP_DENY, lambda d: d["Policy"].update(Content=quote(d["Policy"]["Content"]))),
        "same",
    )
    notres_user = f"arn:aws:iam::{DEV}:user/sandbox-owner"
    add(
        "valid-notresource",
        "valid-variant",
        'user inline Allow with NotResource "arn:aws:s3:::bench-nothing" for Resource "*"',
        gaad(
            DEV,
            lambda d: _swap(
                statement0(user_inline(d)), "Resource", "NotResource", "arn:aws:s3:::bench-nothing"
            ),
        ),
        "scoped",
        scope=(notres_user,),
    )
    add(
        "valid-notaction-deny",
        "valid-variant",
        'a Deny NotAction ["*:*"]-free statement added: Deny NotAction "iam:*" on bench ARN',
        gaad(
            DEV,
            lambda d: user_inline(d)["Statement"].append(
                {"Effect": "Deny", "NotAction": "iam:*", "Resource": "arn:aws:s3:::bench-nothing"}
            ),
        ),
        "scoped",
        scope=(notres_user,),
    )
    add(
        "valid-condition-ifexists",
        "valid-variant",
        "bucket Condition operator ForAnyValue:StringEqualsIfExists",
        json_file(
            BUCKET,
            lambda d: statement0(d).update(
                Condition={
                    "ForAnyValue:StringEqualsIfExists": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}
                }
            ),
        ),
        "scoped",
        scope=(BUCKET_ARN,),
    )
    add(
        "valid-no-sid",
        "valid-variant",
        "bucket policy statements without Sid",
        json_file(BUCKET, _drop_sids),
        "scoped",
        scope=(BUCKET_ARN,),
    )
    add(
        "valid-kms-cli-output",
        "valid-variant",
        'a KMS key policy saved as CLI output {"Policy": "<json>"} (new key)',
        resource_policy(
            "kms",
            "key-policies",
            "bench-valid-key",
            json.dumps({"Policy": json.dumps(VALID_KEY_POLICY)}),
        ),
        "scoped",
        scope=("bench-valid-key",),
    )
    add(
        "valid-sqs-attributes",
        "valid-variant",
        'an SQS policy as get-queue-attributes {"Attributes": {"Policy": …}} (new queue)',
        resource_policy(
            "sqs",
            "queue-policies",
            "bench-valid-queue",
            json.dumps({"Attributes": {"Policy": json.dumps(_policy_with(Action="sqs:*"))}}),
        ),
        "scoped",
        scope=("bench-valid-queue",),
    )
    # CloudTrail variants
    landed_name = Path(CT_LANDED).name
    new_name = Path(CT_NEW).name
    add(
        "valid-ct-plain-json",
        "valid-variant",
        "a delivery file stored as plain JSON, not gzip",
        ct_replace(gzip.decompress, new_name.removesuffix(".gz"), CT_NEW),
        "scoped",
        scope=(new_name.split(".")[0],),
        cloudtrail=True,
    )
    add(
        "valid-ct-no-date-suffix",
        "valid-variant",
        "lambda eventNames without their date suffix (ListFunctions)",
        ct_replace_all_lambda(),
        # event_counts_daily keeps the eventName as delivered and the manifest the new sizes;
        # usage, permissions and detections must be the reference's.
        "scoped",
        scope=("lambda.amazonaws.com", "_CloudTrail_"),
        cloudtrail=True,
    )
    add(
        "valid-ct-timestamp-export",
        "valid-variant",
        "a delivery file as a JSON-lines export with @timestamp for eventTime",
        ct_replace(
            lambda b: _export_lines(b, timestamp=True),
            new_name.removesuffix(".json.gz") + ".jsonl",
            CT_NEW,
        ),
        "scoped",
        scope=(new_name.split(".")[0],),
        cloudtrail=True,
    )
    add(
        "valid-ct-event-wrapper",
        "valid-variant",
        'a delivery file as JSON lines of {"event": {...}}',
        ct_replace(
            lambda b: _export_lines(b, wrap=True),
            new_name.removesuffix(".json.gz") + ".jsonl",
            CT_NEW,
        ),
        "scoped",
        scope=(new_name.split(".")[0],),
        cloudtrail=True,
    )
    add(
        "valid-ct-json-array",
        "valid-variant",
        "a delivery file as a JSON array of events",
        ct_replace(lambda b: gzip.compress(json.dumps(_records_bytes(b)).encode())),
        "scoped",
        scope=(landed_name.split(".")[0],),
        cloudtrail=True,
    )
    add(
        "valid-ct-empty-records",
        "valid-variant",
        'an added file {"Records": []}',
        ct_add_raw("emptyrecords", lambda t: gzip.compress(b'{"Records": []}')),
        "scoped",
        scope=("emptyrecords",),
        cloudtrail=True,
    )
    add(
        "valid-ct-digest",
        "valid-variant",
        "a CloudTrail-Digest file added (skipped)",
        _ct_digest,
        "scoped",
        scope=("CloudTrail-Digest",),
        cloudtrail=True,
    )
    return cases


# helpers used above ---------------------------------------------------------------------------


def _credreport_edit(snapshot: Path, edit: Callable[[list[str]], None]) -> Path:
    path = snapshot / DEV / CRED
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def _credreport_bytes(snapshot: Path) -> Path:
    path = snapshot / DEV / CRED
    lines = path.read_bytes().split(b"\n")
    fields = lines[2].split(b",")
    fields[0] = fields[0] + b"\xe9"
    lines[2] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    return path


def _bad_date(lines: list[str]) -> None:
    header = lines[0].split(",")
    column = header.index("password_last_used")
    for i in range(1, len(lines)):
        fields = lines[i].split(",")
        if fields[column] not in ("N/A", "no_information", "not_supported"):
            fields[column] = "yesterday"
            lines[i] = ",".join(fields)
            return
    raise AssertionError("no password_last_used date to damage")


def _ec2_profile_number(doc: dict[str, Any]) -> None:
    for reservation in doc["Reservations"]:
        for instance in reservation["Instances"]:
            if "IamInstanceProfile" in instance:
                instance["IamInstanceProfile"] = 42
                return
    raise AssertionError("no instance profile to damage")


def _lambda_role_mars(doc: dict[str, Any]) -> None:
    function = doc["Functions"][0]
    function["Role"] = function["Role"].replace("arn:aws:", "arn:aws-mars:")


def _bucket_deep(snapshot: Path) -> Path:
    path = snapshot / BUCKET
    doc = _read_json(path)
    statement0(doc)["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": "DEEP"}}
    path.write_text(json.dumps(doc).replace('"DEEP"', _deep(100_000)))
    return path


def _action_as_string(doc: dict[str, Any]) -> None:
    for user in doc["UserDetailList"]:
        for policy in user.get("UserPolicyList", []):
            for st in policy["PolicyDocument"]["Statement"]:
                if isinstance(st.get("Action"), list) and len(st["Action"]) == 1:
                    st["Action"] = st["Action"][0]
                    return
    for policy in doc["Policies"]:
        for version in policy["PolicyVersionList"]:
            for st in version["Document"]["Statement"]:
                if isinstance(st.get("Action"), list) and len(st["Action"]) == 1:
                    st["Action"] = st["Action"][0]
                    return
    raise AssertionError("no one-element Action list")


def _drop_sids(doc: dict[str, Any]) -> None:
    for statement in doc["Statement"]:
        statement.pop("Sid", None)


def _swap(statement: dict[str, Any], old: str, new: str, value: Any) -> None:
    statement.pop(old)
    statement[new] = value


def _encode(document: Any) -> Any:
    return quote(json.dumps(document)) if isinstance(document, dict) else document


def _url_encode_all(doc: dict[str, Any]) -> None:
    for kind, key in (
        ("UserDetailList", "UserPolicyList"),
        ("GroupDetailList", "GroupPolicyList"),
        ("RoleDetailList", "RolePolicyList"),
    ):
        for item in doc[kind]:
            for policy in item.get(key, []):
                policy["PolicyDocument"] = _encode(policy["PolicyDocument"])
            if "AssumeRolePolicyDocument" in item:
                item["AssumeRolePolicyDocument"] = _encode(item["AssumeRolePolicyDocument"])
    for policy in doc["Policies"]:
        for version in policy["PolicyVersionList"]:
            version["Document"] = _encode(version["Document"])


def _python_date(value: str) -> str:
    # 2025-01-06T09:45:00Z -> 2025-01-06 09:45:00+00:00 (str of an aware datetime)
    return value.replace("T", " ").replace("Z", "+00:00")


def _python_dates(doc: dict[str, Any]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("Date") and isinstance(value, str) and "T" in value:
                    node[key] = _python_date(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)


def _reformat(path: Path, reorder_keys: bool) -> Path:
    def reorder(node: Any) -> Any:
        if isinstance(node, dict) and reorder_keys:
            return {k: reorder(node[k]) for k in sorted(node, reverse=True)}
        if isinstance(node, dict):
            return {k: reorder(v) for k, v in node.items()}
        if isinstance(node, list):
            return [reorder(x) for x in node]
        return node

    path.write_text(json.dumps(reorder(_read_json(path)), indent=8, ensure_ascii=True))
    return path


def ct_replace_all_lambda() -> Edit:
    """Every delivery file of the dev account with a lambda event: eventName suffix removed."""

    def apply(_snapshot: Path, trail: Path) -> Path:
        changed = None
        for path in sorted((trail / "AWSLogs").rglob("*.json.gz")):
            data = path.read_bytes()
            if b"20150331" not in gzip.decompress(data):
                continue
            stat = path.stat()
            path.write_bytes(_strip_suffix(data))
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
            changed = changed or path
        assert changed is not None, "no lambda event in the demo's CloudTrail"
        return changed

    return apply


def _ct_digest(_snapshot: Path, trail: Path) -> Path:
    folder = trail / "AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail-Digest/eu-west-1/2026/11/20"
    folder.mkdir(parents=True)
    path = folder / f"{DEV}_CloudTrail-Digest_eu-west-1_bench_eu-west-1_20261120T0000Z.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"digestPublicKeyFingerprint": "x"}).encode()))
    return path


CASES: list[Case] = _cases()


# ---------------------------------------------------------------------------------------------
# running and comparing


def make_inputs(case: Case | None, base: Path) -> tuple[Path, Path, Path | None]:
    """Fresh copies of the 2026-11-20 snapshot and (if the case edits it) the CloudTrail folder,
    with the case applied: (snapshot, cloudtrail, changed path)."""
    snapshot = base / "snapshots" / AS_OF
    shutil.copytree(SNAPSHOT, snapshot, symlinks=True)
    trail = CLOUDTRAIL
    if case is not None and case.cloudtrail:
        trail = shutil.copytree(CLOUDTRAIL, base / "cloudtrail", symlinks=True)  # keeps mtimes
    changed = case.apply(snapshot, trail) if case is not None else None
    return snapshot, trail, changed


# With --freeze, `ciem` runs from a `git archive HEAD` copy of the code (PYTHONPATH wins over
# the editable install), and every case copies the demo's inputs from that copy too: edits made
# to the working tree meanwhile (code, or a regenerated demo) cannot leak into a case.
FROZEN_CODE: dict[str, Path] = {}


def freeze_code(work: Path) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    code = work / "code"
    code.mkdir()
    archive = subprocess.run(["git", "archive", commit], capture_output=True, cwd=ROOT, check=True)
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    FROZEN_CODE["path"] = code
    global DEMO, SNAPSHOT, PREVIOUS_SNAPSHOT, CLOUDTRAIL
    DEMO = code / "data" / "demo"
    SNAPSHOT = DEMO / "snapshots" / "2026-11-20"
    PREVIOUS_SNAPSHOT = DEMO / "snapshots" / "2026-11-19"
    CLOUDTRAIL = DEMO / "cloudtrail"
    return commit


def ciem_run(lake: Path, snapshot: Path, trail: Path, as_of: str) -> tuple[int, str, float]:
    started = time.monotonic()
    env = dict(os.environ)
    if "path" in FROZEN_CODE:
        env["PYTHONPATH"] = str(FROZEN_CODE["path"])
    done = subprocess.run(
        [
            str(CIEM),
            "run",
            "--snapshot",
            str(snapshot),
            "--cloudtrail",
            str(trail),
            "--as-of",
            as_of,
            "--lake",
            str(lake),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1800,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


# Tables compared whole (volatile columns left out).
TABLES: dict[str, str] = {
    "detections": "select * from detections",
    "principals": "select * from principals",
    "effective_permissions": "select * from effective_permissions",
    "permission_insights": "select * from permission_insights",
    "relationships": "select * from relationships",
    "account_completeness": "select * from account_completeness",
    "usage_daily": "select * from usage_daily",
    "event_counts_daily": "select * from event_counts_daily",
    "unmapped_events": "select * from unmapped_events",
    # ingested_at, version and the part an object's rows went into (its file, size and SHA-256)
    # are bookkeeping: a day landed with one file more writes other parts for the same rows.
    "cloudtrail_manifest": (
        "select * exclude (ingested_at, version, part, part_file, part_size, part_sha256) "
        "from cloudtrail_manifest"
    ),
    "detection_timeline": "select * from detection_timeline",
}
QUARANTINE = "select source, file, record, field, account_id, reason from quarantine"


@dataclass
class Result:
    rc: int
    output: str
    seconds: float
    tables: dict[str, set[tuple]] = field(default_factory=dict)
    quarantine: set[tuple] = field(default_factory=set)
    error: str | None = None


def read_result(lake: Path, rc: int, output: str, seconds: float) -> Result:
    result = Result(rc, output, seconds)
    if rc != 0:
        return result
    sys.path.insert(0, str(ROOT))
    from pipelines.lib.lake import Lake
    from pipelines.lib.warehouse.connection import connect

    try:
        with connect(Lake.at(lake), read_only=True) as con:
            for name, sql in TABLES.items():
                result.tables[name] = {
                    tuple(str(v) for v in row) for row in con.execute(sql).fetchall()
                }
            result.quarantine = {tuple(row) for row in con.execute(QUARANTINE).fetchall()}
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _in_scope(row: tuple, tokens: tuple[str, ...]) -> bool:
    text = "|".join(row)
    return any(token in text for token in tokens)


DET_ID, DET_RULE, DET_ACCOUNT, DET_STATUS = 0, 1, 5, 9


def classify(case: Case, ref: Result, got: Result) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case": case.id,
        "kind": case.kind,
        "damage": case.damage,
        "quarantined": "",
        "resolved": 0,
        "changed": "",
        "why": "",
    }
    if got.rc != 0 or got.error:
        tail = got.error or got.output.strip().splitlines()[-1:] or [""]
        row.update(
            outcome="whole-run failure",
            why=f"exit {got.rc}: {tail if isinstance(tail, str) else tail[0]}"[:200],
        )
        return row
    new_q = got.quarantine - ref.quarantine
    row["quarantined"] = (
        "; ".join(
            f"{f}{'[' + r + ']' if r else ''}{' ' + fl if fl else ''}"
            for _, f, r, fl, _, _ in sorted(new_q, key=lambda e: tuple(str(x) for x in e))
        )[:300]
        or "-"
    )
    incomplete = {r[0] for r in got.tables["account_completeness"] if r[1] == "True"}
    tokens = tuple(case.scope) + tuple(sorted(incomplete))
    ref_resolved = {r[DET_ID] for r in ref.tables["detections"] if r[DET_STATUS] == "resolved"}
    got_resolved = {r[DET_ID]: r for r in got.tables["detections"] if r[DET_STATUS] == "resolved"}
    newly_resolved = {i for i in got_resolved if i not in ref_resolved}
    held_resolved = {i for i, r in got_resolved.items() if r[DET_ACCOUNT] in incomplete}
    resolved = newly_resolved | held_resolved
    row["resolved"] = len(resolved)
    changed, outside = [], []
    for name in TABLES:
        lost = ref.tables[name] - got.tables[name]
        gained = got.tables[name] - ref.tables[name]
        if not lost and not gained:
            continue
        out = {r for r in lost | gained if not _in_scope(r, tokens)}
        changed.append(
            f"{name} -{len(lost)}/+{len(gained)}" + (f" ({len(out)} outside)" if out else "")
        )
        if out:
            outside.append((name, out))
    row["changed"] = "; ".join(changed) or "-"
    any_change = bool(changed)
    why: list[str] = []
    if outside:
        name, out = outside[0]
        why.append(f"changed outside the touched scope: {name} e.g. {sorted(out)[0][:4]}")
    if resolved:
        why.append(f"{len(resolved)} detection(s) resolved: {sorted(resolved)[:3]}")
    quarantined_file = case.file is not None and any(e[1] == case.file for e in new_q)
    missing_incomplete = set(case.incomplete) - incomplete
    if case.expect == "same":
        ok_same = not new_q and not any_change
        if not ok_same and not why:
            why.append("valid input refused: quarantined" if new_q else "results differ")
        row["outcome"] = "evaluated right" if ok_same else "silently wrong"
    else:
        scoped_ok = not new_q and not outside and not resolved and not incomplete
        quarantine_ok = quarantined_file and not missing_incomplete and not outside and not resolved
        if (case.expect == "scoped" and scoped_ok) or (case.expect == "either" and scoped_ok):
            row["outcome"] = "evaluated right"
        elif case.expect in ("quarantine", "either") and quarantine_ok:
            row["outcome"] = "quarantined, rest intact"
        else:
            row["outcome"] = "silently wrong"
            if case.expect == "scoped" and new_q:
                why.append("valid input refused: quarantined")
            if case.expect == "scoped" and incomplete:
                why.append(f"accounts flagged incomplete: {sorted(incomplete)}")
            if case.expect in ("quarantine", "either") and not quarantined_file:
                why.append(f"no quarantine entry for {case.file}")
            if case.expect in ("quarantine", "either") and missing_incomplete:
                why.append(f"not flagged incomplete: {sorted(missing_incomplete)}")
    row["why"] = "; ".join(why)
    return row


def run_case(case: Case | None, baseline: Path, work: Path) -> Result:
    base = work / (case.id if case else "reference")
    base.mkdir(parents=True)
    snapshot, trail, _ = make_inputs(case, base)
    lake = base / "lake"
    shutil.copytree(baseline, lake, symlinks=True)
    rc, output, seconds = ciem_run(lake, snapshot, trail, AS_OF)
    return read_result(lake, rc, output, seconds)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict[str, Any]], wall: float, jobs: int, heavy: bool) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    order = ["evaluated right", "quarantined, rest intact", "silently wrong", "whole-run failure"]
    summary = ", ".join(f"{counts.get(o, 0)} {o}" for o in order)
    lines = [
        "# Bad-input corpus (issue 18)",
        "",
        f"`make bench-bad-input` (`bench/bad_input_corpus.py`): {len(rows)} cases, each one "
        "change to a copy of the demo's 2026-11-20 inputs, run end to end (`ciem run --as-of "
        "2026-11-20`) on a copy of a lake after a good 2026-11-19 run, and compared table by "
        "table with a clean 2026-11-20 run from the same lake. Rows mentioning the touched "
        "scope (the account, principal, policy, resource or file damaged, and any account the "
        "run flags incomplete) may differ; nothing else may.",
        "",
        f"Cases per input kind: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}."
        + ("" if heavy else " (The heavy 400 MB gzip case runs only with `--heavy`.)"),
        "",
        f"**Summary: {len(rows)} cases: {summary}.** Wall time {wall:.0f} s with --jobs {jobs}.",
        "",
        "| case | input kind | damage | outcome | quarantined entries | detections resolved "
        "| other tables changed | why (if not passing) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(r[k])
                for k in (
                    "case",
                    "kind",
                    "damage",
                    "outcome",
                    "quarantined",
                    "resolved",
                    "changed",
                    "why",
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def parse_results(path: Path) -> list[dict[str, Any]]:
    """The rows of a results file written by `render` (for --merge)."""
    keys = ("case", "kind", "damage", "outcome", "quarantined", "resolved", "changed", "why")
    rows = []
    for line in path.read_text().splitlines():
        if not line.startswith("| ") or line.startswith(("| case |", "|---")):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(dict(zip(keys, cells, strict=True)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="case ids to run (default: all)")
    parser.add_argument("--heavy", action="store_true", help="include the 400 MB gzip case")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--freeze", action="store_true", help="run a `git archive HEAD` copy of the code"
    )
    parser.add_argument(
        "--merge", action="store_true", help="replace the --only cases' rows in the results file"
    )
    args = parser.parse_args(argv)
    cases = [c for c in CASES if (args.heavy or not c.heavy)]
    if args.only:
        cases = [c for c in cases if c.id in args.only]
    work = Path(tempfile.mkdtemp(prefix="ciem-bad-input-"))
    started = time.monotonic()
    try:
        if args.freeze:
            print(f"code frozen at {freeze_code(work)}", flush=True)
        baseline = work / "baseline-lake"
        rc, output, seconds = ciem_run(baseline, PREVIOUS_SNAPSHOT, CLOUDTRAIL, PREVIOUS_AS_OF)
        if rc != 0:
            print(output, file=sys.stderr)
            raise SystemExit(f"the clean 2026-11-19 baseline run failed (exit {rc})")
        print(f"baseline 2026-11-19: {seconds:.1f} s", flush=True)
        reference = run_case(None, baseline, work)
        if reference.rc != 0 or reference.error:
            print(reference.output, file=sys.stderr)
            raise SystemExit("the clean 2026-11-20 reference run failed")
        print(f"reference 2026-11-20: {reference.seconds:.1f} s", flush=True)
        assert not reference.quarantine, reference.quarantine

        def one(case: Case) -> dict[str, Any]:
            try:
                got = run_case(case, baseline, work)
            except Exception as exc:
                got = Result(rc=-1, output="", seconds=0.0, error=f"{type(exc).__name__}: {exc}")
            row = classify(case, reference, got)
            row["seconds"] = got.seconds
            if not args.keep:
                shutil.rmtree(work / case.id, ignore_errors=True)
            print(
                f"{case.id:40} {row['outcome']:26} {got.seconds:5.1f} s  {row['why']}"[:240],
                flush=True,
            )
            return row

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            rows = list(pool.map(one, cases))
        wall = time.monotonic() - started
        text = render(rows, wall, args.jobs, args.heavy)
        print()
        print(text)
        if args.merge:
            rerun = {r["case"]: r for r in rows}
            merged = [rerun.pop(r["case"], r) for r in parse_results(args.out)]
            text = render([*merged, *rerun.values()], wall, args.jobs, args.heavy)
            text = text.replace(
                f"Wall time {wall:.0f} s",
                f"Wall time of the rerun of {len(rows)} case(s) {wall:.0f} s",
            )
        if not args.only or args.merge:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
            shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
            print(f"written to {shown}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
