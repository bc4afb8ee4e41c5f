"""Repository hygiene: lint and format clean, no AWS secrets committed, pins carry a reason."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_check_and_format_are_clean() -> None:
    check = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


def test_no_real_aws_secret_keys_are_committed() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    secret = re.compile(rb"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}")
    offenders = [
        f for f in files if (ROOT / f).is_file() and secret.search((ROOT / f).read_bytes())
    ]
    assert offenders == []


def test_every_dependency_pin_has_a_comment() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    deps = tomllib.loads(text)["project"]
    pinned = [*deps["dependencies"], *deps["optional-dependencies"]["dev"]]
    lines = text.splitlines()
    for dep in pinned:
        index = next(i for i, line in enumerate(lines) if line.strip() == f'"{dep}",')
        assert lines[index - 1].strip().startswith("#"), f"{dep} has no comment saying why"
