"""IMS lot -> CCX listing -> accepted offer -> Metrc transfer template -> manifest and In Transit -> received
package by package -> retail menu, against a local Metrc with two licenses (seller and buyer)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.exchange import offers, orders
from icc_app.exchange.models import Lot, Order, OrderEvent
from icc_app.integrations.metrc import workflows
from icc_app.integrations.metrc.models import TransferLink
from icc_app.integrations.models import Connection, InventoryLevel
from icc_app.labs.models import CoaDocument
from icc_app.maps.models import Dispensary, MenuItem
from tests.exchange.conftest import market  # noqa: F401 - fixture
from tests.factories import status_trail
from tests.integrations.fakes.metrc import BUYER_LICENSE, LICENSE, NOW, tag
from tests.integrations.metrc.conftest import FAST

SWAGGER = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "metrc" / "open-metrc-swagger-v2.yaml"
LABEL = tag(11)


@pytest.fixture()
def trade(market, metrc):  # noqa: F811
    metrc.add_facility(BUYER_LICENSE, "Bea Shop Dispensary", retail=True)
    metrc.add_package(LABEL, item="Granddaddy Purple Buds", category="Buds", strain="Granddaddy Purple",
                      quantity=100, unit="Pounds", thc=24.1)
    with unit_of_work() as session:
        store = Dispensary(name="Bea Shop", license_number="401002", state="WA", latitude=47.61, longitude=-122.33,
                           slug="bea-shop-401002", claimed_by_business_id=market.buyer.id)
        session.add(store)
        session.flush()
        seller_link = Connection(business_id=market.seller.id, vendor="metrc", name="Metrc", base_url=metrc.url,
                                 credentials=json.dumps(metrc.credentials()))
        buyer_link = Connection(business_id=market.buyer.id, vendor="metrc", name="Metrc", base_url=metrc.url,
                                credentials=json.dumps(metrc.credentials(BUYER_LICENSE)), dispensary_id=store.id)
        session.add_all([seller_link, buyer_link])
        lot = session.get(Lot, market.lot_id)
        lot.metrc_tag = LABEL
        session.add(lot)
    return market


def _order(trade, quantity: str, monkeypatch) -> tuple[object, list[str]]:
    sent: list[str] = []
    import workers.celery_app as celery_app
    monkeypatch.setattr(celery_app, "dispatch", lambda task: sent.append(task.name))
    buyer, seller = trade.principal(trade.buyer_user), trade.principal(trade.seller_user)
    with unit_of_work(tenant=buyer) as session:
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=trade.buyer.id, lot_id=trade.lot_id,
                                  quantity=quantity, price_per_unit="1150")
    with unit_of_work(tenant=seller) as session:
        order = offers.accept(session, principal=seller, offer_id=offer.id, payment_terms="net_30")
    return order.id, sent


def _notes(order_id) -> list[str]:
    with unit_of_work() as session:
        return [e.note for e in session.exec(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                             .order_by(col(OrderEvent.id)))]


def _schema_check(template: dict) -> None:
    """The template against Metrc's OpenAPI request schema (properties are matched case-insensitively, as Metrc's
    JSON binding does) and against the reference page's example fields."""
    spec = yaml.safe_load(SWAGGER.read_text())
    schemas = spec["components"]["schemas"]
    request = spec["paths"]["/transfers/v2/templates/outgoing"]["post"]["requestBody"]["content"]["application/json"]
    assert request["schema"]["type"] == "array"
    known = {k.lower() for k in schemas["PostTransferTemplateOutgoingRequest"]["properties"]} | {"name"}
    assert {k.lower() for k in template} <= known
    destination_schema = schemas[schemas["PostTransferTemplateOutgoingRequest"]["properties"]["destinations"]
                                 ["items"]["oneOf"][0]["$ref"].rsplit("/", 1)[1]]
    for destination in template["Destinations"]:
        keys = {k.lower() for k in destination}
        assert keys <= {k.lower() for k in destination_schema["properties"]}, keys - {
            k.lower() for k in destination_schema["properties"]}
        for package in destination["Packages"]:
            assert set(package) == {"PackageLabel", "WholesalePrice"} and isinstance(package["WholesalePrice"], float)


