# Two commands on a fresh machine: `make lab` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LAB_ARGS ?=
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: lock lab test install frontend test-python test-js test-ui test-studio ui-deps chromium bench bench-runtime clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Python package (editable) with its frontend built by the hatch build hook, plus test extras.
# constraints.txt pins the versions this project was last tested with: without it pip can
# spend over 25 minutes backtracking through aiobotocore/s3fs releases (sagemaker 3.x + moto).
$(VENV)/.installed: $(BIN)/python pyproject.toml package.json constraints.txt
	$(PY) -m pip install -c constraints.txt -e ".[test,serve]"
	$(BIN)/jupyter-builder develop --overwrite .
	$(BIN)/jupyter server extension enable jupyter_smops --sys-prefix
	touch $@

install: $(VENV)/.installed

frontend: install
	$(BIN)/jlpm install
	$(BIN)/jlpm build

lab: frontend
	SMOPS_BACKEND=$${SMOPS_BACKEND:-local} $(BIN)/jupyter lab --notebook-dir=examples $(LAB_ARGS)

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium shellcheck; }
	@command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }

ui-tests/node_modules/.installed: ui-tests/package.json
	cd ui-tests && YARN_ENABLE_IMMUTABLE_INSTALLS=false ../$(BIN)/jlpm install
	touch $@

ui-deps: ui-tests/node_modules/.installed

test-python: install
	$(BIN)/pytest -q -p no:cacheprovider tests

test-js: frontend
	$(BIN)/jlpm test

test-ui: frontend chromium ui-deps
	cd ui-tests && ../$(BIN)/jlpm playwright test

# The Studio profile alone (also part of `make test`): the wheel in each image of studio/images.toml.
test-studio: install chromium ui-deps
	$(PY) studio/run.py

test: install frontend chromium ui-deps
	@bash .ci/suites

bench: install
	$(PY) bench/packaging.py

# The runtime route against the endpoint's own URL (issue 16), driven by wrk from Debian.
bench-runtime: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PY) bench/runtime.py

# Refresh constraints.txt from the current venv after changing dependencies.
lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v -i '^jupyter.smops' > constraints.txt

clean:
	rm -rf lib jupyter_smops/labextension tsconfig.tsbuildinfo
