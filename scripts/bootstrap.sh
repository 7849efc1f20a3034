#!/usr/bin/env bash
# Idempotent set-up: virtualenv with pinned requirements, bun for Reflex, a .env with fresh secrets.
# Usage: scripts/bootstrap.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
MODE="${1:-runtime}"
PY="${PYTHON:-python3}"
REQ=requirements.txt
[ "$MODE" = dev ] && REQ=requirements-dev.txt

if [ ! -x .venv/bin/python ]; then
  echo ">> creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
STAMP=".venv/.installed-$MODE"
if [ ! -f "$STAMP" ] || [ requirements.txt -nt "$STAMP" ] || [ "$REQ" -nt "$STAMP" ]; then
  echo ">> installing $REQ"
  .venv/bin/pip install -q --disable-pip-version-check -r "$REQ"
  touch "$STAMP"
fi

BUN_VERSION="$(.venv/bin/python -c 'from reflex import constants; print(constants.Bun.VERSION)')"
if [ ! -x "$REFLEX_BUN_PATH" ] || [ "$("$REFLEX_BUN_PATH" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  echo ">> installing bun $BUN_VERSION from the npm registry"
  npm install --prefix .tools --ignore-scripts --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null
fi

.venv/bin/python -m icc_app.cli init-env >/dev/null
