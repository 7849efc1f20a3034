"""/health answers 200 when every component is up and 503 naming the one that is down."""

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.settings import get_settings


@pytest.fixture()
def reset_caches():
    from icc_app.core.redis import get_redis
    from icc_app.core.storage import get_storage

    def clear():
        get_settings.cache_clear()
        get_redis.cache_clear()
        get_storage.cache_clear()

    clear()
    yield
    clear()


def test_health_ok(reset_caches):
    client = TestClient(api.build())
    for path in ("/health", "/api/v1/health"):
        response = client.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        assert {k: v["ok"] for k, v in body["checks"].items()} == {"database": True, "redis": True, "storage": True}


def test_health_503_when_redis_is_down(reset_caches, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = TestClient(api.build()).get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False and "Connection" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_openapi_and_docs_are_served():
    client = TestClient(api.build())
    assert "/api/v1/health" in client.get("/api/openapi.json").json()["paths"]
    assert "swagger" in client.get("/api/docs").text.lower()
