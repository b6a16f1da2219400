# civicloop — the two commands a newcomer needs: `make run` and `make test`.
# Works as root on a fresh Debian 12 (installs python3-venv when missing) and as an ordinary user.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt only when pyproject.toml changes (or the venv is missing).
STAMP := $(VENV)/.civicloop-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test test-slow lint venv vendor docs

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	    || { echo "civicloop needs Python >= 3.11; $(PYTHON) is $$($(PYTHON) -V 2>&1)" >&2; exit 1; }; \
	  if ! $(PYTHON) -m venv $(VENV) >/dev/null 2>&1; then \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "python3 -m venv failed: installing python3-venv with apt-get"; \
	      apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	      $(PYTHON) -m venv $(VENV); \
	    else \
	      echo "python3 -m venv failed; install the venv module (Debian: sudo apt-get install python3-venv)" >&2; \
	      exit 1; \
	    fi; \
	  fi; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# Provisions a private PostGIS in .civicloop/ (no DATABASE_URL needed), migrates, loads the demo once.
run: venv
	$(BIN)/civicloop serve --host $(HOST) --port $(PORT)

# pytest exits 5 when no test ran; make fails on any non-zero exit, so "no tests" fails the build.
# One worker per core (pytest-xdist); each worker gets its own test database.
test: venv
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

# The comparisons with pabutools that take minutes each (Lodz and Wroclaw, MES + add1).
test-slow: venv
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Refresh the app's vendored browser libraries from the npm registry (no node needed): the versions are in
# mobile_client/vendoring.py, the files and their sha512 in mobile_client/vendor/lock.json.
vendor: venv
	$(BIN)/python -m mobile_client.vendoring
	$(BIN)/python -m mobile_client.vendoring --check

# mypy reads its configuration (the packages it checks, plugins, strictness) from pyproject.toml.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The README's settings table and docs/errors.md, generated from the code (a test checks they are current).
docs: venv
	$(BIN)/python -m api.docs_tables
