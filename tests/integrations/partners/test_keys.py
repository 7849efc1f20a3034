"""Partner API keys: shown once and stored hashed, scoped, rotated with a grace period, revoked, expiring, rate
limited per key, audited, and confined to their own business."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from icc_app.core.audit import AuditLog
from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotAuthenticated, PermissionDenied
from icc_app.core.models import utcnow
from icc_app.core.security import hash_token
from icc_app.integrations.partners import keys
from icc_app.integrations.partners.models import ApiKey, ApiKeyEvent
from tests.integrations.partners.conftest import bearer, raw_key


def _audits(session, action: str) -> list[AuditLog]:
    return list(session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _set(key_id, **values) -> None:
    """Move a key's clock (expiry, grace) as time passing would."""
    with unit_of_work() as session:
        key = session.get(ApiKey, key_id)
        for name, value in values.items():
            setattr(key, name, value)
        session.add(key)


def test_the_key_is_shown_once_and_only_its_hash_is_stored(partners, session, connection):
    created = partners.create_key(["menu:read", "orders:read"], expires_in_days=30)
    raw = raw_key(created)
    assert created["api_key"]["prefix"] == raw[:len(created["api_key"]["prefix"])]
    assert created["api_key"]["status"] == "active" and created["api_key"]["scopes"] == ["menu:read", "orders:read"]
    row = session.get(ApiKey, created["api_key"]["id"])
    assert row.key_hash == hash_token(raw) and raw not in row.key_hash
    stored = connection.execute(sa.text("SELECT * FROM partner_api_keys WHERE id = :id"), {"id": row.id}).one()
    assert not any(raw in str(value) for value in stored)  # nowhere in the row
    listed = partners.client.get("/api/v1/api-keys", params={"business_id": str(partners.shop.business.id)},
                                 headers=partners.shop.admin_headers)
    assert listed.status_code == 200 and raw not in listed.text
    assert [k["prefix"] for k in listed.json()] == [row.prefix]
    audit = _audits(session, "integrations.api_key.created")[-1]
    assert audit.business_id == partners.shop.business.id and audit.actor_id == partners.shop.admin.id
    assert raw not in str(audit.after) and audit.after["prefix"] == row.prefix


def test_a_key_works_for_its_business_and_shows_when_it_was_last_used(partners, session):
    created = partners.create_key(["menu:read"])
    answer = partners.client.get("/api/v1/partner/whoami", headers=bearer(raw_key(created)))
    assert answer.status_code == 200, answer.text
    assert answer.json()["business_id"] == str(partners.shop.business.id)
    assert answer.json()["scopes"] == ["menu:read"] and answer.json()["key_prefix"] == created["api_key"]["prefix"]
    listed = partners.client.get("/api/v1/api-keys", params={"business_id": str(partners.shop.business.id)},
                                 headers=partners.shop.admin_headers).json()
    assert listed[0]["last_used_at"] is not None and listed[0]["last_used_ip"] == "testclient"
    with unit_of_work() as uow:
        business, key = keys.authenticate_api_key(uow, raw_key(created), scope="menu:read")
    assert business.id == partners.shop.business.id and str(key.id) == created["api_key"]["id"]


def test_scopes_are_enforced_and_refusals_audited(partners, session):
    headers = bearer(raw_key(partners.create_key(["menu:read"])))
    assert partners.client.get("/api/v1/partner/menu", headers=headers).status_code == 200
    refused = partners.client.get("/api/v1/partner/orders", headers=headers)
    assert refused.status_code == 403 and "orders:read" in refused.json()["detail"]
    assert partners.client.get("/api/v1/orders", params={"business_id": str(partners.shop.business.id)},
                               headers=headers).status_code == 403  # exchange:read is another scope
    audit = _audits(session, "integrations.api_key.refused")[-1]
    assert audit.after["reason"] == "scope" and audit.after["scope"] == "exchange:read"
    assert audit.business_id == partners.shop.business.id
    # A key never manages keys, whatever its scopes.
    manage = partners.client.post("/api/v1/api-keys", headers=headers, json={
        "business_id": str(partners.shop.business.id), "name": "escalation", "scopes": ["menu:read"]})
    assert manage.status_code == 403 and "signed-in Admin" in manage.json()["detail"]
    with pytest.raises(PermissionDenied, match="orders:read"), unit_of_work() as uow:
        keys.authenticate_api_key(uow, headers["Authorization"][7:], scope="orders:read")


