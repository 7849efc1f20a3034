# ICC platform. The README names two commands: `make run` and `make test`. The rest are for the full stack.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 3000
PY := .venv/bin/python
ENV := source scripts/env.sh &&
# Full-stack defaults (override on the command line or in the environment).
FULL_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/icc
FULL_REDIS_URL ?= redis://127.0.0.1:6379/0
export PYTHONUNBUFFERED := 1

.PHONY: help setup setup-dev run test lint up worker beat migrate seed bench clean clean-data

help:
	@echo "make run    - the app on the embedded default (SQLite, in-process tasks, demo data) at http://localhost:$(PORT)"
	@echo "make test   - the whole suite against PostgreSQL+PostGIS, Redis and headless Chromium"
	@echo "make up     - full stack: PostgreSQL+PostGIS, Redis, Celery worker + beat, app"
	@echo "make worker | beat | migrate | seed | bench | lint | clean"

setup:
	@scripts/bootstrap.sh runtime

setup-dev:
	@scripts/bootstrap.sh dev

run: setup
	@$(PY) -m icc_app.cli migrate
	@$(PY) -m icc_app.cli seed
	@echo
	@echo "ICC is starting at http://localhost:$(PORT)  (API docs: http://localhost:$(PORT)/api/docs)"
	@echo "The first start compiles the frontend (about a minute)."
	@$(ENV) PUBLIC_URL="$${PUBLIC_URL:-http://localhost:$(PORT)}" exec .venv/bin/reflex run --env prod --single-port \
	  --frontend-port $(PORT) --backend-port $(PORT)

test: setup-dev
	@scripts/system-deps.sh
	@$(ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: setup-dev
	@.venv/bin/ruff check .
	@test "$$(head -1 requirements-dev.lock | sed 's/.*inputs-sha256: //')" = "$$(scripts/lock-inputs.sh)" || \
	  { echo "requirements-dev.lock is stale: run scripts/lock.sh"; exit 1; }
	@echo "lint: ok"

up: setup
	@scripts/system-deps.sh
	@PORT=$(PORT) FULL_DATABASE_URL="$(FULL_DATABASE_URL)" FULL_REDIS_URL="$(FULL_REDIS_URL)" scripts/up.sh

worker: setup
	.venv/bin/celery -A workers.celery_app worker -Q default,cqi,notifications --loglevel=INFO

beat: setup
	@mkdir -p var
	.venv/bin/celery -A workers.celery_app beat --schedule var/celerybeat-schedule --loglevel=INFO

migrate: setup
	$(PY) -m icc_app.cli migrate

seed: setup
	$(PY) -m icc_app.cli seed $(ARGS)

bench: setup-dev
	@scripts/system-deps.sh
	$(ENV) $(PY) -m bench $(ARGS)

# Build output only. The embedded database and uploaded files are data: `make clean-data` asks first.
clean:
	rm -rf .web .states

clean-data:
	@read -r -p "Delete the embedded database var/icc.db and every uploaded file under var/media? [y/N] " answer; \
	  [ "$$answer" = y ] || [ "$$answer" = Y ] || { echo "kept"; exit 1; }
	rm -rf var/icc.db* var/media
