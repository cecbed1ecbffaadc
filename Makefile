# Two commands: `make run` and `make test`. Everything else they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
THREADS ?=
export FLASK_APP := xkxl_intranet
# The one serving command (waitress and its settings: xkxl_intranet/serving.py); bench_rush.py runs it too.
SERVE = $(BIN)/python -m xkxl_intranet.serving --host=$(HOST) --port=$(PORT) $(if $(THREADS),--threads=$(THREADS))

# CJK fonts for printing; harfbuzz-subset keeps WeasyPrint's font subsetting fast.
APT_RUN := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
# LibreOffice (Writer, no GUI) lets the tests export the 申报书模板 to PDF and read it back, as a
# clerk's WPS or LibreOffice would (tests/files/test_form_round_trip.py; skipped without it).
# logrotate: tests/ops/test_logrotate.py rotates a log with the shipped deploy/logrotate-xkxl.
APT_TEST := $(APT_RUN) chromium postgresql libreoffice-writer-nogui logrotate

.PHONY: run serve test lint typecheck test-fast test-postgres init-db bench deps-run deps-test apt-run apt-test clean

run: apt-run $(VENV)/.deps-run
	$(BIN)/flask init-db --demo
	@echo "系统已启动：http://$(HOST):$(PORT)/ （Ctrl+C 停止）"
	$(SERVE)

serve: $(VENV)/.deps-run
	$(SERVE)

init-db: $(VENV)/.deps-run
	$(BIN)/flask init-db

test: apt-test $(VENV)/.deps-test lint typecheck
	$(BIN)/pytest -q

lint: $(VENV)/.deps-test
	$(BIN)/ruff check .

# mypy, as configured in pyproject.toml: strict for domain/ and the services, default elsewhere.
typecheck: $(VENV)/.deps-test
	$(BIN)/mypy

test-fast: $(VENV)/.deps-test
	$(BIN)/pytest -q -m "not browser"

test-postgres: apt-test $(VENV)/.deps-test
	scripts/test-postgres.sh

bench: $(VENV)/.deps-test
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

apt-run:
	@scripts/apt-ensure.sh $(APT_RUN)

apt-test:
	@scripts/apt-ensure.sh $(APT_TEST)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps-run: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.deps-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.deps-run $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info

# ---- operations (docs/deploy.md) ----
.PHONY: backup restore bundle
BACKUP_DIR ?= backups

# A consistent backup while the app serves: backups/xkxl-backup-YYYYmmdd-HHMMSS-full.tar, then
# …-incr.tar with only the files new since (a full one again after 7 days); each with .sha256.
backup: $(VENV)/.deps-run
	@mkdir -p $(BACKUP_DIR)
	$(BIN)/flask backup $(BACKUP_DIR)

# make restore ARCHIVE=backups/xkxl-backup-….tar (into an empty instance; FORCE=1 to replace one).
restore: $(VENV)/.deps-run
	@test -n "$(ARCHIVE)" || { echo "用法：make restore ARCHIVE=备份文件 [FORCE=1]"; exit 2; }
	$(BIN)/flask restore $(ARCHIVE) $(if $(FORCE),--force)

# One archive to install on a server with no network: dist/xkxl_intranet-….tar.gz
bundle: $(VENV)/.deps-run
	$(BIN)/python scripts/bundle.py