def test_only_admins_create_keys_and_scopes_must_exist(partners):
    body = {"business_id": str(partners.shop.business.id), "name": "Acme", "scopes": ["menu:read"]}
    staff = partners.client.post("/api/v1/api-keys", headers=partners.staff_headers, json=body)
    assert staff.status_code == 403 and "Admin" in staff.json()["detail"]
    unknown = partners.client.post("/api/v1/api-keys", headers=partners.shop.admin_headers,
                                   json=body | {"scopes": ["menu:read", "everything"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "scopes"
    too_long = partners.client.post("/api/v1/api-keys", headers=partners.shop.admin_headers,
                                    json=body | {"expires_in_days": 5000})
    assert too_long.status_code == 422 and too_long.json()["field"] == "expires_in_days"
    scopes = partners.client.get("/api/v1/api-keys/scopes", headers=partners.shop.admin_headers).json()
    assert {"menu:read", "sales:read", "lots:read", "orders:read", "webhooks:manage", "widget",
            "exchange:read"} <= {s["scope"] for s in scopes}
    assert "openid" not in {s["scope"] for s in scopes}


def test_rotation_keeps_the_old_key_for_its_grace_period_then_refuses_it(partners, session):
    created = partners.create_key(["menu:read"])
    old = raw_key(created)
    rotated = partners.client.post(f"/api/v1/api-keys/{created['api_key']['id']}/rotate",
                                   headers=partners.shop.admin_headers, json={"grace_minutes": 30})
    assert rotated.status_code == 200, rotated.text
    new = raw_key(rotated.json())
    assert new != old and rotated.json()["previous"]["status"] == "expiring"
    assert rotated.json()["api_key"]["scopes"] == ["menu:read"]
    for raw in (old, new):  # both work during the grace period
        assert partners.client.get("/api/v1/partner/menu", headers=bearer(raw)).status_code == 200
    _set(created["api_key"]["id"], grace_until=utcnow() - timedelta(seconds=1))  # the 30 minutes are over
    refused = partners.client.get("/api/v1/partner/menu", headers=bearer(old))
    assert refused.status_code == 401
    assert "replaced by the key " + rotated.json()["api_key"]["prefix"] in refused.json()["detail"]
    assert partners.client.get("/api/v1/partner/menu", headers=bearer(new)).status_code == 200
    assert _audits(session, "integrations.api_key.rotated")[-1].after["new_prefix"] == rotated.json()["api_key"]["prefix"]
    assert _audits(session, "integrations.api_key.refused")[-1].after["reason"] == "rotated"
    history = session.exec(select(ApiKeyEvent).where(ApiKeyEvent.key_id == created["api_key"]["id"])
                           .order_by(ApiKeyEvent.created_at)).all()
    assert [(e.from_status, e.to_status) for e in history] == [("", "active"), ("active", "rotated")]
    again = partners.client.post(f"/api/v1/api-keys/{created['api_key']['id']}/rotate",
                                 headers=partners.shop.admin_headers)
    assert again.status_code == 422 and "Only an active key" in again.json()["detail"]


def test_a_revoked_key_is_refused_at_once(partners, session):
    created = partners.create_key(["menu:read"])
    headers = bearer(raw_key(created))
    assert partners.client.get("/api/v1/partner/menu", headers=headers).status_code == 200
    revoked = partners.client.post(f"/api/v1/api-keys/{created['api_key']['id']}/revoke",
                                   headers=partners.shop.admin_headers, json={"reason": "contract ended"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = partners.client.get("/api/v1/partner/menu", headers=headers)
    assert refused.status_code == 401 and "was revoked on" in refused.json()["detail"]
    assert _audits(session, "integrations.api_key.revoked")[-1].after == {"status": "revoked",
                                                                          "reason": "contract ended"}
    assert _audits(session, "integrations.api_key.refused")[-1].after["reason"] == "revoked"


def test_an_expired_or_unknown_key_is_refused_with_a_clear_401(partners, session):
    created = partners.create_key(["menu:read"], expires_in_days=1)
    _set(created["api_key"]["id"], expires_at=utcnow() - timedelta(minutes=1))
    refused = partners.client.get("/api/v1/partner/menu", headers=bearer(raw_key(created)))
    assert refused.status_code == 401 and "expired on" in refused.json()["detail"]
    listed = partners.client.get("/api/v1/api-keys", params={"business_id": str(partners.shop.business.id)},
                                 headers=partners.shop.admin_headers).json()
    assert listed[0]["status"] == "expired"
    unknown = partners.client.get("/api/v1/partner/menu", headers=bearer("icc_pk_" + "x" * 43))
    assert unknown.status_code == 401 and "not valid" in unknown.json()["detail"]
    reasons = [a.after["reason"] for a in _audits(session, "integrations.api_key.refused")]
    assert reasons[-2:] == ["expired", "unknown"]
    with pytest.raises(NotAuthenticated), unit_of_work() as uow:
        keys.authenticate_api_key(uow, "not-a-key")


def test_each_key_has_its_own_rate_limit(partners, session):
    tight = bearer(raw_key(partners.create_key(["menu:read"], rate_limit_per_minute=3)))
    other = bearer(raw_key(partners.create_key(["menu:read"])))
    assert [partners.client.get("/api/v1/partner/menu", headers=tight).status_code for _ in range(3)] == [200] * 3
    limited = partners.client.get("/api/v1/partner/menu", headers=tight)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "3 requests a minute" in limited.json()["detail"]
    assert partners.client.get("/api/v1/partner/menu", headers=tight).status_code == 429
    assert partners.client.get("/api/v1/partner/menu", headers=other).status_code == 200  # its own budget
    rate_audits = [a for a in _audits(session, "integrations.api_key.refused") if a.after["reason"] == "rate_limited"]
    assert len(rate_audits) == 1  # one row per key and window, not one per refused request


def test_another_business_is_a_404(partners):
    theirs = partners.create_key(["menu:read", "orders:read"], tenant=partners.other)
    for path in (f"/api/v1/api-keys/{theirs['api_key']['id']}/revoke", f"/api/v1/api-keys/{theirs['api_key']['id']}/rotate"):
        answer = partners.client.post(path, headers=partners.shop.admin_headers)
        assert answer.status_code == 404 and answer.json()["detail"] == "API key not found."
    listed = partners.client.get("/api/v1/api-keys", params={"business_id": str(partners.other.business.id)},
                                 headers=partners.shop.admin_headers)
    assert listed.status_code == 404
    mine = bearer(raw_key(partners.create_key(["menu:read", "orders:read", "webhooks:manage"])))
    for path in ("/api/v1/partner/menu", "/api/v1/partner/orders", "/api/v1/webhook-endpoints"):
        answer = partners.client.get(path, params={"business_id": str(partners.other.business.id)}, headers=mine)
        assert answer.status_code == 404, path
    # and their key still works for them, untouched
    assert partners.client.get("/api/v1/partner/menu", headers=bearer(raw_key(theirs))).status_code == 200
