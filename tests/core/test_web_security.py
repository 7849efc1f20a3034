"""Security headers on every response, a CSP that lets exactly the page's own inline scripts run, HSTS only
behind https, CORS for configured origins only, and the websocket handshake carrying the session token's hash
instead of the token."""

import base64
import gzip
import hashlib

import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from fastapi.testclient import TestClient

from icc_app.core import web_security
from icc_app.core.security import hash_token
from icc_app.settings import Settings, get_settings

PAGE = b"<html><head><script>window.boot = 1;</script><script src='/assets/app.js'></script></head></html>"


def _app() -> TestClient:
    inner = FastAPI()

    @inner.get("/page")
    def page():
        return HTMLResponse(PAGE)

    @inner.get("/page.gz")
    def compressed():
        return Response(gzip.compress(PAGE), media_type="text/html", headers={"content-encoding": "gzip"})

    @inner.get("/echo-encoding")
    def echo_encoding(request: Request):
        return {"accept-encoding": request.headers.get("accept-encoding")}

    @inner.get("/cached")
    def cached():
        return Response(status_code=304)

    @inner.get("/api/thing")
    def thing():
        return {"ok": True}

    @inner.get("/api/v1/coas/1/file")
    def original_pdf():
        return Response(b"%PDF-1.7 ...", media_type="application/pdf")

    @inner.websocket("/_event/")
    async def event(ws: WebSocket):
        await ws.accept()
        await ws.send_text(ws.headers.get("cookie", ""))
        await ws.close()

    return TestClient(web_security.middleware(inner), base_url="http://icc.test")


def _sha(script: bytes) -> str:
    return base64.b64encode(hashlib.sha256(script).digest()).decode()


@pytest.mark.parametrize("path", ["/page", "/page.gz", "/api/thing"])
def test_every_response_carries_the_security_headers(path):
    response = _app().get(path)
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp.split(
        "script-src")[1].split(";")[0]
    assert "connect-src 'self' ws://icc.test wss://icc.test" in csp
    tiles = web_security.origin_of(get_settings().map_tile_url.replace("{", "").replace("}", ""))
    assert f"img-src 'self' data: blob: {tiles}" in csp
    assert "strict-transport-security" not in response.headers  # PUBLIC_URL is http here


@pytest.mark.parametrize("path", ["/page", "/page.gz"])
def test_the_policy_allows_exactly_the_pages_inline_scripts(path):
    csp = _app().get(path).headers["content-security-policy"]
    script_src = csp.split("script-src ")[1].split(";")[0]
    assert script_src == f"'self' 'unsafe-eval' 'sha256-{_sha(b'window.boot = 1;')}'"


def test_hsts_only_behind_https(monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", "https://icc.example.com")
    response = _app().get("/api/thing")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "; Secure" in web_security.session_cookie_header("t")


def test_the_websocket_sees_the_tokens_hash_never_the_token():
    with _app().websocket_connect("/_event/?EIO=4&transport=websocket",
                                  headers={"cookie": "theme=dark; icc_session=raw-token; icc_session_ref=forged"}) as ws:
        seen = ws.receive_text()
    assert "raw-token" not in seen and "forged" not in seen
    assert web_security.session_ref_from_cookie_header(seen) == hash_token("raw-token")
    assert "theme=dark" in seen
    with _app().websocket_connect("/_event/", headers={"cookie": "icc_session_ref=forged"}) as ws:
        assert web_security.session_ref_from_cookie_header(ws.receive_text()) == ""  # only the middleware writes it


def test_cors_allows_configured_origins_only(monkeypatch):
    from reflex.app import App
    from reflex.config import get_config
    from starlette.applications import Starlette

    config = get_config()  # rxconfig.py
    assert "*" not in config.cors_allowed_origins
    assert list(config.cors_allowed_origins) == get_settings().allowed_origins
    monkeypatch.setattr(config, "cors_allowed_origins", ["http://icc.test", "https://partner.example"])
    api = Starlette()
    api.add_route("/api/thing", lambda request: Response("{}", media_type="application/json"))
    App._add_cors(api)  # how Reflex wraps the backend, with our configured origins
    client = TestClient(api)
    evil = client.get("/api/thing", headers={"origin": "https://evil.example", "cookie": "icc_session=x"})
    assert "access-control-allow-origin" not in evil.headers
    partner = client.get("/api/thing", headers={"origin": "https://partner.example"})
    assert partner.headers["access-control-allow-origin"] == "https://partner.example"


def test_cors_origins_setting_refuses_wildcards_and_paths(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example/")
    assert Settings().allowed_origins[-2:] == ["https://a.example", "https://b.example"]
    for bad in ("*", "https://a.example/path", "a.example"):
        monkeypatch.setenv("CORS_ORIGINS", bad)
        with pytest.raises(ValueError, match="is not an origin"):
            Settings()


def test_a_not_modified_page_keeps_its_cached_policy():
    response = _app().get("/cached")
    assert response.status_code == 304 and response.headers["x-frame-options"] == "DENY"
    # The cached page's own policy (with its inline-script hashes) stays in force: none is sent to replace it.
    assert "content-security-policy" not in response.headers


def test_pages_are_asked_for_in_an_encoding_whose_scripts_can_be_hashed():
    client = _app()
    page = client.get("/echo-encoding", headers={"accept": "text/html", "accept-encoding": "br, gzip;q=0.9, zstd"})
    assert page.json()["accept-encoding"] == "gzip;q=0.9"
    data = client.get("/echo-encoding", headers={"accept": "application/json", "accept-encoding": "br, gzip"})
    assert data.json()["accept-encoding"] == "br, gzip"  # not a page: untouched


def test_a_local_install_accepts_both_loopback_names_of_its_own_port_only(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "http://localhost:3000")
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    assert set(Settings().allowed_origins) == {"http://localhost:3000", "http://127.0.0.1:3000"}
    monkeypatch.setenv("PUBLIC_URL", "https://icc.example.com")
    assert Settings().allowed_origins == ["https://icc.example.com"]


def test_our_own_pages_may_frame_a_stored_pdf_but_nobody_frames_a_page():
    """The COA viewer shows the original PDF beside its values in an iframe of the same origin."""
    pdf = _app().get("/api/v1/coas/1/file")
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]
    for path in ("/page", "/api/thing"):
        response = _app().get(path)
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
