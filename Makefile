# The one entry point a contributor learns. Every target sets itself up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench bench-presidio clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install ChatKeeper with its development tools

demo: $(STAMP)  ## build the demo archive (SQLite + a local folder) and show what to try
	$(BIN)/chatkeeper demo

test: $(STAMP)  ## the whole test suite (SQLite always; PostgreSQL and MariaDB where they answer)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## formatting, lint, types and the layer contracts
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)  ## the benchmarks (minutes; results go to bench/out and docs/benchmarks.md)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.pii_accuracy
	$(BIN)/python -m bench.privacy_ingest

bench-presidio: $(STAMP)  ## the Presidio baseline (installs presidio-analyzer into .venv)
	$(BIN)/pip install --quiet -r bench/requirements-presidio.txt
	$(BIN)/python -m bench.pii_presidio

clean:
	rm -rf $(VENV) chatkeeper-demo chatkeeper-data .pytest_cache .mypy_cache .ruff_cache
