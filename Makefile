# lambdamaker: `make run` starts the platform, `make test` checks everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

# Reinstall only when the project's dependencies change; idempotent otherwise.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

run: install
	$(BIN)/lambdamaker server

lint: install
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m benchmarks.gateway --json .lambdamaker-bench-gateway.json
	$(BIN)/python -m benchmarks.functions --json .lambdamaker-bench-functions.json
	$(BIN)/python -m benchmarks.events --json .lambdamaker-bench-events.json
	$(BIN)/python -m benchmarks.streams --json .lambdamaker-bench-streams.json
	$(BIN)/python -m benchmarks.workflows --json .lambdamaker-bench-workflows.json

clean:
	rm -rf $(VENV) .lambdamaker .mypy_cache .ruff_cache
