# ShiftBench: `make serve` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: setup serve test test-engine test-postgres test-redis bench lint chromium graphviz demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) graphviz

# Debian's chromium for the browser tests (Playwright never downloads a browser of its own here).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's Graphviz: `dot` lays out the entity graphs (pages without it show a plain list and say so).
graphviz:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; fi; }

# The demo is imported only when missing: a restart must not put the file's version back over an author's edits.
demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_configuration examples/demo/demo.yml --name demo --if-missing --message "demo, loaded by make serve"
	$(PY) manage.py import_configuration examples/demo/demo-v2.yml --name demo-v2 --if-missing --message "demo as a format-2 project, loaded by make serve"

serve: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py ensure_login_user --url http://$${SHIFTBENCH_BIND:-127.0.0.1:8000}/
	$(VENV)/bin/honcho start

test: setup chromium
	$(VENV)/bin/pytest

# The same suite on PostgreSQL and the worker tests on the Redis broker (CI runs both; see .ci/run).
test-postgres: setup chromium
	SHIFTBENCH_DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest

# The engine and configuration tests alone, e.g. on another Python:
#   make test-engine PYTHON=python3.13 VENV=.venv3.13
test-engine: setup
	$(VENV)/bin/pytest tests/shapeshift tests/configurations

test-redis: setup
	SHIFTBENCH_TEST_REDIS_URL=$(REDIS_URL) $(VENV)/bin/pytest -m redis

bench: setup
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/api_latency.py
	$(PY) benchmarks/run_latency.py
	$(PY) benchmarks/full_run.py --worker
	$(PY) benchmarks/explorer.py
	$(PY) benchmarks/diff.py
	$(PY) benchmarks/history.py
	$(PY) benchmarks/hostile.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
