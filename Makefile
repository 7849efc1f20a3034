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

.PHONY: help setup setup-dev run test up worker beat migrate seed bench clean

help:
	@echo "make run    - the app on the embedded default (SQLite, in-process tasks, demo data) at http://localhost:$(PORT)"
	@echo "make test   - the whole suite against PostgreSQL+PostGIS, Redis and headless Chromium"
	@echo "make up     - full stack: PostgreSQL+PostGIS, Redis, Celery worker + beat, app"
	@echo "make worker | beat | migrate | seed | bench | clean"

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
	@$(ENV) exec .venv/bin/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

test: setup-dev
	@scripts/system-deps.sh
	@$(ENV) $(PY) -m pytest $(PYTEST_ARGS)

up: setup
	@scripts/system-deps.sh
	@psql "$(FULL_DATABASE_URL)" -c 'select 1' >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres icc
	@export DATABASE_URL="$(FULL_DATABASE_URL)" REDIS_URL="$(FULL_REDIS_URL)" REFLEX_REDIS_URL="$(FULL_REDIS_URL)"; \
	$(PY) -m icc_app.cli migrate && $(PY) -m icc_app.cli seed && \
	mkdir -p var/log && \
	(.venv/bin/celery -A workers.celery_app worker -Q default,cqi,notifications --loglevel=INFO > var/log/worker.log 2>&1 &) && \
	(.venv/bin/celery -A workers.celery_app beat --schedule var/celerybeat-schedule --loglevel=INFO > var/log/beat.log 2>&1 &) && \
	echo "Worker and beat logs: var/log/. App at http://localhost:$(PORT)" && \
	$(ENV) .venv/bin/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT); \
	pkill -f "celery -A workers.celery_app" || true

worker: setup
	.venv/bin/celery -A workers.celery_app worker -Q default,cqi,notifications --loglevel=INFO

beat: setup
	@mkdir -p var
	.venv/bin/celery -A workers.celery_app beat --schedule var/celerybeat-schedule --loglevel=INFO

migrate: setup
	$(PY) -m icc_app.cli migrate

seed: setup
	$(PY) -m icc_app.cli seed

bench: setup-dev
	@scripts/system-deps.sh
	$(ENV) $(PY) -m bench $(ARGS)

clean:
	rm -rf .web .states var/icc.db* var/media
