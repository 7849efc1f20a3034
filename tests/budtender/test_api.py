"""Find My Product over REST: anonymous quiz to results; a signed-in consumer's answers, favourites and history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity.models import User
from tests.budtender.conftest import DENVER
from tests.factories import session_token

QUIZ = {"wanted": ["relaxed", "sleepy"], "lat": DENVER[0], "lon": DENVER[1], "radius_miles": 10}


def test_anonymous_quiz_to_results(world):
    client = TestClient(api.build(), raise_server_exceptions=False)
    answer = client.post("/api/v1/budtender/recommendations", json=QUIZ)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["run_id"] is None and body["quiz"]["summary"] == "Relaxed, Sleepy"
    first = body["results"][0]
    assert first["strain"] == "Granddaddy Purple" and first["dispensary_name"] == "Mile High Greens"
    assert first["href"].startswith("/") and first["lat"] is not None
    assert client.post("/api/v1/budtender/recommendations", json=QUIZ | {"wanted": ["flying"]}).status_code == 422


def test_signed_in_consumer_keeps_answers_favourites_and_history(world, session):
    client = TestClient(api.build(), raise_server_exceptions=False)
    with unit_of_work() as s:
        headers = {"Authorization": f"Bearer {session_token(s, s.get(User, world.principal.user_id))}"}
    run = client.post("/api/v1/budtender/recommendations", json=QUIZ | {"budget_max": "40"}, headers=headers).json()
    assert run["run_id"]
    item = world.items["GDP 3.5g"].id
    assert client.put(f"/api/v1/budtender/favourites/{item}", headers=headers).status_code == 204
    assert client.put(f"/api/v1/budtender/favourites/{item}", headers=headers).status_code == 204
    assert [f["name"] for f in client.get("/api/v1/budtender/favourites", headers=headers).json()] == ["GDP 3.5g"]
    assert client.get("/api/v1/budtender/profile", headers=headers).json()["budget_max"] == "40.00"
    history = client.get("/api/v1/budtender/history", headers=headers).json()
    assert history[0]["summary"] == "Relaxed, Sleepy · up to $40.00"
    assert client.post("/api/v1/budtender/feedback", headers=headers,
                       json={"menu_item_id": str(item), "kind": "click", "run_id": run["run_id"]}).status_code == 204
    assert client.get("/api/v1/budtender/favourites").status_code == 401
