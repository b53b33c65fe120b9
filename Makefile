# The verbs a newcomer looks for. `make dev` runs the local stack; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
SAM_VENV := .tools/sam
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: install dev test test-unit test-integration test-e2e lint format typecheck validate build \
        invoke-ingest bench bench-ingest bench-worker bench-outbound bench-reconcile deploy clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/deps/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

dev: install  ## the local stack: moto as AWS, the API on 127.0.0.1:3000
	$(BIN)/switchboard local up

# The tiers that run handlers end with the IAM check, which renders template.yaml with the SAM tools' translator.
# Two pytest-xdist workers (CI has two cores); a file runs whole on one worker, so an e2e module keeps its
# order on that worker's own stack. Files in collection order: the long e2e waits start first, unit ends.
PYTEST := $(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder
test: install $(SAM_VENV)/.installed  ## every test tier: unit, integration (moto), e2e (local stack over HTTP)
	$(PYTEST)

test-unit: install
	$(PYTEST) tests/unit
test-integration: install $(SAM_VENV)/.installed
	$(PYTEST) tests/integration
test-e2e: install $(SAM_VENV)/.installed
	$(PYTEST) tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy finds shared/ through pyproject's mypy_path, so every run checks against this tree's switchboard; only
# third-party packages without types are ignored. A function's app.py is module "app", as in Lambda, and each
# test tier has its own "conftest" and imports its siblings by bare name (pytest's sys.path): those names clash
# in one run, so one run per handler and one per tier. The first run covers shared/ and bench/ (pyproject files).
TEST_TIERS := tests/unit tests/integration tests/e2e
typecheck: install  ## mypy over shared/, bench/, each function and each test tier
	$(BIN)/mypy
	for handler in functions/*/app.py; do $(BIN)/mypy "$$handler" || exit 1; done
	$(BIN)/mypy tests/*.py
	for tier in $(TEST_TIERS); do $(BIN)/mypy "$$tier" || exit 1; done

validate: install $(SAM_VENV)/.installed  ## template checks, offline
	$(BIN)/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint

# sam build ships no bytecode and Lambda cannot write it: without the second step every cold start compiles (ADR 0019).
build: $(SAM_VENV)/.installed  ## sam build needs python3.12 on PATH: the venv's own
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build
	$(PYTHON) scripts/precompile_artifacts.py .aws-sam/build

invoke-ingest: build  ## needs Docker (sam local); without it use `make dev` and curl
	$(SAM_VENV)/bin/sam local invoke IngestFunction -e events/ingest/twilio_inbound_sms.json

bench: bench-ingest bench-worker bench-outbound bench-reconcile
bench-ingest: install
	$(BIN)/python -m bench.ingest
bench-worker: install
	$(BIN)/python -m bench.worker
bench-outbound: install
	$(BIN)/python -m bench.outbound
bench-reconcile: install
	$(BIN)/python -m bench.reconcile

deploy: build
	$(SAM_VENV)/bin/sam deploy

clean:
	rm -rf $(VENV) .tools .aws-sam .local .pytest_cache .ruff_cache .mypy_cache
