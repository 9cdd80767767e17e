# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
APT_PACKAGES := redis-server chromium postgresql fonts-dejavu-core

.PHONY: install run test lint format bench system-deps migrate smoke clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || PY=python3; \
	test -x $(BIN)/python || $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Debian packages the tests drive for real (Redis, PostgreSQL, Chromium); installed only if missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

migrate: install
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py load_default_scenario
	$(BIN)/python manage.py ensure_instructor

run: migrate
	@echo "Serving on http://$(HOST):$(PORT)/  (instructors: http://$(HOST):$(PORT)/host/)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) negotiation.asgi:application

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The database-dependent tests that run a second time on a throwaway PostgreSQL cluster.
PG_TESTS := tests/test_services.py tests/test_consumers.py tests/test_concurrency.py tests/test_foundation.py

test: install system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(BIN)/python tests/run_with_postgres.py -q -p no:cacheprovider $(PG_TESTS)

bench: install system-deps
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_actions.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
