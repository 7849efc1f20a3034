"""Identity REST API: who am I, licenses and team of a business; another tenant's business is a 404."""

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from tests.factories import make_business, make_user, session_token, verified_license


def test_me_licenses_members_and_tenant_isolation(connection, redis_client):
    with unit_of_work() as session:
        ana = make_user(session, name="Ana")
        mine = make_business(session, owner=ana, name="Ana Farms LLC")
        verified_license(session, mine, number="401122")
        ben = make_user(session)
        theirs = make_business(session, owner=ben, name="Ben Farms LLC")
        token = session_token(session, ana)
    client = TestClient(api.build())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me").status_code == 401
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["memberships"][0]["licenses"][0]["number"] == "401122"
    assert client.get(f"/api/v1/businesses/{mine.id}/licenses", headers=headers).json()[0]["verification"] == "verified"
    assert client.get(f"/api/v1/businesses/{mine.id}/members", headers=headers).json()[0]["name"] == "Ana"
    for path in ("licenses", "members"):
        other = client.get(f"/api/v1/businesses/{theirs.id}/{path}", headers=headers)
        assert other.status_code == 404 and other.json()["detail"] == "Business not found."
    cookie = client.get("/api/v1/me", cookies={"icc_session": token})
    assert cookie.status_code == 200  # the browser's SameSite=Strict cookie works too
