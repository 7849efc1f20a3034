"""The Metrc pieces of the operator's pages without a browser: "List on CCX" from the Metrc page's package list
makes a pre-filled draft lot and links to it (a package on hold cannot be listed); the order page's Metrc panel
shows both sides the template, the manifest and the Metrc events, and lets the buyer of an in-transit order
receive package by package (every package decided, a rejection with its reason)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.exchange import orders
from icc_app.exchange.models import Lot, Order
from icc_app.exchange.ui.metrc_panel import MetrcOrderState as P
from icc_app.identity.models import User
from icc_app.integrations.metrc import workflows
from icc_app.integrations.metrc.ui.packages import MetrcPackagesState as L
from icc_app.maps.models import MenuItem
from tests.factories import session_token
from tests.integrations.fakes.metrc import LICENSE, NOW, tag
from tests.integrations.metrc.conftest import FAST
from tests.exchange.conftest import market  # noqa: F401 - fixture
from tests.integrations.metrc.test_workflows import LABEL, _order, trade  # noqa: F401 - fixture
from tests.ui.harness import make_state, run


def _state(cls, user_id, path: str):
    with unit_of_work() as session:
        token = session_token(session, session.get(User, user_id))
    return make_state(cls, token=token, path=path)


def test_list_on_ccx_from_the_metrc_page(trade, metrc):  # noqa: F811
    metrc.add_package(tag(12), item="Sour Diesel Buds", strain="Sour Diesel", quantity=5, unit="Pounds",
                      on_hold=True)
    page = _state(L, trade.seller_user.id, "/console/integrations/metrc/alerts")
    run(L.load, page)
    assert page.connection_id and page.can_list
    run(L.show, page)
    assert [p.label for p in page.packages] == [LABEL, tag(12)]  # sellable first
    held = page.packages[1]
    assert not held.sellable and held.why_not == "On hold in Metrc"
    assert page.packages[0].quantity == "100 Pounds" and page.packages[0].lab == "Lab passed"

    run(L.list_on_ccx, page, LABEL)  # no price typed: nothing is created
    assert page.listed == {}
    run(L.set_price, page, LABEL, "1,200")
    run(L.list_on_ccx, page, LABEL)
    lot_id = page.listed[LABEL]
    with unit_of_work() as session:
        lot = session.get(Lot, lot_id)
        assert lot.status == "draft" and lot.metrc_tag == LABEL and lot.strain_name == "Granddaddy Purple"
        assert str(lot.unit) in ("lb", "LotUnit.lb") and lot.quantity == 100 and lot.price_per_unit == 1200
    run(L.list_on_ccx, page, LABEL)  # a second click makes no second lot
    with unit_of_work() as session:
        assert len(session.exec(select(Lot).where(Lot.metrc_tag == LABEL)).all()) == 2  # the fixture's + this one

    run(L.set_price, page, tag(12), "900")
    run(L.list_on_ccx, page, tag(12))
    assert tag(12) not in page.listed


def test_order_panel_shows_the_transfer_and_the_buyer_receives_package_by_package(trade, metrc,  # noqa: F811
                                                                                monkeypatch):
    order_id, _ = _order(trade, "100", monkeypatch)
    path = f"/exchange/orders/{order_id}"
    seller_page = _state(P, trade.seller_user.id, path)
    run(P.load, seller_page)
    assert not seller_page.has_transfer  # nothing Metrc yet: the panel stays hidden

    assert workflows.create_template(order_id, now=NOW, http_options=FAST) == "created"
    run(P.load, seller_page)
    assert seller_page.has_transfer and seller_page.template_name.startswith("CCX-")
    assert seller_page.transfer_words.startswith("Template created") and seller_page.manifest == ""
    assert any("Metrc transfer template" in e.note for e in seller_page.events)
    assert not seller_page.can_receive

    seller = trade.principal(trade.seller_user)
    with unit_of_work(tenant=seller) as s:
        orders.act(s, principal=seller, order_id=order_id, verb="confirm")
    metrc.clock = datetime.now(UTC)
    transfer = metrc.register_template(metrc.templates[LICENSE][0]["Id"], manifest="0000007777")
    transfer["ActualDepartureDateTime"] = transfer["LastModified"]
    assert workflows.follow_transfer(order_id, http_options=FAST) == "in_transit"

    buyer_page = _state(P, trade.buyer_user.id, path)
    run(P.load, buyer_page)
    assert buyer_page.manifest == "0000007777" and buyer_page.transfer_words == "In transit"
    assert buyer_page.can_receive and [p.label for p in buyer_page.packages] == [LABEL]
    assert buyer_page.packages[0].state_label == "On the template"
    run(P.load, seller_page)
    assert seller_page.manifest == "0000007777" and not seller_page.can_receive  # only the buyer receives

    run(P.receive, buyer_page)  # nothing decided: said beside the package, nothing sent
    assert buyer_page.errors[LABEL] == "Accept or reject this package."
    run(P.choose, buyer_page, LABEL, "reject")
    run(P.receive, buyer_page)
    assert buyer_page.errors[LABEL] == "Say why it is rejected."
    run(P.choose, buyer_page, LABEL, "accept")
    run(P.receive, buyer_page)
    assert not buyer_page.errors and not buyer_page.form_error
    assert buyer_page.packages[0].state_label == "Accepted" and buyer_page.transfer_words == "Received"
    assert not buyer_page.can_receive
    assert any("Metrc receipt: package" in e.note for e in buyer_page.events)
    assert any(e.note.startswith("Retail menu: 1 item(s) created") for e in buyer_page.events)
    with unit_of_work() as s:
        assert s.get(Order, order_id).status == "received"
        assert s.exec(select(MenuItem).where(MenuItem.source == "metrc", MenuItem.external_id == LABEL)).one()
    run(P.load, seller_page)
    assert seller_page.packages[0].state_label == "Accepted"  # the seller sees the receipt too


def test_the_buyer_receives_through_metrc_only_where_a_metrc_receipt_can_go_through(trade, metrc,  # noqa: F811
                                                                                   monkeypatch):
    from icc_app.integrations.metrc.models import TransferLink
    from icc_app.integrations.models import Connection

    order_id, _ = _order(trade, "100", monkeypatch)
    path = f"/exchange/orders/{order_id}"
    assert workflows.create_template(order_id, now=NOW, http_options=FAST) == "created"
    seller = trade.principal(trade.seller_user)
    with unit_of_work(tenant=seller) as s:
        orders.act(s, principal=seller, order_id=order_id, verb="confirm")
    metrc.clock = datetime.now(UTC)
    transfer = metrc.register_template(metrc.templates[LICENSE][0]["Id"], manifest="0000008888")
    transfer["ActualDepartureDateTime"] = transfer["LastModified"]
    assert workflows.follow_transfer(order_id, http_options=FAST) == "in_transit"
    assert workflows.follow_transfer(order_id, http_options=FAST) == "nothing"  # a repeated run changes nothing

    buyer_page = _state(P, trade.buyer_user.id, path)
    with unit_of_work() as s:  # the buyer's Metrc connection is gone: the order is received by hand
        buyer_id = s.get(Order, order_id).buyer_business_id
        for c in s.exec(select(Connection).where(Connection.business_id == buyer_id, Connection.vendor == "metrc")):
            c.status = "disconnected"
            s.add(c)
    run(P.load, buyer_page)
    assert buyer_page.manifest == "0000008888" and not buyer_page.can_receive
    with unit_of_work() as s:
        for c in s.exec(select(Connection).where(Connection.business_id == buyer_id, Connection.vendor == "metrc")):
            c.status = "healthy"
            s.add(c)
        link = s.exec(select(TransferLink).where(TransferLink.order_id == order_id)).one()
        link.status = "closed"  # the order left the Metrc path (a dispute, then shipped by hand)
        s.add(link)
    run(P.load, buyer_page)
    assert not buyer_page.can_receive
