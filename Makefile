# Two commands: `make run` (embedded SQLite, tasks in-process) and `make test` (PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format install migrate load serve bench lock clean audit chromium wrk

CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

load: migrate
	$(BIN)/python manage.py load_syllabus
	$(BIN)/python manage.py load_bank
	$(BIN)/python manage.py carry_over --to MLA-C02
	@echo "Demo accounts:"
	@$(BIN)/python manage.py setup_demo

run: load
	@echo ""
	@echo "  MLA practice is starting at http://$(HOST):$(PORT)/ (MLA-C02 by default; MLA-C01 while it retires)"
	@echo "  Log in at http://$(HOST):$(PORT)/accounts/login/ with an account above:"
	@echo "    candidate   takes mock exams and drills (choose the exam version at /exams/)"
	@echo "    instructor  authors questions at http://$(HOST):$(PORT)/admin/"
	@echo "                (bank coverage: http://$(HOST):$(PORT)/admin/questions/question/coverage/)"
	@echo "    lead        sees cohort dashboards"
	@echo "  Or create your own account at http://$(HOST):$(PORT)/accounts/signup/: emails (the activation"
	@echo "  link) are printed in this terminal."
	@echo "  Data lives in db.sqlite3; tasks run in-process (set REDIS_URL to use Celery + Redis)."
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# $(call debian_package,PACKAGE,CHECK,PURPOSE,HOW): a Debian package a target needs. When CHECK fails, install
# PACKAGE if we may (root, apt-get); otherwise stop at once with the one command that fixes it (HOW), instead of
# failing a hundred tests later.
define debian_package
@if ! $(2); then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
    echo "Installing $(1) from Debian's packages $(3)."; \
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
  else \
    echo "$(4)"; \
    exit 1; \
  fi; \
fi
endef

# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
chromium:
	$(call debian_package,chromium,[ -x "$(CHROMIUM_PATH)" ],for the browser tests,The browser tests need Chromium at $(CHROMIUM_PATH): run 'sudo apt-get install chromium' (or set CHROMIUM_PATH to a Chromium binary).)
	@[ -x "$(CHROMIUM_PATH)" ] || { echo "No Chromium at $(CHROMIUM_PATH): set CHROMIUM_PATH to a Chromium binary."; exit 1; }

# The suite runs in parallel workers (pytest-xdist), each with its own PostgreSQL database and Redis database;
# many tests wait on a browser, a Celery worker or a server, so there are more workers than cores. Workers that
# run out of tests take some from the others (worksteal), so a few long tests do not leave the end to one worker.
# PYTEST_WORKERS=0 runs everything in this one process, e.g. with PYTEST_ARGS=tests/exams -x.
PYTEST_WORKERS ?= 3

test: lint chromium
	DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --extra dev \
		-o requirements-dev.lock pyproject.toml

# Known vulnerabilities in the pinned dependencies (PyPI's advisory data). Packages the index cannot answer
# for are listed as skipped; a vulnerable one fails the run.
audit: install
	$(BIN)/pip-audit --no-deps --disable-pip --progress-spinner off -r requirements-dev.lock

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache

# The benchmark's saturation runs use wrk, a load generator written in C, so that the generator is not the limit.
wrk:
	$(call debian_package,wrk,command -v wrk >/dev/null,for the benchmark,The benchmark needs wrk: run 'sudo apt-get install wrk'.)

bench: install wrk
	$(BIN)/python bench/run.py
