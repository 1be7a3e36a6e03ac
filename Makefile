# wapipe — `make up` runs the local stack (`make down` stops one left running), `make test` runs every check.
# Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: up down test lint typecheck unit integration e2e bench chaos schemas clean sysdeps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# System packages the checks need (promtool for the alert-rule tests); installed only when missing.
sysdeps:
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null) \
	      || echo "warning: could not install promtool (Debian package prometheus)"; \
	  else echo "warning: promtool missing; install Debian's prometheus package"; fi; }

up: $(STAMP)
	$(BIN)/wapipe up

down: $(STAMP)
	$(BIN)/wapipe down

test: $(DEVSTAMP) sysdeps
	$(BIN)/ruff check schemas services wapipe wapipe_tools tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(DEVSTAMP)
	$(BIN)/ruff check schemas services wapipe wapipe_tools tests bench

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

unit: $(DEVSTAMP)
	$(BIN)/pytest -q tests/unit

integration: $(DEVSTAMP)
	$(BIN)/pytest -q tests/integration

e2e: $(DEVSTAMP)
	$(BIN)/pytest -q tests/e2e

schemas: $(STAMP)
	$(BIN)/wapipe schemas export

bench: $(DEVSTAMP)
	$(BIN)/python -m bench.pipeline

chaos: $(DEVSTAMP)
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) .wapipe .pytest_cache .mypy_cache .ruff_cache
