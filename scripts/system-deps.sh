#!/usr/bin/env bash
# Debian packages the test suite needs beside the running PostgreSQL and Redis: PostGIS for the running
# PostgreSQL major version, and Chromium for the browser tests. Installs only what is missing.
set -euo pipefail
need=()
PG_MAJOR="$(psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -Atc 'show server_version_num' 2>/dev/null | cut -c1-2 || true)"
PG_MAJOR="${PG_MAJOR:-15}"
if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then need+=("postgresql-$PG_MAJOR-postgis-3"); fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo ">> installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
