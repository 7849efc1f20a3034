"""The COA REST API over HTTP (FastAPI app, real database and storage): auth, upload, read, correct, isolation."""

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.labs.tasks import parse_document
from tests.factories import PASSWORD, make_business, make_user


def _token(email: str) -> str:
    with unit_of_work() as session:
        outcome = identity.sign_in(session, email=email, password=PASSWORD, ip="10.0.0.9")
    assert outcome.token
    return outcome.token


@pytest.fixture()
def client():
    return TestClient(api.build(), raise_server_exceptions=True)


def test_upload_read_correct_and_tenant_isolation(connection, client, shared_data, redis_client):
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner)
        other = make_user(session)
        make_business(session, owner=other)
    assert client.get(f"/api/v1/coas?business_id={business.id}").status_code == 401

    headers = {"Authorization": f"Bearer {_token(owner.email)}"}
    pdf = (shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes()
    created = client.post("/api/v1/coas", headers=headers, data={"business_id": str(business.id)},
                          files={"file": ("GDP.pdf", pdf, "application/pdf")})
    assert created.status_code == 202, created.text
    doc_id = created.json()["id"]
    assert created.json()["status"] == "queued"
    parse_document(__import__("uuid").UUID(doc_id))  # what the worker does

    detail = client.get(f"/api/v1/coas/{doc_id}", headers=headers).json()
    assert detail["status"] == "parsed" and detail["values"]["total_thc_pct"] == 23.55
    assert any(a["key"] == "thca" for a in detail["analytes"])
    file = client.get(f"/api/v1/coas/{doc_id}/file", headers=headers)
    assert file.status_code == 200 and file.content == pdf

    bad = client.post(f"/api/v1/coas/{doc_id}/corrections", headers=headers,
                      json={"field": "moisture_pct", "value": "lots", "reason": "typo"})
    assert bad.status_code == 422 and bad.json()["field"] == "moisture_pct"
    fixed = client.post(f"/api/v1/coas/{doc_id}/corrections", headers=headers,
                        json={"field": "moisture_pct", "value": "9.9", "reason": "PDF page 1 prints 9.9%"})
    assert fixed.status_code == 200 and fixed.json()["values"]["moisture_pct"] == 9.9
    assert fixed.json()["original"]["moisture_pct"] == 9.8

    stranger = {"Authorization": f"Bearer {_token(other.email)}"}
    assert client.get(f"/api/v1/coas/{doc_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/coas/{doc_id}/file", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/coas?business_id={business.id}", headers=stranger).status_code == 404
