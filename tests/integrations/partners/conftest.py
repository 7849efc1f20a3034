"""Two businesses with Admins (and a Staff member in the first), a TestClient on the real API, bearer headers, and a
local HTTP receiver that plays the partner's webhook endpoint (real HTTP, scripted answers)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.identity.models import BusinessType, Role
from icc_app.integrations.partners import keys
from tests.factories import add_member, make_business, make_user, session_token, verified_license


@dataclass
class Tenant:
    admin: object
    business: object
    admin_headers: dict

    def principal(self, user=None):
        with unit_of_work() as session:
            return identity.build_principal(session, user or self.admin)


@dataclass
class Partners:
    client: TestClient
    shop: Tenant
    other: Tenant

    @property
    def staff_headers(self) -> dict:
        """A Staff member of the shop (made on first use: each account costs a password hash)."""
        if not hasattr(self, "_staff"):
            with unit_of_work() as session:
                staff = add_member(session, self.shop.business, role=Role.staff,
                                   products=["exchange", "maps", "integrations"])
                self._staff = (staff, bearer(session_token(session, staff)))
        return self._staff[1]

    @property
    def staff_user(self):
        self.staff_headers  # noqa: B018 - made on first use
        return self._staff[0]

    def create_key(self, scopes=("menu:read",), *, tenant: Tenant | None = None, **extra) -> dict:
        tenant = tenant or self.shop
        answer = self.client.post("/api/v1/api-keys", headers=tenant.admin_headers, json={
            "business_id": str(tenant.business.id), "name": "Acme POS bridge", "scopes": list(scopes), **extra})
        assert answer.status_code == 201, answer.text
        return answer.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _tenant(session, name: str, number: str) -> Tenant:
    admin = make_user(session, name=f"{name} Admin")
    business = make_business(session, owner=admin, name=f"{name} LLC", business_type=BusinessType.retailer)
    verified_license(session, business, number=number)
    return Tenant(admin, business, bearer(session_token(session, admin)))


@pytest.fixture()
def partners(connection, redis_client) -> Partners:
    with unit_of_work() as session:
        shop, other = _tenant(session, "Green Door", "412001"), _tenant(session, "Other Shop", "412002")
    return Partners(TestClient(api.build(), raise_server_exceptions=False), shop, other)


@dataclass
class Receiver:
    """The partner's webhook endpoint: answers with the scripted status codes in turn (then the last one again)
    and keeps every request it got (headers, raw body)."""

    answers: list[int] = field(default_factory=lambda: [200])
    received: list[dict] = field(default_factory=list)
    url: str = ""

    def json_bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture()
def receiver():
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            box.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
            status = box.answers[min(len(box.received) - 1, len(box.answers) - 1)]
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver is down")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_port}/icc/webhooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


def raw_key(created: dict) -> str:
    assert created["key"].startswith(keys.API_KEY_PREFIX)
    return created["key"]
