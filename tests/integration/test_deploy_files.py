"""The service files of `deploy/` parse and name the code location, its module and real settings
(they are not run here: no Docker daemon, no cluster, no systemd in the test machine)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
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


def test_the_helm_values_run_the_definitions_on_the_kubernetes_executor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The code location's env in the values selects dagster-k8s's executor and a valid share
    count; run and step pods inherit it (includeConfigInLaunchedRuns); Postgres holds the runs;
    the lake is in a bucket with IRSA credentials. The definitions build with that env."""
    from pipelines.defs.executor import executor_name, workers_setting
    from pipelines.defs.location import build_definitions

    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert set(env) <= _settings_read_by_the_code()
    assert executor_name(env) == "k8s"
    assert workers_setting(env) == 4
    assert env["CIEM_LAKE"].startswith("s3://")
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert "eks.amazonaws.com/role-arn" in deployment["serviceAccount"]["annotations"]
    assert values["postgresql"]["enabled"] is True
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["envConfigMaps"] == [
        {"name": "ciem-settings"}
    ]
    for name, value in env.items():
        if name != "CIEM_LAKE":  # the bucket is not reachable here
            monkeypatch.setenv(name, value)
    defs = build_definitions(settings_from_env())
    for job in ("ciem_nightly", "ciem_models"):
        assert defs.resolve_job_def(job).executor_def.name == "k8s"
