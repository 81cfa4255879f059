# ciderlab's two commands (see README.md):
#   make        environment -> raw data pull + verification -> dvc repro -> book/_build/html
#   make test   environment -> test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
# Our own progress bars stay; DVC's and pip's chatter goes.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# The smoke test runs `make repro VENV=<its venv> ENV_TARGET=` to use the environment it runs in.
ENV_TARGET ?= env

.PHONY: all env data repro test
all: repro
	@echo "The book is at book/_build/html/index.html"

env: $(VENV)/.installed

# Every package at the exact version in requirements.lock; bytecode compiled at install time
# (imports are twice as slow otherwise); the project itself installed editable, without
# touching the network for a build backend.
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "ciderlab needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet --compile -r requirements.lock
	$(BIN)/python -m pip install --quiet --compile --no-deps --no-build-isolation -e .
	@touch $@

# Pull (or re-verify) the raw archives, then prove they are the snapshot data.dvc records:
# "not in cache" is fine (same hash, cache empty), "modified" means different bytes.
data: $(ENV_TARGET)
	$(BIN)/ciderlab pull --out data/raw
	@status="$$($(BIN)/dvc status data.dvc)"; \
	if grep -q "modified" <<<"$$status"; then \
	  echo "$$status"; \
	  echo "error: data/ is not the raw snapshot recorded in data.dvc; move it aside and run make again" >&2; \
	  exit 1; \
	fi
	$(BIN)/dvc commit --force --quiet data.dvc

repro: data
	$(BIN)/dvc repro

# The smoke run of the real pipeline (minutes, mostly one-process stages) and the unit tests
# run side by side on the two cores: 13 min instead of 16 (benchmarks/results/timings.jsonl).
# The unit tests report as they go; the smoke run's report follows. Either failing fails.
SMOKE_LOG := $(CURDIR)/.smoke-test.log
test: env
	@$(BIN)/python -m pytest -m smoke -p no:cacheprovider > $(SMOKE_LOG) 2>&1 & smoke=$$!; \
	trap 'kill $$smoke 2>/dev/null' INT TERM; \
	$(BIN)/python -m pytest -m "not smoke"; unit=$$?; \
	wait $$smoke; smoke_status=$$?; \
	echo "--- the smoke run of the real pipeline (tests/test_smoke.py) ---"; cat $(SMOKE_LOG); \
	test $$unit -eq 0 -a $$smoke_status -eq 0
