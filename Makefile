# ntk-notebooks: two commands from a bare machine (only python3 and make on PATH).
#   make lab    create .venv if missing, install, start JupyterLab on notebooks/
#   make test   the same install, then ruff and the whole pytest suite (unit tests + nbval)
# The install takes the exact versions CI tested from requirements-lock.txt (as pip constraints:
# a platform's own extra packages still resolve; `make lab LOCK=` resolves afresh instead) and
# is skipped when neither pyproject.toml nor the lock has changed since the last one.
#   make upgrade  install the newest versions pyproject.toml allows (then `make test`)
#   make lock     write requirements-lock.txt from the tested .venv (after `make test` passed)

SHELL        := /bin/bash
PYTHON       ?= python3
VENV         ?= .venv
BIN          := $(VENV)/bin
STAMP        := $(VENV)/.ntklib-installed
LOCK         ?= requirements-lock.txt
CONSTRAINTS  := $(if $(LOCK),-c $(LOCK))
PIP          := $(BIN)/python -m pip install --quiet --disable-pip-version-check
JUPYTER_ARGS ?=
PYTEST_ARGS  ?=
# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG    := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: install lab test lint notebooks readme clean bench lock upgrade

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) $(CONSTRAINTS) -e '.[test]'
	@touch $@

lock: $(STAMP)
	$(BIN)/python tools/lock.py

upgrade:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) --upgrade --upgrade-strategy eager -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ROOT_FLAG) $(JUPYTER_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Three workers, one file each at a time (a notebook's cells stay in order on one worker; the
# browser test is one file, mostly waiting on the page): unit tests, nbval and the browser
# share the 2 cores. Files start in the order tests/conftest.py sets (the browser test first;
# xdist's reordering, most tests first, would start it last), and all share one JAX
# compilation cache in build/jax-cache (conftest), so a notebook's second run (nbval or the
# browser) compiles nothing again. Here `make test` took 6m16s (8m11s before both).
PYTEST_WORKERS ?= 3

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# Re-run every notebook top to bottom in a fresh kernel and store its outputs
# (then strip volatile metadata, keeping outputs and execution counts). Not through
# `jupyter nbconvert --execute`: its nbclient now and then loses a widget cell's reply and
# waits out the cell timeout; tools/run_notebooks.py is nbclient without that stall.
notebooks: $(STAMP)
	@set -e; for nb in notebooks/*.ipynb; do \
	  $(BIN)/python tools/run_notebooks.py --timeout 600 "$$nb"; \
	  $(BIN)/nbstripout --keep-output --keep-count "$$nb"; \
	done

# Benchmarks (not part of `make test`; tests/test_bench_smoke.py is): ntklib against
# neural-tangents and plain jax in their own environment .venv-bench (jax 0.4.25, made from a
# bare python3 when missing or when its requirements change), one process per dtype (x64 on
# only for float64); then ntklib alone on the learners' stack (.venv, current jax) for the
# same cells; then widget latency and notebook times in .venv; writes
# benchmarks/results.json and benchmarks/RESULTS.md.
# BENCH_ARGS go to the first benchmarks/ntk_bench.py: the empirical-NTK grid (72 cells) stops
# starting cells after --budget-min 60 minutes, half per dtype (the whole grid takes hours on
# 2 cores: e.g. BENCH_ARGS="--budget-min 600"); the target cell and parts 2-4 always run.
BENCH_VENV   ?= .venv-bench
BENCH_BIN    := $(BENCH_VENV)/bin
BENCH_STAMP  := $(BENCH_VENV)/.bench-installed
BENCH_ARGS   ?=

$(BENCH_STAMP): benchmarks/requirements-bench.txt pyproject.toml
	@test -x $(BENCH_BIN)/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BENCH_BIN)/python -m pip install --quiet --disable-pip-version-check \
	  -r benchmarks/requirements-bench.txt
	$(BENCH_BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

bench: $(BENCH_STAMP) $(STAMP)
	@mkdir -p build/bench
	$(BENCH_BIN)/python benchmarks/ntk_bench.py --out build/bench/ntk.jsonl $(BENCH_ARGS)
	$(BIN)/python benchmarks/ntk_bench.py --out build/bench/ntk-learners.jsonl \
	  --ntklib-only --cells-from build/bench/ntk.jsonl
	@# a failure here (e.g. the widget layer mid-rewrite) must not lose the measurements above
	-$(BIN)/python benchmarks/notebook_bench.py --out build/bench/notebooks.json
	-$(BIN)/python benchmarks/binder_limits.py --out build/bench/binder_limits.json
	$(BIN)/python benchmarks/report.py build/bench/ntk.jsonl build/bench/ntk-learners.jsonl \
	  --notebooks build/bench/notebooks.json --binder build/bench/binder_limits.json

# Point every Binder badge of README.md at [project.urls] Repository of pyproject.toml.
readme:
	$(PYTHON) tools/binder.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build
