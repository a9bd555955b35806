# ntk-notebooks: two commands from a bare machine (only python3 and make on PATH).
#   make lab    create .venv if missing, install, start JupyterLab on notebooks/
#   make test   the same install, then ruff and the whole pytest suite (unit tests + nbval)
# The install is skipped when pyproject.toml has not changed since the last one.

SHELL        := /bin/bash
PYTHON       ?= python3
VENV         ?= .venv
BIN          := $(VENV)/bin
STAMP        := $(VENV)/.ntklib-installed
JUPYTER_ARGS ?=
PYTEST_ARGS  ?=
# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG    := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: install lab test lint notebooks readme clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(ROOT_FLAG) $(JUPYTER_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-run every notebook top to bottom in a fresh kernel and store its outputs
# (then strip volatile metadata, keeping outputs and execution counts).
notebooks: $(STAMP)
	@set -e; for nb in notebooks/*.ipynb; do \
	  echo "executing $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 "$$nb"; \
	  $(BIN)/nbstripout --keep-output --keep-count "$$nb"; \
	done

# Point every Binder badge of README.md at [project.urls] Repository of pyproject.toml.
readme:
	$(PYTHON) tools/binder.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build
