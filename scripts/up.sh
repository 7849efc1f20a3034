#!/usr/bin/env bash
# `make up`: the full stack on this machine: PostgreSQL+PostGIS, Redis, a Celery worker and beat, the app.
# Demo accounts are NOT loaded (their password is published); create the first admin with
# `.venv/bin/python -m icc_app.cli create-admin EMAIL`, or run `make seed ARGS=--demo` on a demo server.
# The worker and beat started here are tracked by PID and stopped on exit; no other process is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PORT="${PORT:-3000}"
export PUBLIC_URL="${PUBLIC_URL:-http://localhost:$PORT}"  # the websocket accepts this origin only
export DATABASE_URL="${FULL_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/icc}"
export REDIS_URL="${FULL_REDIS_URL:-redis://127.0.0.1:6379/0}"
export REFLEX_REDIS_URL="$REDIS_URL"
psql "$DATABASE_URL" -c 'select 1' >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres "${DATABASE_URL##*/}"
.venv/bin/python -m icc_app.cli migrate
mkdir -p var/log var/run
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f var/run/worker.pid var/run/beat.pid
}
trap stop EXIT INT TERM
.venv/bin/celery -A workers.celery_app worker -Q default,cqi,notifications --loglevel=INFO > var/log/worker.log 2>&1 &
pids+=($!); echo $! > var/run/worker.pid
.venv/bin/celery -A workers.celery_app beat --schedule var/celerybeat-schedule --loglevel=INFO > var/log/beat.log 2>&1 &
pids+=($!); echo $! > var/run/beat.pid
echo "Worker and beat logs: var/log/. App at http://localhost:$PORT"
.venv/bin/reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT"
