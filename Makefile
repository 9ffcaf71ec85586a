# fbs-debitor. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE ?= sqlite:///./fbs-debitor.db
BENCH_DB ?= both

.DEFAULT_GOAL := help

.PHONY: help install vendor run test lint unit integration bench test-setup clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F ':.*?## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=77"
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) vendor ## Create .venv, install the package with its dev tools and the front-end files from npm

# Front-end files come from npm (package.json + package-lock.json, `npm ci`, install scripts off) and
# are copied into the package at build time, never committed, never loaded from a CDN. One line per
# file: <path under node_modules>=<folder under $(VENDOR_DIR)>. A new package adds its lines here.
VENDOR_DIR := src/fbs_debitor/web/static/vendor
NPM_STAMP := node_modules/.installed
VENDOR_FILES := \
	swagger-ui-dist/swagger-ui-bundle.js=swagger-ui \
	swagger-ui-dist/swagger-ui.css=swagger-ui \
	swagger-ui-dist/favicon-32x32.png=swagger-ui \
	swagger-ui-dist/LICENSE=swagger-ui

$(NPM_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

vendor: $(NPM_STAMP) ## Copy the front-end files from node_modules into the package (static/vendor)
	@set -e; for item in $(VENDOR_FILES); do \
		source="node_modules/$${item%%=*}"; target="$(VENDOR_DIR)/$${item##*=}"; \
		mkdir -p "$$target"; cp "$$source" "$$target/"; \
	done

run: install ## Start API, worker and scheduler on SQLite with a demo municipality (http://127.0.0.1:8000)
	$(BIN)/fbs-debitor serve --demo --database $(DATABASE)

test-setup: install ## Install what the tests need beyond Python (Debian chromium for browser tests)
	@if ls tests/e2e/browser/test_*.py >/dev/null 2>&1 && ! command -v chromium >/dev/null; then \
		echo "installing Debian chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium); \
	fi

lint: install ## Ruff, ruff format, mypy (strict on core, contracts, messaging, debtor), import-linter
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The long fault-test variants (marker `slow`) run when CI=true or with SLOW=1.
PYTEST_MARK := $(if $(or $(filter true 1,$(CI)),$(SLOW)),,-m "not slow")

# Line coverage of src/fbs_debitor that `make test` requires: the full run (-m "not slow")
# measured 91.5 % (7582 statements, 643 missed), rounded down, minus 1. Only `make test` enforces it.
COV_FAIL_UNDER ?= 90
COVERAGE := --cov=fbs_debitor --cov-report=term:skip-covered --cov-fail-under=$(COV_FAIL_UNDER)

test: test-setup lint ## Lint, then every test (integration tests on SQLite and PostgreSQL; SLOW=1 adds the long fault tests, CI runs them) with its line coverage and floor
	$(BIN)/pytest -q $(PYTEST_MARK) $(COVERAGE)

unit: install ## Only the fast unit tests (no coverage floor)
	$(BIN)/pytest -q tests/unit

integration: install ## Only the integration tests (both databases; no coverage floor)
	$(BIN)/pytest -q tests/integration

bench: install ## Run every benchmark (a few minutes) and write docs/benchmarks.md
	$(BIN)/python -m bench.all --database $(BENCH_DB)

clean: ## Remove the virtualenv, caches and the embedded database
	rm -rf $(VENV) node_modules $(VENDOR_DIR) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* fbs-debitor.db fbs-debitor.db-*
