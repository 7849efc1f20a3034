"""Hostile input on every /api operation: numbers that overflow (1e20, 1e30, 1E+400), too many decimals, zero and
negative amounts, NUL characters in text and query strings, pages and offsets beyond bigint, wrong types,
oversized bodies, unknown methods. The bar: no answer is a server error, every refusal is the one error shape,
and the refusals a client needs to act on name the field.

The operations come from the OpenAPI document, so a new endpoint is attacked without editing this file."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from icc_app.core.validation import MAX_MONEY

pytestmark = pytest.mark.timeout(300)

OVERFLOWING = ["1e20", "1e30", "1E+400", "-1", "0", "1e-400", "NaN", "Infinity", str(2**70), "99999999999999999999.999"]
NUMBER_LITERALS = ["1e20", "1e30", "1E+400", "-1", "0", str(2**70), "1e-400", "0.004"]  # raw JSON numbers
TEXTS = ["a\x00b", "\x00", "x" * 6000, "💥" * 600, "' OR 1=1 --", "<script>alert(1)</script>"]
TYPE_CONFUSION = [None, [], {}, True, {"$gt": ""}]
QUERY_VALUES = ["\x00", "a\x00b", "-1", "0", str(2**63), str(2**70), "1e400", "1E+400", "NaN", "inf", "x" * 5000]
CREDENTIALS = [{"Authorization": "Bearer " + "x" * 5000}, {"Authorization": "Bearer icc_at_%00"},
               {"Authorization": "Basic Og=="}, {"Cookie": 'icc_session="\\000"'}, {"Cookie": "icc_session=" + "y" * 4000}]
PATH_VALUES = ["00000000-0000-0000-0000-000000000000", "%00", "-1", str(2**70), "1e400", "x" * 300, "..%2F..%2Fetc"]

# A valid body per operation: each field is then replaced by hostile values one at a time.
BODIES = {
    ("POST", "/api/v1/lots"): lambda ids: {
        "business_id": ids["business_id"], "title": "Hostile lot", "product_type": "flower", "strain_name": "GDP",
        "strain_type": "indica", "quantity": "100", "unit": "lb", "min_order_qty": "10", "price_per_unit": "1200.00",
        "description": "ok", "delivery_terms": "ok", "metrc_tag": None},
    ("POST", "/api/v1/offers"): lambda ids: {
        "buyer_business_id": ids["buyer_business_id"], "lot_id": ids["lot_id"], "quantity": "10",
        "price_per_unit": "1000", "message": "hi"},
    ("POST", "/api/v1/offers/{offer_id}/counter"): lambda ids: {"quantity": "15", "price_per_unit": "1125.50",
                                                                "message": "meet halfway"},
    ("POST", "/api/v1/offers/{offer_id}/accept"): lambda ids: {"payment_method": "wire", "payment_terms": "prepay",
                                                               "message": "ok"},
    ("POST", "/api/v1/orders/{order_id}/payment-sent"): lambda ids: {"reference": "WIRE-1", "amount": "23000.00"},
    ("POST", "/api/v1/orders/{order_id}/payment-received"): lambda ids: {"amount": "23000.00"},
    ("POST", "/api/v1/coas/{document_id}/corrections"): lambda ids: {"field": "moisture_pct", "value": "9.9",
                                                                     "reason": "PDF page 1"},
}
ACTION_BODY = {"note": "because"}
MONEY_FIELDS = {"price_per_unit", "amount"}
QUANTITY_FIELDS = {"quantity", "min_order_qty"}


class Recorder:
    """Every request and its status; server errors are collected, not raised, so one run shows them all."""

    def __init__(self, world):
        self.world = world
        self.statuses: Counter = Counter()
        self.server_errors: list[str] = []
        self.operations: set[tuple[str, str]] = set()

    def send(self, method: str, template: str, *, path: str | None = None, who: str = "seller", **kwargs):
        headers = {**(getattr(self.world, who) if who != "anonymous" else {}), **kwargs.pop("headers", {})}
        response = self.world.client.request(method, path or template, headers=headers, **kwargs)
        self.operations.add((method, template))
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{method} {template} {str(kwargs)[:160]!r} -> {response.status_code}")
        elif response.status_code >= 400:
            body = response.json()
            assert isinstance(body.get("detail"), str), (method, template, body)  # the one error model
        return response


def _operations(client) -> list[tuple[str, str, dict]]:
    doc = client.get("/api/openapi.json").json()
    return [(method.upper(), path, op) for path, ops in doc["paths"].items() if path.startswith("/api/v1")
            for method, op in ops.items()]


def _fill(template: str, ids: dict, override: dict | None = None) -> str:
    values = {**ids, **(override or {})}
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _raw_json(body: dict, field: str, literal: str) -> bytes:
    """The body with `field` set to a raw JSON number literal (1E+400 cannot be written by json.dumps)."""
    marker = "__HOSTILE__"
    return json.dumps({**body, field: marker}).replace(f'"{marker}"', literal).encode()


def test_no_server_error_from_hostile_input_on_any_operation(world):
    rec = Recorder(world)
    ops = _operations(world.client)
    assert len(ops) >= 30
    for method, template, op in ops:
        if template == "/api/v1/coas" and method == "POST":
            continue  # multipart: test_coa_upload_refusals
        params = op.get("parameters", [])
        path = _fill(template, world.ids)
        who = world.who(template)
        for credentials in CREDENTIALS:  # forged or odd credentials: a 401 (or the public answer), never a 500
            rec.send(method, template, path=path, who="anonymous", headers=credentials)
        base_query = {p["name"]: world.ids[p["name"]] for p in params
                      if p["in"] == "query" and p.get("required") and p["name"] in world.ids}
        if template == "/api/v1/dispensaries":
            base_query = {"lat": "47.6", "lon": "-122.3"}
        for param in params:
            values = QUERY_VALUES if param["in"] == "query" else PATH_VALUES
            for value in values:
                if param["in"] == "query":
                    rec.send(method, template, path=path, who=who, params={**base_query, param["name"]: value})
                elif param["in"] == "path":
                    rec.send(method, template, path=_fill(template, world.ids, {param["name"]: value}), who=who)
        if "requestBody" not in op:
            continue
        body = BODIES.get((method, template), lambda ids: ACTION_BODY)(world.ids)
        for field in body:
            hostile = list(TYPE_CONFUSION) + list(OVERFLOWING) + (TEXTS if field not in MONEY_FIELDS | QUANTITY_FIELDS
                                                                  else [])
            for value in hostile:
                rec.send(method, template, path=path, who=who, json={**body, field: value})
            for literal in NUMBER_LITERALS:
                rec.send(method, template, path=path, who=who, content=_raw_json(body, field, literal),
                         headers={"Content-Type": "application/json"})
        for raw in (b"{", b"[]", b"null", b'"x"', b"\x00", json.dumps(body).encode() + b"\x00"):
            rec.send(method, template, path=path, who=who, content=raw, headers={"Content-Type": "application/json"})
    print(f"\nhostile requests: {sum(rec.statuses.values())} on {len(rec.operations)} operations; "
          f"statuses: {dict(sorted(rec.statuses.items()))}; server errors: {len(rec.server_errors)}")
    for line in rec.server_errors:
        print("  500:", line)
    assert rec.server_errors == []
    documented = {(m, t) for m, t, _ in ops}
    assert documented - rec.operations == {("POST", "/api/v1/coas")}


@pytest.mark.parametrize("field,value", [
    ("price_per_unit", "1e20"), ("price_per_unit", "1e30"), ("price_per_unit", "1E+400"),
    ("price_per_unit", "0.004"), ("price_per_unit", "0"), ("price_per_unit", "-5"), ("quantity", "0"),
    ("quantity", "1e30"), ("quantity", "0.0001"), ("min_order_qty", "1E+400"), ("title", "GDP\x00"),
    ("description", "a\x00b"), ("strain_name", "\x00"),
])
def test_lot_numbers_and_text_are_refused_with_the_field_named(world, field, value):
    body = {**BODIES[("POST", "/api/v1/lots")](world.ids), field: value}
    response = world.client.post("/api/v1/lots", headers=world.seller, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    lots = world.client.get("/api/v1/lots", headers=world.buyer, params={"q": "Hostile"}).json()
    assert lots["total"] == 0  # nothing was created


@pytest.mark.parametrize("literal", ["1e20", "1e30", "1E+400", "0.004"])
def test_raw_number_literals_in_offers_and_payments_are_422(world, literal):
    offer = BODIES[("POST", "/api/v1/offers")](world.ids)
    response = world.client.post("/api/v1/offers", headers={**world.buyer, "Content-Type": "application/json"},
                                 content=_raw_json(offer, "price_per_unit", literal))
    assert response.status_code == 422 and response.json()["field"] == "price_per_unit", response.text
    sent = world.client.post(f"/api/v1/orders/{world.ids['order_id']}/payment-sent",
                             headers={**world.buyer, "Content-Type": "application/json"},
                             content=_raw_json({"reference": "W-1"}, "amount", literal))
    assert sent.status_code == 422 and sent.json()["field"] == "amount", sent.text
    limit = world.client.post(f"/api/v1/orders/{world.ids['order_id']}/payment-received", headers=world.seller,
                              json={"amount": str(MAX_MONEY + 1)})
    assert limit.status_code == 422 and "999999999.99" in limit.json()["detail"]


@pytest.mark.parametrize("path,param,value", [
    ("/api/v1/lots", "q", "purple\x00"), ("/api/v1/lots", "page", str(2**70)), ("/api/v1/lots", "page", "-1"),
    ("/api/v1/lots", "price_min", "1E+400"), ("/api/v1/dispensaries", "address", "Seattle\x00"),
    ("/api/v1/dispensaries", "page", str(2**63)), ("/api/v1/dispensaries", "category", "\x00"),
    ("/api/v1/coas", "limit", "-5"), ("/api/v1/coas", "offset", "-1"), ("/api/v1/coas", "offset", str(2**63)),
    ("/api/v1/offers", "status", "open\x00"),
])
def test_query_strings_are_validated_with_the_parameter_named(world, path, param, value):
    params = {"business_id": world.ids["business_id"]} if path in ("/api/v1/coas", "/api/v1/offers") else {}
    response = world.client.get(path, headers=world.seller, params={**params, param: value})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == param


def test_coa_upload_refusals(world, shared_data):
    pdf = (shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes()

    def upload(**data):
        return world.client.post("/api/v1/coas", headers=world.seller, files={"file": ("GDP.pdf", pdf, "application/pdf")},
                                 data={"business_id": world.ids["business_id"], **data})

    missing = upload(lot_id=str(uuid.uuid4()))
    assert missing.status_code == 404 and missing.json()["field"] == "lot_id", missing.text
    foreign = upload(lot_id=world.stranger_lot_id)
    assert foreign.status_code == 404, foreign.text
    assert upload(claimed_total_thc_pct="1e400").status_code == 422
    assert upload(claimed_total_thc_pct="NaN").status_code == 422
    assert upload(business_id="\x00").status_code == 422
    coas = world.client.get("/api/v1/coas", headers=world.seller, params={"business_id": world.ids["business_id"]})
    assert len(coas.json()) == 1  # only the fixture's COA: every refusal stored nothing
    nul_name = world.client.post("/api/v1/coas", headers=world.seller, data={"business_id": world.ids["business_id"]},
                                 files={"file": ("a\x00.pdf", pdf, "application/pdf")})
    assert nul_name.status_code in (202, 422), nul_name.text
    assert "\x00" not in nul_name.json().get("filename", "")


def test_bodies_over_the_route_limit_are_refused_while_streaming(world):
    big = b'{"note": "' + b"x" * 200_000 + b'"}'
    declared = world.client.post(f"/api/v1/lots/{world.ids['lot_id']}/pause", headers={
        **world.seller, "Content-Type": "application/json"}, content=big)
    assert declared.status_code == 413 and "64 KB" in declared.json()["detail"]

    def chunks():  # no Content-Length: counted while it streams
        yield b'{"note": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}'

    streamed = world.client.post(f"/api/v1/lots/{world.ids['lot_id']}/pause", headers={
        **world.seller, "Content-Type": "application/json"}, content=chunks())
    assert streamed.status_code == 413 and "64 KB" in streamed.json()["detail"]
    lot = world.client.get(f"/api/v1/lots/{world.ids['lot_id']}", headers=world.seller).json()
    assert lot["status"] == "active"  # the pause never ran


def test_upload_limit_is_max_upload_mb(world, monkeypatch):
    from icc_app.settings import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    response = world.client.post("/api/v1/coas", headers=world.seller, data={"business_id": world.ids["business_id"]},
                                 files={"file": ("big.pdf", b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "application/pdf")})
    assert response.status_code == 413 and "1 MB" in response.json()["detail"], response.text


def test_options_and_unknown_routes_are_answered_by_the_api(world):
    options = world.client.options("/api/v1/lots")
    assert options.status_code == 405 and options.headers["allow"] == "GET, POST"
    assert "detail" in options.json()
    assert world.client.delete(f"/api/v1/lots/{world.ids['lot_id']}", headers=world.seller).status_code == 405
    unknown = world.client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and "detail" in unknown.json()
