# wa-notify: every target installs what it needs first (only python3 and make are assumed).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/uv/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-stamp
PYPROJECTS := pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml sandbox/pyproject.toml)

.PHONY: install run test test-fast lint format bench readme-api clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(STAMP): $(UV) $(PYPROJECTS)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $(STAMP)

install: $(STAMP)

## Start the whole service in embedded mode (PostgreSQL, Redis, sandbox and the four services).
run: install
	$(VENV)/bin/wa-notify up

## Lint, type-check and run every test.
test: install lint
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

## The inner loop: unit (domain) and API tests, no processes (tests/README.md says what goes where).
test-fast: install
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup -m "not e2e and not contract" tests/unit tests/api

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/common/src services/api/src services/worker/src services/webhook-receiver/src services/scheduler/src sandbox/src src

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Regenerate the README's API tables and examples from the served OpenAPI document.
readme-api: install
	$(VENV)/bin/wa-notify openapi --readme README.md

## Throughput and latency figures (printed, never asserted).
bench: install
	$(VENV)/bin/python -m bench.run

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
