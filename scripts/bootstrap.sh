#!/usr/bin/env bash
# Idempotent set-up: virtualenv with pinned requirements, bun for Reflex, a .env with fresh secrets.
# Usage: scripts/bootstrap.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
MODE="${1:-runtime}"
PY="${PYTHON:-python3}"
# The hashed lock files (scripts/lock.sh writes them from requirements*.txt) are what gets installed.
REQ=requirements.lock
[ "$MODE" = dev ] && REQ=requirements-dev.lock
if [ "$(head -1 "$REQ" | sed 's/.*inputs-sha256: //')" != "$(scripts/lock-inputs.sh)" ]; then
  echo "!! $REQ is older than requirements*.txt: run scripts/lock.sh and commit the lock files" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo ">> creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
STAMP=".venv/.installed-$MODE"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$(sha256sum "$REQ")" ]; then
  echo ">> installing $REQ"
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r "$REQ"
  sha256sum "$REQ" > "$STAMP"
fi

BUN_VERSION="$(.venv/bin/python -c 'from reflex import constants; print(constants.Bun.VERSION)')"
if [ ! -x "$REFLEX_BUN_PATH" ] || [ "$("$REFLEX_BUN_PATH" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  echo ">> installing bun $BUN_VERSION from the npm registry"
  npm install --prefix .tools --ignore-scripts --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null
fi

# The browser tests' accessibility checker (tests/e2e/a11y.py loads it into the page).
AXE_VERSION=4.10.3
if [ "$MODE" = dev ] && [ "$(node -p "require('./.tools/node_modules/axe-core/package.json').version" 2>/dev/null)" != "$AXE_VERSION" ]; then
  echo ">> installing axe-core $AXE_VERSION from the npm registry"
  npm install --prefix .tools --ignore-scripts --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
fi

.venv/bin/python -m icc_app.cli init-env >/dev/null
