"""The loyalty REST API: a manager signs a customer up, builds a segment, creates, previews and schedules a campaign;
another business's member gets 404s; staff cannot create campaigns; bad input is a clear 422."""

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.identity.models import Role
from tests.factories import add_member, make_business, session_token
from tests.loyalty.conftest import ADULT


def test_campaign_flow_over_the_api(session, shop, redis_client):
    manager = add_member(session, shop, role=Role.manager, products=["operations"])
    staff = add_member(session, shop, role=Role.staff, products=["operations"])
    stranger = add_member(session, make_business(session), role=Role.admin)
    auth = {"Authorization": f"Bearer {session_token(session, manager)}"}
    client = TestClient(api.build(), raise_server_exceptions=False)
    base = f"/api/v1/loyalty/{shop.id}"

    person = client.post(f"{base}/customers", headers=auth, json={
        "name": "Casey Jones", "email": "casey@example.test", "birth_date": ADULT.isoformat(), "email_consent": True})
    assert person.status_code == 201, person.text
    assert person.json()["enrollment"] == "enrolled" and person.json()["email_consent"] is True
    young = client.post(f"{base}/customers", headers=auth, json={
        "name": "Too Young", "email": "kid@example.test", "birth_date": "2010-01-01"})
    assert young.status_code == 422 and "21 or older" in young.text

    count = client.post(f"{base}/segments/preview", headers=auth,
                        json={"rules": [{"field": "email_consent", "op": "=", "value": True}]})
    assert count.json() == {"count": 1}

    body = {"name": "Hello", "channel": "email", "segment_key": "all", "subject": "Hi {first_name}",
            "body_a": "Welcome to {business}."}
    created = client.post(f"{base}/campaigns", headers=auth, json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    detail = client.get(f"{base}/campaigns/{campaign_id}", headers=auth).json()
    assert detail["audience"] == 1 and detail["preview"][0]["subject"] == "Hi Casey"
    scheduled = client.post(f"{base}/campaigns/{campaign_id}/schedule", headers=auth, json={})
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    again = client.post(f"{base}/campaigns/{campaign_id}/schedule", headers=auth, json={})
    assert again.status_code == 409

    claim = client.post(f"{base}/campaigns", headers=auth, json={**body, "body_a": "It heals you"})
    assert claim.status_code == 422 and "heals" in claim.text
    staff_try = client.post(f"{base}/campaigns", headers={"Authorization": f"Bearer {session_token(session, staff)}"},
                            json=body)
    assert staff_try.status_code == 403
    other = {"Authorization": f"Bearer {session_token(session, stranger)}"}
    assert client.get(f"{base}/campaigns/{campaign_id}", headers=other).status_code == 404
    assert client.get(f"{base}/customers", headers=other).status_code == 404
