"""The Metrc REST API as the console or a partner uses it: alerts (most severe first, with history), operator
actions, a check queued on demand, another business's alerts refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.identity.models import Role, User
from icc_app.integrations.metrc import compliance
from tests.factories import add_member, session_token
from tests.integrations.conftest import claimed_store, make_connection
from tests.integrations.fakes.metrc import NOW, tag
from tests.exchange.conftest import market  # noqa: F401 - fixture
from tests.integrations.metrc.conftest import FAST


@pytest.fixture()
def client():
    return TestClient(api.build(), raise_server_exceptions=False)


def _bearer(session, user_id) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(session, session.get(User, user_id))}"}


def test_alerts_over_the_api(session, metrc, client):
    principal, business, store = claimed_store(session)
    metrc.add_package(tag(1), on_hold=True)
    metrc.add_package(tag(2), quantity=5, unit="Each")
    pos = make_connection(session, business, store)
    from decimal import Decimal

    from icc_app.integrations.models import InventoryLevel
    session.add(InventoryLevel(business_id=business.id, connection_id=pos.id, external_id="p1",
                               quantity=Decimal("100"), unit="g", package_label=tag(1)))
    connection = make_connection(session, business, None, vendor="metrc", base_url=metrc.url,
                                 credentials=metrc.credentials())
    session.flush()
    compliance.run_check(connection.id, now=NOW, http_options=FAST)
    owner = _bearer(session, principal.user_id)
    listed = client.get(f"/api/v1/integrations/metrc/alerts?business_id={business.id}", headers=owner)
    assert listed.status_code == 200, listed.text
    alerts = listed.json()
    assert [a["severity"] for a in alerts] == ["high", "medium"]  # on hold for sale, then missing in ICC
    assert alerts[0]["kind_label"] == "On hold but for sale" and alerts[0]["suggested_fix"]
    second = alerts[1]["id"]
    resolved = client.post(f"/api/v1/integrations/metrc/alerts/{second}/resolve", headers=owner,
                           json={"note": "received into the POS"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = client.post(f"/api/v1/integrations/metrc/alerts/{second}/resolve", headers=owner)
    assert again.status_code == 409 and "cannot be resolved" in again.text
    detail = client.get(f"/api/v1/integrations/metrc/alerts/{second}", headers=owner).json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [("", "open"), ("open", "resolved")]
    assert detail["history"][-1]["note"] == "received into the POS"
    checks = client.get(f"/api/v1/integrations/metrc/connections/{connection.id}/checks", headers=owner).json()
    assert checks[0]["status"] == "succeeded" and checks[0]["packages"] == 2
    queued = client.post(f"/api/v1/integrations/metrc/connections/{connection.id}/compliance-check", headers=owner)
    assert queued.status_code == 202

    # Staff read but do not act; another business sees nothing
    staff = add_member(session, business, role=Role.staff, products=["integrations"])
    refused = client.post(f"/api/v1/integrations/metrc/alerts/{alerts[0]['id']}/dismiss", headers=_bearer(
        session, staff.id))
    assert refused.status_code == 403
    other, other_business, _ = claimed_store(session, name="Elsewhere", number="412999")
    foreign = client.get(f"/api/v1/integrations/metrc/alerts/{alerts[0]['id']}", headers=_bearer(
        session, other.user_id))
    assert foreign.status_code == 404


def test_list_on_ccx_over_the_api(market, metrc, client, session):  # noqa: F811
    import json as _json

    from icc_app.core.db import unit_of_work
    from icc_app.integrations.models import Connection

    metrc.add_package(tag(31), item="Sour Diesel Buds", category="Buds", strain="Sour Diesel", quantity=2,
                      unit="Pounds", with_document=True)
    metrc.add_package(tag(32), on_hold=True)
    with unit_of_work() as s:
        link = Connection(business_id=market.seller.id, vendor="metrc", name="Metrc", base_url=metrc.url,
                          credentials=_json.dumps(metrc.credentials()))
        s.add(link)
    seller = _bearer(session, market.seller_user.id)
    draft = client.get(f"/api/v1/integrations/metrc/connections/{link.id}/packages/{tag(31)}", headers=seller)
    assert draft.status_code == 200, draft.text
    assert draft.json()["title"] == "Sour Diesel Buds" and draft.json()["unit"] == "lb"
    assert draft.json()["has_coa_document"] is True and draft.json()["lab_passed"] is True
    listed = client.post(f"/api/v1/integrations/metrc/connections/{link.id}/packages/{tag(31)}/list",
                         headers=seller, json={"price_per_unit": "1500", "strain_type": "sativa"})
    assert listed.status_code == 201, listed.text
    assert listed.json()["status"] == "draft" and listed.json()["coa_queued"] is True
    held = client.post(f"/api/v1/integrations/metrc/connections/{link.id}/packages/{tag(32)}/list",
                       headers=seller, json={"price_per_unit": "1500"})
    assert held.status_code == 422 and "on hold in Metrc" in held.text
    missing = client.get(f"/api/v1/integrations/metrc/connections/{link.id}/packages/{tag(33)}", headers=seller)
    assert missing.status_code == 404 and "Metrc has no package" in missing.text
    facility = client.get(f"/api/v1/integrations/metrc/connections/{link.id}/facility", headers=seller)
    assert facility.status_code == 200, facility.text
    assert facility.json()["may_transfer"] is True and "CanGrowPlants" in facility.json()["capabilities"]
    metrc.fail(401, path="/facilities")
    refused = client.get(f"/api/v1/integrations/metrc/connections/{link.id}/facility", headers=seller)
    assert refused.status_code == 502 and "refused the credentials" in refused.text
    no_transfer = client.get(f"/api/v1/integrations/metrc/orders/{link.id}/transfer", headers=seller)
    assert no_transfer.status_code == 404
