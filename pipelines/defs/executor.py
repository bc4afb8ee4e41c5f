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
        return dg.multiprocess_executor.configured({"max_concurrent": workers_setting(env)})
    return dg.in_process_executor
