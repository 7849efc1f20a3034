"""The operations REST API as a partner or the console calls it: upload, plan, approve, and 404 for strangers."""

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.operations import forecast_service
from tests.factories import session_token
from tests.operations.conftest import TODAY, steady, stock


def bearer(user) -> dict[str, str]:
    with unit_of_work() as session:
        return {"Authorization": f"Bearer {session_token(session, user)}"}


@pytest.fixture()
def client():
    return TestClient(api.build(), raise_server_exceptions=False)


def test_upload_plan_draft_and_approve_over_the_api(shop, rival, client):
    me, base = bearer(shop.owner), f"/api/v1/operations/{shop.business_id}"
    rows = "\n".join(f"2026-11-{d:02d},og-kush,{q:g},flower,{q * 30:g}" for d, q in
                     zip(range(1, 31), steady(9, 30), strict=True))
    upload = client.post(f"{base}/imports/sales", headers=me,
                         files={"file": ("sales.csv", f"date,sku,quantity,category,revenue\n{rows}\n"
                                         "2026-12-01,og-kush,x,flower,1\n", "text/csv")})
    assert upload.status_code == 200, upload.text
    assert upload.json()["saved"] == 30 and upload.json()["errors"][0]["line"] == 32
    with unit_of_work() as s:
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=14, today=TODAY)
        stock(s, shop.business_id, "og-kush", 4)
    forecasts = client.get(f"{base}/forecasts", headers=me, params={"level": "product"}).json()
    assert forecasts[0]["node_key"] == "og-kush" and forecasts[0]["trust"] in {"good", "fair", "low"}
    policy = client.put(f"{base}/reorder-policies", headers=me,
                        json={"product_key": "og-kush", "supplier_name": "Farm A", "lead_time_days": 4})
    assert policy.status_code == 200, policy.text
    plan = client.get(f"{base}/reorder-plan", headers=me).json()
    assert plan[0]["on_hand"] == 4 and float(plan[0]["order_quantity"]) > 0
    drafted = client.post(f"{base}/purchase-orders/draft", headers=me).json()
    po_id = drafted[0]["id"]
    approved = client.post(f"{base}/purchase-orders/{po_id}/status", headers=me, json={"status": "approved"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(f"{base}/purchase-orders/{po_id}/status", headers=me, json={"status": "approved"})
    assert again.status_code == 409 and "cannot become approved" in again.json()["detail"]
    csv_file = client.get(f"{base}/purchase-orders/{po_id}/csv", headers=me)
    assert csv_file.status_code == 200 and "og-kush" in csv_file.text

    stranger = bearer(rival.owner)
    for path in (f"{base}/forecasts", f"{base}/purchase-orders/{po_id}", f"{base}/expirations",
                 f"/api/v1/operations/{rival.business_id}/purchase-orders/{po_id}"):
        assert client.get(path, headers=stranger).status_code == 404, path
    assert client.post(f"{base}/purchase-orders/{po_id}/status", headers=stranger,
                       json={"status": "cancelled"}).status_code == 404
