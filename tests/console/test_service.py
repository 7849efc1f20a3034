"""The operator's home lists what waits on them: each step of a real trade moves the work to the other side."""

from datetime import date

from icc_app.console.service import my_reviews, name_objects, work_queue
from icc_app.core.db import unit_of_work
from icc_app.exchange import disputes, offers, orders
from icc_app.identity import service as identity
from icc_app.identity.models import UserKind
from icc_app.maps.models import Dispensary, Review
from tests.factories import PASSWORD, make_business, make_user, verified_license


def _consumer(session, handle: str):
    return identity.create_user(session, email=f"{handle}@example.test", password=PASSWORD, display_name=handle,
                                kind=UserKind.consumer, handle=handle, birth_date=date(1990, 1, 1))


def _queue(market, user) -> dict[str, str]:
    """The queue as the home page reads it: as the person's tenant (row-level security on PostgreSQL)."""
    principal = market.principal(user)
    with unit_of_work(tenant=principal) as session:
        return {item.key: item.title for item in work_queue(session, principal=principal)}


def test_each_step_of_a_trade_waits_on_the_right_side(market):
    seller, buyer = market.principal(market.seller_user), market.principal(market.buyer_user)
    assert _queue(market, market.seller_user) == {} and _queue(market, market.buyer_user) == {}

    with unit_of_work() as session:
        offer = offers.make_offer(session, principal=buyer, buyer_business_id=market.buyer.id, lot_id=market.lot_id,
                                  quantity="20", price_per_unit="1150")
    assert _queue(market, market.seller_user) == {"offers": "1 offer to answer"}
    assert _queue(market, market.buyer_user) == {}

    with unit_of_work() as session:
        offers.counter(session, principal=seller, offer_id=offer.id, quantity="20", price_per_unit="1180")
    assert _queue(market, market.seller_user) == {}
    assert _queue(market, market.buyer_user) == {"offers": "1 offer to answer"}

    with unit_of_work() as session:
        order = offers.accept(session, principal=buyer, offer_id=offer.id)
    assert _queue(market, market.seller_user) == {"confirm": "1 order to confirm"}
    assert _queue(market, market.buyer_user) == {"pay": "1 payment to send"}

    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="confirm")
    assert _queue(market, market.seller_user) == {}  # prepay: nothing to ship until the money is in
    with unit_of_work() as session:
        orders.mark_payment_sent(session, principal=buyer, order_id=order.id, reference="W-1", amount=order.total)
    assert _queue(market, market.seller_user) == {"payment_received": "1 payment to confirm received"}
    assert _queue(market, market.buyer_user) == {}
    with unit_of_work() as session:
        orders.mark_payment_received(session, principal=seller, order_id=order.id, amount=order.total)
    assert _queue(market, market.seller_user) == {"ship": "1 order to ship"}

    with unit_of_work() as session:
        orders.act(session, principal=seller, order_id=order.id, verb="ship")
    assert _queue(market, market.buyer_user) == {"receive": "1 order to receive"}

    with unit_of_work() as session:
        disputes.open_dispute(session, principal=buyer, order_id=order.id, reason="quantity_short",
                              description="Two pounds short on arrival.")
    assert _queue(market, market.seller_user) == {"disputes": "1 open dispute on your orders"}
    with unit_of_work() as session:
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
        platform = {item.key: (item.title, item.route) for item in work_queue(session, principal=admin)}
    assert platform["platform_disputes"] == ("1 dispute to decide", "/admin/disputes")
    assert "disputes" not in platform  # the admin is party to no order


def test_another_business_and_consumers_see_none_of_it(market):
    with unit_of_work() as session:
        offers.make_offer(session, principal=market.principal(market.buyer_user), buyer_business_id=market.buyer.id,
                          lot_id=market.lot_id, quantity="20", price_per_unit="1150")
        stranger = make_user(session)
        make_business(session, owner=stranger)
        consumer = _consumer(session, "quiet_reader")
    assert _queue(market, stranger) == {}
    assert _queue(market, consumer) == {}
    assert _queue(market, market.seller_user) == {"offers": "1 offer to answer"}


def test_licenses_to_renew_counts_expired_and_soon_ending_ones(market):
    with unit_of_work() as session:
        verified_license(session, market.seller, number="401900", expires_in_days=12)
        verified_license(session, market.seller, number="401901", expires_in_days=-3)
        verified_license(session, market.seller, number="401902", expires_in_days=200)
    with unit_of_work() as session:
        items = work_queue(session, principal=market.principal(market.seller_user))
    assert [(i.title, i.route) for i in items] == [("2 licenses to renew", "/onboarding")]


def test_a_consumer_sees_their_own_reviews_with_links(connection):
    with unit_of_work() as session:
        consumer, other = _consumer(session, "leaf_lover"), _consumer(session, "other_one")
        store = Dispensary(name="GREEN LEAF LLC", dba="Green Leaf", license_number="9001", state="WA",
                           city_slug="seattle", slug="green-leaf-9001")
        session.add(store)
        session.flush()
        for author, text in ((consumer, "Friendly staff."), (other, "Not mine.")):
            session.add(Review(author_id=author.id, target_type="dispensary", target_id=store.id,
                               dispensary_id=store.id, rating=4, text=text))
        session.flush()
        total, lines = my_reviews(session, principal=identity.build_principal(session, consumer))
    assert total == 1
    assert [(r.place, r.rating, r.text, r.path) for r in lines] == [
        ("Green Leaf", 4, "Friendly staff.", "/dispensaries/wa/seattle/green-leaf-9001")]


def test_audit_objects_are_named_and_linked(market):
    with unit_of_work() as session:
        names = name_objects(session, [("user", market.seller_user.id), ("business", str(market.seller.id)),
                                       ("lot", market.lot_id), ("offer", "0b6e3d0c-1111-2222-3333-444455556666"),
                                       ("oidc_signing_key", None)])
    assert names[("user", str(market.seller_user.id))].text == f"Sid Seller <{market.seller_user.email}>"
    assert names[("business", str(market.seller.id))].text == "Sid Farms LLC"
    lot = names[("lot", str(market.lot_id))]
    assert (lot.text, lot.path) == ("GDP flower, indoor", f"/exchange/lots/{market.lot_id}")
    assert names[("offer", "0b6e3d0c-1111-2222-3333-444455556666")].text == "Offer 0b6e3d0c"  # no namer: type + short id
    assert names[("oidc_signing_key", "")].text == "OIDC signing key"
