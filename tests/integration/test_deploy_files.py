"""The service files of `deploy/` parse and name the code location, its module and real settings
(they are not run here: no Docker daemon, no cluster, no systemd in the test machine)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from pipelines.defs.resources import settings_from_env

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _settings_read_by_the_code() -> set[str]:
    """Every CIEM_* variable the code location or live collection reads."""
    names: set[str] = set()
    for path in (ROOT / "pipelines").rglob("*.py"):
        names.update(re.findall(r"\"(CIEM_[A-Z_]+)\"", path.read_text()))
    return names


def test_the_env_file_sets_only_settings_the_code_reads() -> None:
    lines = (DEPLOY / "ciem.env.example").read_text().splitlines()
    names = {
        line.lstrip("#").split("=", 1)[0] for line in lines if re.match(r"#?CIEM_[A-Z_]+=", line)
    }
    assert names <= _settings_read_by_the_code()
    assert {"CIEM_SNAPSHOT_ROOT", "CIEM_CLOUDTRAIL", "CIEM_LAKE"} <= names
    assert settings_from_env() is not None


def test_the_units_run_the_webserver_and_the_daemon_on_the_workspace() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    assert location["python_module"]["module_name"] == "pipelines.definitions"
    commands = {}
    for unit in ("ciem-webserver", "ciem-daemon"):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(DEPLOY / "systemd" / f"{unit}.service")
        service = parser["Service"]
        assert service["UMask"] == "0077"
        assert service["EnvironmentFile"] == "/etc/ciem/ciem.env"
        commands[unit] = service["ExecStart"]
    assert "dagster-webserver" in commands["ciem-webserver"]
    assert commands["ciem-daemon"].split()[1:3] == ["run", "-w"]
    assert all(c.endswith("/opt/ciem/workspace.yaml") for c in commands.values())


def test_compose_and_the_instance_file_parse() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"webserver", "daemon"}
    assert compose["services"]["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "COPY deploy/dagster.yaml /opt/dagster/home/dagster.yaml" in dockerfile
    assert "uv pip sync --system requirements.lock" in dockerfile


def test_the_helm_values_name_the_code_location_and_its_module() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'code_location_name = "{deployment["name"]}"' in pyproject
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions", "-a", "defs"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert "dagster==1.13.27" in pyproject
    assert "1.13.27" in (DEPLOY / "helm" / "values.yaml").read_text()
