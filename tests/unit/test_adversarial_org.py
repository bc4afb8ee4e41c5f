"""bench/adversarial_org.py writes policies that IAM (and landing) accept: no `*:Get*`, which
landing quarantined (913 records of a 1,000-principal account), while staying wide."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from pipelines.lib.land.snapshot.grammar import IDENTITY, SCP, policy_problems

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    sys.path.insert(0, str(ROOT / "bench"))  # it imports bench_evaluation
    spec = importlib.util.spec_from_file_location(
        "adversarial_org", ROOT / "bench/adversarial_org.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_policy_of_the_adversarial_organization_is_valid(tmp_path: Path) -> None:
    [details] = _generator().generate(tmp_path, accounts=1, principals=60)
    gaad = json.loads(details.read_text())
    documents = [v["Document"] for p in gaad["Policies"] for v in p["PolicyVersionList"]]
    for entity in gaad["UserDetailList"] + gaad["GroupDetailList"] + gaad["RoleDetailList"]:
        for key in ("UserPolicyList", "GroupPolicyList", "RolePolicyList"):
            documents += [p["PolicyDocument"] for p in entity.get(key, [])]
    scps = [
        json.loads(json.loads(path.read_text())["Policy"]["Content"])
        for path in (tmp_path / "organization" / "policies").glob("*.json")
    ]
    problems = [policy_problems(d, IDENTITY) for d in documents]
    problems += [policy_problems(d, SCP) for d in scps]
    assert [p for p in problems if p] == []
    patterns = {
        a
        for d in documents + scps
        for s in d["Statement"]
        for a in (lambda x: [x] if isinstance(x, str) else x)(s.get("Action", s.get("NotAction")))
    }
    # still adversarial: `*`, whole services and a verb across many services
    assert {"*", "s3:*", "ec2:*"} <= patterns
    assert len({p.split(":")[0] for p in patterns if p.endswith(":Get*")}) >= 25
