# Two commands for a fresh machine: `make run` (the demo clinic) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOMEWORK_DB ?= data/homework.duckdb
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test test-fast lint install install-test browser postgres axe-core demo-db backup restore bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PIP) install --quiet -r requirements-test.txt -c constraints.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

# Debian's PostgreSQL for the server-mode tests: bench/postgres_server.py starts a throwaway cluster
# of its own in a temporary directory (as the package's postgres user when run as root).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ($(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql)

# axe-core for the accessibility browser test: one pinned release from the npm registry, refused
# unless its sha512 is the pinned one, unpacked to .cache/axe-core/ (tests/e2e/axe_core.py: Python
# only, no Node). Nothing to do when it is already there.
axe-core:
	python3 -m tests.e2e.axe_core

demo-db: install
	@[ -f "$(HOMEWORK_DB)" ] || $(PY) -m ops.demo "$(HOMEWORK_DB)"

# ui/serve.py: `streamlit run app.py` with the database, and so the reminder scheduler, opened first.
run: demo-db
	@echo "Demo logins (password for all: homework-demo): client01, therapist1, supervisor, admin"
	@echo "Open http://localhost:$(PORT)"
	HOMEWORK_DB="$(HOMEWORK_DB)" $(PY) -m ui.serve --server.port $(PORT)

test: lint browser postgres axe-core
	$(PY) -m pytest

# The inner loop: everything but the browser tests and the slow ones (markers in pyproject.toml),
# on two workers. Bytecode is cached (__pycache__/, git-ignored) even where the environment says
# not to: compiling and assertion-rewriting every module again costs each worker ~7 s per run.
test-fast: install-test postgres
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -m "not browser and not slow" -q -n 2

# ruff's lint rules and its formatter's check, then mypy's type check of data_layer/ and clinical/
# (every function annotated; settings in pyproject.toml); `make test` runs it first.
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The large-clinic benchmark, in three parts that take minutes each; not part of `make test`.
# bench/run.py: every page and query for one user at a time at sizes S, M and L (one table,
# bench-results/latest.json). bench/concurrency.py: the real server under N concurrent sessions
# per role over its websocket, at sizes S and L (bench-results/concurrency.json). bench/scheduler.py:
# the reminder scheduler's minute at L, 1,000 ticks of a fake clock measured after 1,000 settling (bench-results/scheduler.json).
# bench/engines.py: the pages and the write path on DuckDB and on PostgreSQL side by side, at M and L
# (bench-results/engines.json). bench/processes.py: page runs/s with 1, 2 and 4 app processes on one
# PostgreSQL, driven by the concurrency benchmark's load generator (bench-results/processes.json).
bench: install-test postgres
	$(PY) -m bench.run
	$(PY) -m bench.concurrency
	$(PY) -m bench.scheduler
	$(PY) -m bench.engines --sizes M L
	$(PY) -m bench.processes

# Back up the database to Parquet + manifest (a running app writes the snapshot itself); in server
# mode (HOMEWORK_DB a postgresql:// URL) a pg_dump of one snapshot + manifest.
# Backups go only into HOMEWORK_BACKUP_DIR (the app's setting); BACKUP_DIR must lie inside it.
# Restore into a NEW file (OVERWRITE=1 to replace an existing one), or a new, empty PostgreSQL database.
HOMEWORK_BACKUP_DIR ?= backups
BACKUP_DIR ?= $(HOMEWORK_BACKUP_DIR)/$(shell date +%Y%m%d-%H%M%S)

backup: install
	HOMEWORK_BACKUP_DIR="$(HOMEWORK_BACKUP_DIR)" $(PY) -m ops.backup backup "$(HOMEWORK_DB)" "$(BACKUP_DIR)"

restore: install
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || { echo "usage: make restore FROM=backups/DIR TO=new.duckdb [OVERWRITE=1] (or TO=postgresql://.../new_database)"; exit 2; }
	$(PY) -m ops.backup restore "$(FROM)" "$(TO)" $(if $(OVERWRITE),--overwrite)
