# The README's commands. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres test-e2e lint format clean bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/wardflow db upgrade
	$(BIN)/wardflow seed demo --if-empty
	@echo ""
	@echo "  Wardflow is starting on http://$(HOST):$(PORT)"
	@echo "  Sign in as admin, nurse, bedmanager, safeguarding or director; password: wardflow-demo"
	@echo ""
	$(BIN)/wardflow serve --host $(HOST) --port $(PORT)

# Every test, on SQLite and on PostgreSQL at once (tests/run_passes.py: each pass's output
# printed whole when it ends, fails if either fails). PostgreSQL is skipped with a message
# when not reachable; under CI=true that is a failure. Browser tests run in the SQLite pass.
# Each run works in databases of its own (PG_TEST_URL's name is only a prefix), so two
# `make test` runs beside each other on one machine do not meet. PYTEST_ARGS go to both.
test: install
	$(BIN)/python -m tests.run_passes $(PG_TEST_URL) $(PYTEST_ARGS)

test-sqlite: install
	$(BIN)/pytest -m "not e2e"

test-postgres: install
	WARDFLOW_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not e2e"

test-e2e: install
	$(BIN)/pytest -m e2e

# The national-scale benchmark (bench/README.md): builds the synthetic sets (reused while
# fresh), measures them beside their limits, writes bench/results/. Not part of `make test`.
# Sizes and more from BENCH_* variables, e.g. `make bench BENCH_SIZES=250000`.
bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check app tests alembic
	$(BIN)/ruff format --check app tests alembic
	$(BIN)/mypy app

format: install
	$(BIN)/ruff format app tests alembic
	$(BIN)/ruff check --fix app tests alembic

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
