"""Partner API keys in a real browser: a business Admin creates a key on /console/api-keys, sees it once (copy
panel), the key works against the REST API, is gone from the page once dismissed, and after revoking it the
API refuses it; an Admin adds a webhook endpoint and the real worker delivers a signed test event. Screenshots at
1440 and 390 px."""

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(page, live_app):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, "buyer@icc.demo")  # Admin of Capitol Hill Cannabis
    expect(page).not_to_have_url(re.compile("/login"))
    page.goto("/console/api-keys")
    expect(page.get_by_role("heading", name="API keys & webhooks")).to_be_visible()
    # The business may already have keys (other flows in this session make one): the empty state or the list.
    expect(page.get_by_text("No API keys yet").or_(page.locator(".api-key-row").first)).to_be_visible()

    page.fill("#key-name", "Acme POS bridge")
    page.get_by_role("checkbox", name=re.compile("menu:read")).click()
    page.get_by_role("checkbox", name=re.compile("orders:read")).click()
    page.click("#create-key")
    shown = page.locator("#shown-once")
    expect(shown).to_contain_text("icc_pk_")
    raw = shown.inner_text().strip()
    expect(page.get_by_text("It is shown only once", exact=False)).to_be_visible()
    row = page.locator(".api-key-row").filter(has_text="Acme POS bridge")
    expect(row).to_contain_text(raw[:13] + "…")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("menu:read, orders:read")
    shot(page, "partner-api-key-created-1440")
    # The shared success toast (green on pale green, 4.25:1) is the app shell's; check the page itself.
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    found = violations(page)
    assert not found, describe("API keys page with a new key shown", found)

    answer = httpx.get(f"{live_app}/api/v1/partner/whoami", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["business_name"] == "Capitol Hill Cannabis" and answer.json()["key_name"] == "Acme POS bridge"

    page.click("#dismiss-secret")
    expect(shown).to_have_count(0)
    page.reload()
    expect(row).to_contain_text("Last used:")
    assert raw not in page.content()  # shown once: not even in the page source now

    page.set_viewport_size({"width": 390, "height": 844})
    expect(row).to_be_visible()
    shot(page, "partner-api-keys-390")
    page.get_by_role("button", name="Revoke Acme POS bridge").click()
    page.click("#confirm-revoke")
    expect(row).to_contain_text("Revoked")
    refused = httpx.get(f"{live_app}/api/v1/partner/whoami", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401 and "was revoked on" in refused.json()["detail"]
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "partner-api-key-revoked-1440")


def test_an_admin_adds_a_webhook_endpoint_and_the_worker_delivers_a_signed_test_event(page, live_app):
    """The real worker fleet sends the event to a receiver in this test process; the signature verifies with the
    secret the page showed once; the delivery log says Delivered."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from icc_app.integrations.partners.delivery import verify_signature

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, "grower@icc.demo")  # Admin of Evergreen Farms
        expect(page).not_to_have_url(re.compile("/login"))
        page.goto("/console/api-keys")
        expect(page.get_by_text("No webhook endpoints")).to_be_visible()
        page.fill("#endpoint-url", f"http://127.0.0.1:{server.server_port}/icc")
        page.get_by_role("checkbox", name=re.compile("order.created")).click()
        page.click("#add-endpoint")
        shown = page.locator("#shown-once")
        expect(shown).to_contain_text("whsec_")
        secret = shown.inner_text().strip()
        page.click("#dismiss-secret")
        page.get_by_role("button", name="Send test event").click()
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.25)
        assert received, "the worker sent nothing"
        headers, body = received[0]
        assert verify_signature(secret, headers["ICC-Signature"], body)
        assert json.loads(body)["type"] == "ping" and headers["ICC-Event-Id"] == json.loads(body)["id"]
        page.get_by_role("button", name="Hide deliveries").click()
        page.get_by_role("button", name="Deliveries").click()  # the log, read again
        expect(page.locator(".delivery-row").first).to_contain_text("Delivered")
        expect(page.locator(".delivery-row").first).to_contain_text("HTTP 204")
        shot(page, "partner-webhook-delivered-1440")
    finally:
        server.shutdown()
        server.server_close()
