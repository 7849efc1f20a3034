"""The Maps pages' state without a browser: the dispensary page loads its store from the clean URL, groups the
menu by category and filters it (strain type, THC, price, effect); the console refuses a bad item inline and saves
a good one for the store the business claimed."""

from icc_app.core.db import unit_of_work
from icc_app.identity.models import BusinessType
from icc_app.maps.models import Dispensary, MenuItem, ReviewSummary
from icc_app.maps.ui.console import MyDispensaryState
from icc_app.maps.ui.pages import DispensaryState
from tests.factories import make_business, make_user, session_token, verified_license
from tests.ui.harness import make_state, run


def _store(session, **extra) -> Dispensary:
    store = Dispensary(name="Filter Shop", license_number="418888", state="WA", city="Seattle", city_slug="seattle",
                       slug="filter-shop-418888", latitude=47.6, longitude=-122.3, **extra)
    session.add(store)
    session.flush()
    return store


def test_dispensary_page_groups_and_filters_the_menu(connection):
    with unit_of_work() as session:
        store = _store(session)
        for name, category, strain_type, thc, price in (("Haze", "flower", "sativa", 24.0, 40.0),
                                                        ("Kush", "flower", "indica", 18.0, 30.0),
                                                        ("Gummies", "edible", None, None, 15.0)):
            item = MenuItem(dispensary_id=store.id, external_id=name, name=name, category=category,
                            strain_type=strain_type, thc_min=thc, thc_max=thc, price=price, in_stock_qty=3)
            session.add(item)
            session.flush()
            if name == "Kush":
                session.add(ReviewSummary(target_type="product", target_id=item.id, count=1, rating=5.0,
                                          effects={"sleepy": 1.0}))
    state = make_state(DispensaryState, path="/dispensaries/wa/seattle/filter-shop-418888")
    run(DispensaryState.load, state)
    assert state.found and state.info.name == "Filter Shop" and state.item_count == 3
    assert [(g.label, g.anchor, g.count, [i.name for i in g.products]) for g in state.groups] == [
        ("Edible", "menu-edible", "1 product", ["Gummies"]), ("Flower", "menu-flower", "2 products", ["Haze", "Kush"])]
    assert state.item_count_line == "3 products" and state.review_count_line == "0 reviews"
    kush = state.groups[1].products[1]
    assert kush.price_text == "$30.00" and kush.strain == "Indica" and kush.rating == "5.0 ★ (1)"
    price = next(i.price for i in state._items if i.name == "Kush")  # the server keeps the numbers
    assert str(price.amount) == "30.00" and price.currency == "USD"
    run(DispensaryState.set_sort, state, "price_low")  # sorted inside each category
    assert [i.name for g in state.groups for i in g.products] == ["Gummies", "Kush", "Haze"]
    run(DispensaryState.set_sort, state, "thc_high")
    assert [i.name for i in state.groups[1].products] == ["Haze", "Kush"]
    run(DispensaryState.set_sort, state, "no such order")  # back to the menu's own order, not an error
    assert state.sort == "category"
    run(DispensaryState.set_thc_min, state, "20")
    assert state.shown_count == 1 and state.groups[0].products[0].name == "Haze"
    run(DispensaryState.clear_filters, state)
    run(DispensaryState.set_thc_max, state, "20")  # a THC range: the edible (no THC on file) is not in it
    assert [i.name for g in state.groups for i in g.products] == ["Kush"]
    run(DispensaryState.clear_filters, state)
    run(DispensaryState.set_max_price, state, "35")
    assert [i.name for g in state.groups for i in g.products] == ["Gummies", "Kush"]
    run(DispensaryState.set_max_price, state, "not a number")  # ignored, not an error
    assert state.shown_count == 3
    run(DispensaryState.set_effect, state, "sleepy")
    assert [i.name for g in state.groups for i in g.products] == ["Kush"]
    run(DispensaryState.clear_filters, state)
    run(DispensaryState.set_strain_type, state, "indica")
    assert state.shown_count == 1

    missing = make_state(DispensaryState, path="/dispensaries/wa/seattle/no-such-shop")
    run(DispensaryState.load, missing)
    assert missing.loaded and not missing.found


