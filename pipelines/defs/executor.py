"""Which Dagster executor runs the code location's steps, and over how many workers the
CloudTrail days are shared (`defs/cloudtrail.py`). Configuration, never other definitions:

- `CIEM_EXECUTOR`: `in_process` (default: one process per run, as `make dev`), `multiprocess`
  (one process per step, at most `CIEM_WORKERS` at once) or `k8s` (`dagster_k8s`'s
  `k8s_job_executor`: one Kubernetes Job per step, in a cluster deployment, `deploy/helm/`).
- `CIEM_WORKERS`: how many shares the run's CloudTrail days are landed and aggregated in (the
  steps that can run at once). Default: 1 in process, the machine's cores for `multiprocess`,
  4 on Kubernetes.

`ciem run --workers N` builds the definitions with N shares and runs them on the multiprocess
executor itself (`cli/pipeline.py`)."""

from __future__ import annotations

import os

import dagster as dg

EXECUTORS = ("in_process", "multiprocess", "k8s")
K8S_DEFAULT_WORKERS = 4

# The multiprocess executor's step processes are forked from a server that imported these once
# (its `forkserver` start method), instead of starting as new interpreters that import Dagster,
# its storage and the definitions again: about 0.3 s a step instead of 1.5 s here (a CloudTrail
# phase of `ciem run` has three rounds of steps, one after the other). The server skips a
# module it cannot import (one a Dagster release moved), and the steps then import it as before.
# A step process inherits the server's environment, not the run's: `ciem run` stops the server
# after each phase (`stop_step_server`), and each run of a deployment is a process of its own.
STEP_PRELOAD_MODULES = (
    "pipelines.defs.location",
    "pipelines.cli.pipeline",
    "dagster._utils.test",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.schedules.sqlite",
    "dagster._core.execution.plan.execute_plan",
    "dagster._core.executor.child_process_executor",
)
MULTIPROCESS_START = {
    "start_method": {"forkserver": {"preload_modules": list(STEP_PRELOAD_MODULES)}}
}


class ExecutorSettingError(ValueError):
    """`CIEM_EXECUTOR` or `CIEM_WORKERS` is not one the code location knows."""


def executor_name(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    name = env.get("CIEM_EXECUTOR", "") or "in_process"
    if name not in EXECUTORS:
        raise ExecutorSettingError(
            f"CIEM_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}"
        )
    return name


def workers_setting(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if env is None else env
    value = env.get("CIEM_WORKERS", "")
    if not value:
        return {
            "in_process": 1,
            "multiprocess": os.cpu_count() or 1,
            "k8s": K8S_DEFAULT_WORKERS,
        }[executor_name(env)]
    if not value.isdigit() or int(value) < 1:
        raise ExecutorSettingError(f"CIEM_WORKERS={value!r}: expected a whole number, at least 1")
    return int(value)


def executor_from_env(env: dict[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor of the code location. The Kubernetes one is imported only when chosen
    (dagster-k8s is the `k8s` extra, and importing it costs time)."""
    name = executor_name(env)
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured({"max_concurrent": workers_setting(env)})
    if name == "multiprocess":
        return dg.multiprocess_executor.configured(
            {"max_concurrent": workers_setting(env), **MULTIPROCESS_START}
        )
    return dg.in_process_executor


def stop_step_server() -> None:
    """Stop this process's fork server (`MULTIPROCESS_START`), if it started one: the next
    multiprocess run starts a new one, with the environment of that moment (a test's moto
    endpoint, a changed setting). Python has no public call for it; without `_stop` (another
    Python) the server stays, as it would in a one-run process."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()
