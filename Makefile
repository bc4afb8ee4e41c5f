# ciem — every target sets up what it needs; `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs from the committed lock in seconds (pip from the same lock: ~2 min).
UV_VERSION := 0.13.8
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup chromium demo test dev bench bench-cloudtrail bench-evaluation bench-escalation bench-explorer bench-who-can bench-condition-agreement bench-bad-input bench-scale bench-workers bench-fixed-cost lint format lock demo-data clean

setup: $(STAMP) chromium

# The last step compiles the bytecode of every installed package and of pipelines/: uv installs
# sources only, and where PYTHONDONTWRITEBYTECODE is set (containers, CI) Python would compile
# Dagster's ~2,000 modules again on every `ciem` start (about 3 s of an empty-account run).
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --require-hashes -r requirements-nodeps.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib pipelines >/dev/null
	touch $(STAMP)

# Debian's Chromium for the explorer's browser tests (tests/browser/): Playwright drives this
# system browser and never downloads one. Needs root (or sudo) for apt-get; if it cannot be
# installed the browser tests fail saying so (they are never skipped).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x $(CHROMIUM) || { export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; } \
	  || echo "make: could not install chromium with apt-get: the browser tests will fail" >&2

demo: $(STAMP)
	$(BIN)/ciem demo

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

# `dg dev` (Dagster's current entry point; dagster-dg-cli, pinned with dagster) serves the project
# of pyproject.toml [tool.dg]: the webserver and the daemon (queue, backfills, schedule, automation).
# DAGSTER_HOME is owner-only (its runs.db keeps the first rows of every table as previews), and
# so is whatever the webserver, the daemon and the runs create (umask 077).
dev: $(STAMP)
	umask 077 && mkdir -p $(DAGSTER_HOME) && chmod 700 $(DAGSTER_HOME) \
	  && install -m 600 dagster.yaml $(DAGSTER_HOME)/dagster.yaml \
	  && VIRTUAL_ENV=$(CURDIR)/$(VENV) exec $(BIN)/dg dev -h 127.0.0.1 -p $${PORT:-3000}

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Effective permissions at 1k/5k/10k principals, and ciem run vs `cloudsplaining scan` (installed
# in its own venv: it is a comparison tool, not a dependency).
bench-evaluation: $(STAMP)
	test -x bench/.venv-cloudsplaining/bin/cloudsplaining || ( $(PYTHON) -m venv bench/.venv-cloudsplaining \
	  && $(BIN)/uv pip install --quiet --python bench/.venv-cloudsplaining/bin/python cloudsplaining==0.9.1 )
	$(BIN)/python bench/bench_evaluation.py --cloudsplaining bench/.venv-cloudsplaining/bin/cloudsplaining

# Privilege-escalation graph and path search on an adversarial 10,000-principal organization.
bench-escalation: $(STAMP)
	$(BIN)/python bench/bench_escalation.py --principals 10000

# The whole `ciem run` on the adversarial organization of bench/adversarial_org.py (10 accounts x
# 1,000 principals: NotAction, `*`, a policy set per user), median of 3 and peak RSS of the process
# tree, against `cloudsplaining scan` over the same accounts (its own venv, as bench-evaluation).
bench-scale: $(STAMP)
	test -x bench/.venv-cloudsplaining/bin/cloudsplaining || ( $(PYTHON) -m venv bench/.venv-cloudsplaining \
	  && $(BIN)/uv pip install --quiet --python bench/.venv-cloudsplaining/bin/python cloudsplaining==0.9.1 )
	$(BIN)/python bench/bench_scale.py --accounts 10 --repeat 3 --cloudsplaining bench/.venv-cloudsplaining/bin/cloudsplaining

# `ciem run`'s fixed cost (issue 11): an empty account, median of 3, interleaved with a `git archive
# main` checkout run the same way; bench/results/fixed_cost.md.
bench-fixed-cost: $(STAMP)
	$(BIN)/python bench/bench_fixed_cost.py --repeat 3 --baseline main

# CloudTrail end to end: the whole `ciem run` on 2M generated events over 15 days (cached in
# bench/data/) beside the `xargs -P 2 zcat` floor of the same files, medians of 3.
bench-cloudtrail: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python bench/bench_cloudtrail.py --events 2000000 --days 15 --repeat 3

# `ciem demo` and `ciem run` on 300,000 generated CloudTrail events: --workers 1 against 2 (median
# of 3, peak RSS of the process tree).
bench-workers: $(STAMP)
	$(BIN)/python bench/bench_workers.py --workers 2 --repeat 3 --events 300000

# The explorer with 10,000 generated detections: group-by switches and panel openings in Chromium.
bench-explorer: $(STAMP) chromium
	$(BIN)/python bench/bench_explorer.py --detections 10000

# `ciem who-can` on a generated 10,000-principal organization (issue 12 item 5).
bench-who-can: $(STAMP)
	$(BIN)/python bench/bench_who_can.py --principals 10000 --repeat 3

# Issue 12's agreement figures: IAMSpy's cases, SQL vs explain per principal and resource-policy
# statement (before/after), on the data-perimeter test and 200 random bucket policies.
bench-condition-agreement: $(STAMP)
	$(BIN)/python bench/condition_agreement.py --random 200

# The bad-input corpus (issue 18): 126 one-change cases run end to end against a clean run; writes
# bench/results/bad_input_corpus.md (`--heavy` adds the 400 MB gzip case).
bench-bad-input: $(STAMP)
	$(BIN)/python bench/bad_input_corpus.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Regenerate the lock after changing pyproject.toml dependencies.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra k8s --python-version 3.11 --generate-hashes -o requirements.lock

# Regenerate the embedded demo organization (deterministic; a test checks it is up to date).
demo-data: $(STAMP)
	$(BIN)/python -m pipelines.demo data/demo

clean:
	rm -rf $(VENV) data/lake .dagster_home .pytest_cache