def test_console_claims_and_refuses_a_bad_item_inline(connection):
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner, name="Filter Shop LLC", business_type=BusinessType.retailer)
        verified_license(session, business, number="418888")
        store = _store(session)
        token = session_token(session, owner)
    state = make_state(MyDispensaryState, token=token, path="/maps/manage")
    run(MyDispensaryState.load, state)
    assert [s["name"] for s in state.stores] == ["Filter Shop"] and not state.current.get("name")
    run(MyDispensaryState.claim, state, str(store.id))
    assert state.current["name"] == "Filter Shop" and state.stores[0]["claimed"] == "yes"
    for field, value in (("sku", "S1"), ("name", "Haze"), ("price", "free")):
        run(MyDispensaryState.set_draft, state, field, value)
    run(MyDispensaryState.save_item, state)
    assert "price" in state.errors["price"] and state.items == []  # shown beside the price box
    run(MyDispensaryState.set_draft, state, "price", "40")
    run(MyDispensaryState.save_item, state)
    assert state.errors == {} and [i["name"] for i in state.items] == ["Haze"]
    assert state.draft["sku"] == ""  # the form is cleared for the next item


def test_moderation_queue_publishes_or_hides_reported_reviews(connection):
    from datetime import date

    from icc_app.identity import service as identity
    from icc_app.identity.accounts import sign_up_consumer
    from icc_app.maps import reviews
    from icc_app.maps.ui.moderation import ReviewModerationState
    from tests.factories import PASSWORD

    with unit_of_work() as session:
        store = _store(session)
        fans = [identity.build_principal(session, sign_up_consumer(
            session, email=f"mod{i}@example.test", password=PASSWORD, handle=f"mod_{i}", birth_date=date(1990, 1, 1)))
            for i in range(2)]
        review = reviews.write(session, principal=fans[0], target_type="dispensary", target_id=store.id, rating=1,
                               effects=["anxious"], text="Terrible, avoid")
        reviews.report(session, principal=fans[1], review_id=review.id, reason="Spam from a competitor")
        admin = make_user(session, is_platform_admin=True)
        admin_token, fan_token = session_token(session, admin), session_token(session, make_user(session))
    outsider = make_state(ReviewModerationState, token=fan_token, path="/admin/reviews")
    assert run(ReviewModerationState.load, outsider) is not None and outsider.queue == []  # sent away, nothing shown
    state = make_state(ReviewModerationState, token=admin_token, path="/admin/reviews")
    run(ReviewModerationState.load, state)
    assert [(r.text, r.reports, r.status) for r in state.queue] == [("Terrible, avoid", "1 report", "Published")]
    run(ReviewModerationState.set_note, state, str(review.id), "competitor spam")
    run(ReviewModerationState.decide, state, str(review.id), False)
    assert state.queue[0].status == "Hidden" and state.queue[0].note == "competitor spam"
    with unit_of_work() as session:
        assert reviews.published(session, target_type="dispensary", target_id=store.id) == []


def test_product_page_state_holds_read_models(connection):
    from icc_app.maps import catalog
    from icc_app.maps.ui.product import ProductState

    with unit_of_work() as session:
        store = _store(session, phone="425.861.5497", street="1 Pine St", postal_code="98101")
        item = MenuItem(dispensary_id=store.id, external_id="H1", name="Haze 3.5g", category="flower",
                        strain_type="sativa", thc_min=24.0, thc_max=24.0, price=40.1, in_stock_qty=3,
                        variants=[{"label": "3.5 g", "weight_g": 3.5, "price": 40.1}])
        session.add(item)
        session.flush()
        path = catalog.product_path(store, item)
    state = make_state(ProductState, path=path)
    run(ProductState.load, state)
    assert state.found and state.product.name == "Haze 3.5g" and state.product.price_text == "$40.10"
    assert [(v.label, v.price) for v in state.variants] == [("3.5 g", "$40.10")]
    assert state.place.phone == "(425) 861-5497" and state.place.phone_href == "tel:+14258615497"
    assert state.place.directions.endswith("1+Pine+St%2C+Seattle%2C+WA%2C+98101") and not state.place.claimed
    assert state.page_title == "Haze 3.5g at Filter Shop | ICC Maps"
