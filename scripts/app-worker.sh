#!/usr/bin/env bash
# One more app worker (frontend + backend on one port) serving the build that `reflex run --env prod` already made
# in .web, without compiling again: what a load balancer spreads people over in the full stack.
# Needs the same environment as the first worker, in particular REFLEX_REDIS_URL (UI state shared through Redis)
# and REFLEX_API_URL (the load balancer's public address, baked into the build). See docs/operations.md.
# Usage: scripts/app-worker.sh PORT [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PORT="${1:?usage: scripts/app-worker.sh PORT [WORKERS]}"
WORKERS="${2:-1}"
[ -f .web/build/client/index.html ] || { echo "no build in .web: start the first worker with make up first" >&2; exit 1; }
[ -n "${REFLEX_REDIS_URL:-}" ] || { echo "REFLEX_REDIS_URL is not set: UI state would not be shared" >&2; exit 1; }
# Reflex's own switches for a production backend that mounts the compiled frontend (reflex/utils/exec.py).
export REFLEX_ENV_MODE=prod __REFLEX_SKIP_COMPILE=true __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true
exec .venv/bin/granian --interface asgi --factory --host "${HOST:-0.0.0.0}" --port "$PORT" --workers "$WORKERS" \
  icc_app.icc_app:app
