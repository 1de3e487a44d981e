# QuantumTrader — the front door. Needs only Python >= 3.11, pip and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE ?= $(or $(QUANTUMTRADER_SAMPLE_DATA),../shared/data/b3_dol_tt_20181105)

.PHONY: help venv demo test lint typecheck contracts unit bench clean clean-numba format

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv and install the project with its dev tools

demo: $(STAMP)  ## import the real B3 day, backtest the agent hierarchy, write an HTML report
	$(BIN)/quantumtrader demo

lint: $(STAMP)  ## ruff lint + format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)  ## apply ruff formatting and safe fixes
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: $(STAMP)  ## mypy --strict on src/
	$(BIN)/mypy

contracts: $(STAMP)  ## import-linter layer contracts (an upward import fails)
	$(BIN)/lint-imports

unit: $(STAMP)  ## pytest only
	$(BIN)/pytest -m "not benchmark"

test: lint typecheck contracts unit  ## lint + type checks + layer contracts + tests

bench: $(STAMP)  ## benchmarks: B3 day (import, features, replay), order book, L2 replay, feature library, bus and paper latency
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/book.py
	$(BIN)/python benchmarks/features.py
	$(BIN)/python benchmarks/bus.py

clean-numba:  ## drop compiled numba kernels (after editing a module that other kernels call)
	find src -name '*.nb[ic]' -delete

clean:  ## remove the venv, caches and generated results
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist src/*.egg-info results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
