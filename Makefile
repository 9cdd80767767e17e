# Two commands for a fresh machine: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
APT_PACKAGES := redis-server chromium postgresql fonts-dejavu-core nginx systemd gettext

.PHONY: install install-prod lock run dev test test-fast lint format bench bench-quick system-deps migrate static smoke clean axe messages compilemessages gettext-tools

# Every package is installed at the exact version and hash pinned in requirements.lock (pip and
# setuptools included), then the project itself without dependencies; `make lock` refreshes it.
LOCK_FLAGS := --extra dev --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links
PROD_LOCK_FLAGS := --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PY) >/dev/null || PY=python3; \
	test -x $(BIN)/python || $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=25.3'
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP) compilemessages

# The interface's translations (docs/translations.md): the .po files in locale/ are committed, the
# compiled .mo files are built here, from Debian's gettext (msgfmt), whenever a .po is newer.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
compilemessages: $(MO_FILES)
$(MO_FILES): %.mo: %.po
	@command -v msgfmt >/dev/null || $(MAKE) --no-print-directory gettext-tools
	@msgfmt --check-format --check-header -o $@ $<

# After changing any text of the interface: collect the messages into every language's .po
# (new ones untranslated, changed ones fuzzy: the tests fail until they are translated).
MAKEMESSAGES := $(BIN)/python manage.py makemessages --locale uk --locale ru --locale de --locale fr \
  --add-location file --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' \
  --ignore 'deploy/*' --ignore 'build/*'
messages: $(STAMP)
	@command -v xgettext >/dev/null || $(MAKE) --no-print-directory gettext-tools
	$(MAKEMESSAGES) --domain django
	$(MAKEMESSAGES) --domain djangojs
	$(MAKE) --no-print-directory compilemessages

# Production (docs/deployment.md): the game and its dependencies only, without the development
# extras (pytest, Playwright, ruff, ...), at the versions and hashes of requirements-prod.lock
# (with pip and setuptools, from build-requirements.in).
PROD_STAMP := $(VENV)/.installed-prod
$(PROD_STAMP): pyproject.toml requirements-prod.lock
	@command -v $(PY) >/dev/null || PY=python3; \
	test -x $(BIN)/python || $${PY:-$(PY)} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=25.3'
	$(BIN)/python -m pip install -q --require-hashes -r requirements-prod.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(PROD_STAMP)

install-prod: $(PROD_STAMP) compilemessages

# Re-resolve every dependency to the newest versions that pyproject.toml allows (both locks),
# then install them.
lock:
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install -q 'pip-tools>=7.5'
	$(BIN)/pip-compile --quiet --upgrade $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --upgrade $(PROD_LOCK_FLAGS) -o requirements-prod.lock pyproject.toml build-requirements.in
	$(MAKE) install

# Debian packages the tests drive for real (Redis, PostgreSQL, Chromium); installed only if missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Debian's gettext alone (msgfmt, xgettext): what compiling the translations needs, also on a
# production server (install-prod), which needs none of the test tools above.
gettext-tools:
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gettext >/dev/null

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
PG_TESTS := tests/test_services.py tests/test_consumers.py tests/test_concurrency.py tests/test_foundation.py tests/test_ownership.py tests/test_hardening.py tests/test_fast_paths.py tests/test_sessions.py

# axe-core for the accessibility checks of the browser tests: the npm package at the version and
# integrity pinned in tests/browser/axe/package-lock.json (npm from Debian if missing), never a CDN.
AXE_DIR := tests/browser/axe
AXE_STAMP := $(AXE_DIR)/node_modules/.installed
$(AXE_STAMP): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@command -v npm >/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error
	@touch $(AXE_STAMP)

axe: $(AXE_STAMP)

# The whole suite (Redis, PostgreSQL, Chromium, two workers; nothing skipped), then the database
# tests again on PostgreSQL; each pass lists its ten slowest tests. Most of the suite's time is
# spent waiting (servers starting, browsers, outages that last their length: about 0.6 of a core
# used on average), so each pass runs on TEST_WORKERS pytest-xdist processes. A test file stays on
# one of them (--dist loadfile), as its module-scoped servers and browser expect, and files are
# handed out in collection order (the long browser files first, short files last, so both
# processes finish together; xdist's default reorder would leave the one-test files, among them
# the slowest, to the end). TEST_WORKERS=0 runs a pass in one process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
test: install system-deps axe
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(XDIST) --durations=10 $(PYTEST_ARGS)
	$(BIN)/python tests/run_with_postgres.py -q -p no:cacheprovider $(XDIST) --durations=10 $(PG_TESTS)

# The lane for the change at hand: the engine, the services and the socket tests on SQLite and
# the in-memory channel layer (no Redis, PostgreSQL or Chromium); about a minute and a half.
FAST_TESTS := tests/engine tests/test_services.py tests/test_consumers.py
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser and not redis and not postgres" $(FAST_TESTS) $(PYTEST_ARGS)

# Every target of docs/performance.md in both configurations (about 12 minutes on 2 cores).
bench: install system-deps
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_actions.py
	$(BIN)/python bench/load.py

# The load test at a quarter of the size with 15 s phases, for development (about 3 minutes).
bench-quick: install system-deps
	$(BIN)/python bench/load.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(AXE_DIR)/node_modules
