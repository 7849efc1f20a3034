"""Readiness of the components the app depends on (used by /health and `cli health`)."""

from __future__ import annotations

from icc_app.core.db import database_status
from icc_app.core.redis import redis_status
from icc_app.core.storage import get_storage


def check_health() -> dict:
    checks = {}
    for name, probe in (("database", database_status), ("redis", redis_status), ("storage", lambda: get_storage().status())):
        ok, detail = probe()
        checks[name] = {"ok": ok, "detail": detail}
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "degraded", "checks": checks}