def test_accepted_offer_to_menu(trade, metrc, session, monkeypatch):
    order_id, sent = _order(trade, "100", monkeypatch)
    assert "metrc.create_template" in sent  # queued by the acceptance, after its commit

    assert workflows.create_template(order_id, now=NOW, http_options=FAST) == "created"
    templates = metrc.templates[LICENSE]
    assert len(templates) == 1
    body = templates[0]["_body"]
    destination = body["Destinations"][0]
    assert destination["RecipientLicenseNumber"] == BUYER_LICENSE
    assert destination["Packages"] == [{"PackageLabel": LABEL, "WholesalePrice": 115000.0}]
    _schema_check(body)
    assert workflows.create_template(order_id, now=NOW, http_options=FAST) == "exists"
    assert len(metrc.templates[LICENSE]) == 1
    assert any(n.startswith("Metrc transfer template CCX-") and BUYER_LICENSE in n for n in _notes(order_id))

    seller, buyer = trade.principal(trade.seller_user), trade.principal(trade.buyer_user)
    with unit_of_work(tenant=seller) as s:
        orders.act(s, principal=seller, order_id=order_id, verb="confirm")
    assert workflows.follow_transfer(order_id, http_options=FAST) == "waiting"  # not registered in Metrc yet
    metrc.clock = datetime.now(UTC)
    transfer = metrc.register_template(templates[0]["Id"], manifest="0000004242")
    transfer["ActualDepartureDateTime"] = transfer["LastModified"]
    assert workflows.follow_transfer(order_id, http_options=FAST) == "in_transit"
    with unit_of_work() as s:
        order = s.get(Order, order_id)
        assert order.status == "in_transit" and order.manifest_number == "0000004242"

    with pytest.raises(ValidationFailed, match="Decide on every package"):
        workflows.receive_order(buyer, order_id, [], http_options=FAST)
    with pytest.raises(ValidationFailed, match="is not on this Metrc delivery"):
        workflows.receive_order(buyer, order_id, [workflows.Decision(tag(99), True)], http_options=FAST)
    result = workflows.receive_order(buyer, order_id, [workflows.Decision(LABEL, True,
                                                                          retail_price=Decimal("45"))],
                                     http_options=FAST)
    assert result["status"] == "received" and result["packages"][0]["state"] == "accepted"
    with unit_of_work() as s:
        item = s.exec(select(MenuItem).where(MenuItem.source == "metrc", MenuItem.external_id == LABEL)).one()
        assert item.lot_id == trade.lot_id and item.price == Decimal("45.00") and item.thc_max == 24.1
        assert item.in_stock_qty == 12959 and item.category == "flower"  # 100 lb in eighths
        level = s.exec(select(InventoryLevel).where(InventoryLevel.package_label == LABEL)).one()
        assert level.unit == "g" and round(level.quantity) == 45359  # the package's weight, for compliance checks
    notes = _notes(order_id)
    assert any("Metrc receipt: package …00000011 accepted (100 Pounds)" in n for n in notes)
    assert any(n.startswith("Retail menu: 1 item(s) created") for n in notes)

    again = workflows.receive_order(buyer, order_id, [workflows.Decision(LABEL, True)], http_options=FAST)
    assert again == result and _notes(order_id) == notes  # twice changes nothing
    with unit_of_work() as s:
        link = s.exec(select(TransferLink).where(TransferLink.order_id == order_id)).one()
        assert status_trail(s, link.id) == ["template_created", "manifested", "in_transit", "received"]


