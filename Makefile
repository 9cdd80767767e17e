# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
APT_PACKAGES := redis-server chromium postgresql fonts-dejavu-core nginx systemd

.PHONY: install install-prod run dev test lint format bench system-deps migrate static smoke clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || PY=python3; \
	test -x $(BIN)/python || $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Production (docs/deployment.md): the game and its dependencies only, without the development
# extras (pytest, Playwright, ruff, ...).
PROD_STAMP := $(VENV)/.installed-prod
$(PROD_STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || PY=python3; \
	test -x $(BIN)/python || $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@touch $(PROD_STAMP)

install-prod: $(PROD_STAMP)

# Debian packages the tests drive for real (Redis, PostgreSQL, Chromium); installed only if missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

migrate: install
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py load_default_scenario

# Debug off serves static files under hashed names from a manifest: collect them (under a second;
# the server refuses to start on a missing or outdated collection).
static: install
	@$(BIN)/python manage.py collectstatic --noinput -v 0

# The classroom: debug off, a generated secret key in the var directory, allowed hosts from this
# machine's addresses. `make run HOST=0.0.0.0 PORT=8123` lets phones on the room's network join.
# `serve` checks, prints the students' and instructor's URLs (and a one-time login link), then
# runs Daphne.
run: migrate static
	@$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Development: Django's debug pages and static files straight from static/.
dev: migrate
	@DJANGO_DEBUG=1 $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

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
