"""The shared Redis client (rate limits, caches); None in embedded mode."""

from __future__ import annotations

import functools

import redis

from icc_app.settings import get_settings


@functools.cache
def get_redis() -> redis.Redis | None:
    url = get_settings().redis_url
    if url is None:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, decode_responses=True)


def redis_status() -> tuple[bool, str]:
    client = get_redis()
    if client is None:
        return True, "not configured (embedded mode: in-process tasks and rate limits)"
    try:
        client.ping()
        return True, "ok"
    except redis.RedisError as exc:
        return False, f"{type(exc).__name__}: {exc}"[:200]