def test_rejecting_needs_a_reason_and_keeps_the_order_in_transit(trade, metrc, monkeypatch):
    order_id, _ = _order(trade, "100", monkeypatch)
    workflows.create_template(order_id, now=NOW, http_options=FAST)
    seller, buyer = trade.principal(trade.seller_user), trade.principal(trade.buyer_user)
    with unit_of_work(tenant=seller) as s:
        orders.act(s, principal=seller, order_id=order_id, verb="confirm")
    metrc.clock = datetime.now(UTC)
    transfer = metrc.register_template(metrc.templates[LICENSE][0]["Id"], manifest="0000005151")
    transfer["ActualDepartureDateTime"] = transfer["LastModified"]
    workflows.follow_transfer(order_id, http_options=FAST)
    with pytest.raises(ValidationFailed, match="Say why package …00000011 is rejected"):
        workflows.receive_order(buyer, order_id, [workflows.Decision(LABEL, False)], http_options=FAST)
    result = workflows.receive_order(buyer, order_id, [workflows.Decision(LABEL, False, reason="seal broken")],
                                     http_options=FAST)
    assert result["status"] == "in_transit" and result["packages"][0] == {
        "label": LABEL, "quantity": "100", "unit": "Pounds", "state": "rejected", "reason": "seal broken"}
    assert "Metrc receipt: package …00000011 rejected: seal broken" in _notes(order_id)


def test_preflight_blocks_a_partial_package_with_its_message(trade, metrc, monkeypatch):
    order_id, _ = _order(trade, "20", monkeypatch)
    assert workflows.create_template(order_id, now=NOW, http_options=FAST) == "blocked"
    assert LICENSE not in metrc.templates  # nothing sent to Metrc
    note = _notes(order_id)[-1]
    assert note.startswith("Metrc transfer template not sent: Package …00000011: the order moves 20 lb, Metrc "
                           "holds 100 Pounds.")
    with unit_of_work() as s:
        link = s.exec(select(TransferLink).where(TransferLink.order_id == order_id)).one()
        assert link.status == "blocked"


def test_list_on_ccx_from_a_metrc_package(market, metrc):  # noqa: F811
    label = tag(21)
    metrc.add_package(label, item="Blue Dream Buds", category="Buds", strain="Blue Dream", quantity=4536,
                      unit="Grams", thc=22.5, with_document=True)
    seller = market.principal(market.seller_user)
    with unit_of_work() as session:
        link = Connection(business_id=market.seller.id, vendor="metrc", name="Metrc", base_url=metrc.url,
                          credentials=json.dumps(metrc.credentials()))
        session.add(link)
    business_id, listing, document = workflows.fetch_for_listing(seller, link.id, label, with_document=True,
                                                                 http_options=FAST)
    assert (listing.title, listing.product_type, listing.strain_name, listing.quantity, listing.unit) == (
        "Blue Dream Buds", "flower", "Blue Dream", Decimal("4536"), "g")
    assert listing.thc_pct == 22.5 and listing.lab_passed and listing.lab_name == "Front Range Testing Labs"
    assert document.startswith(b"%PDF")
    with unit_of_work(tenant=seller) as session:
        lot = workflows.list_on_ccx(session, principal=seller, business_id=business_id, listing=listing,
                                    price_per_unit="4.50", min_order_qty="454", document=document)
        lot_id = lot.id
    with unit_of_work() as session:
        lot = session.get(Lot, lot_id)
        assert lot.status == "draft" and lot.metrc_tag == label and lot.thc_pct == 22.5 and lot.unit == "g"
        coa = session.exec(select(CoaDocument).where(CoaDocument.lot_id == lot_id)).one()
        assert coa.filename == f"coa-{label}.pdf" and coa.claimed_total_thc_pct == 22.5
    metrc.add_package(tag(22), lab_state="TestPending")
    _, pending, _ = workflows.fetch_for_listing(seller, link.id, tag(22), http_options=FAST)
    with unit_of_work(tenant=seller) as session, pytest.raises(ValidationFailed, match="has not passed lab testing"):
        workflows.list_on_ccx(session, principal=seller, business_id=business_id, listing=pending,
                              price_per_unit="4.50")
