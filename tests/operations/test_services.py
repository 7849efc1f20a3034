"""Operations services on the real database: imports, forecasts, reorder and purchase orders, CCX offers, pricing,
expirations, and tenancy (another business's rows are a 404)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.exchange.models import Offer
from icc_app.operations import data, forecast_service, pricing, purchasing, sending
from icc_app.operations.models import (
    DemandDay,
    PurchaseOrderEvent,
    PurchaseOrderStatus,
    StoredForecast,
    SuggestionStatus,
)
from tests.factories import queued_emails
from tests.operations.conftest import TODAY, demand, menu_item, steady, stock, store, supplier_with_lot

S = PurchaseOrderStatus


def test_sales_csv_saves_valid_rows_and_lists_bad_ones(shop, session):
    csv_bytes = (b"date,sku,quantity,category,revenue\n2026-11-01,og-kush-35,3,Flower,90\n"
                 b"2026-11-31,og-kush-35,2,flower,60\n2026-11-02,og-kush-35,4,flower,120\n"
                 b"2026-11-02,gummies,many,edible,10\n2026-11-02,og-kush-35,1,flower,30\n")
    with unit_of_work() as s:
        report = data.import_sales(s, principal=shop.principal(), business_id=shop.business_id, data=csv_bytes)
    assert report.saved == 3
    assert report.errors == [{"line": 3, "message": "'2026-11-31' is not a date (use YYYY-MM-DD)"},
                             {"line": 5, "message": "quantity 'many' is not a number"}]
    rows = {(r.day.isoformat(), float(r.quantity)) for r in session.exec(select(DemandDay))}
    assert rows == {("2026-11-01", 3.0), ("2026-11-02", 5.0)}  # the same day's lines add up
    with unit_of_work() as s:  # the same file again changes nothing
        data.import_sales(s, principal=shop.principal(), business_id=shop.business_id, data=csv_bytes)
    assert {(r.day.isoformat(), float(r.quantity)) for r in session.exec(select(DemandDay))} == rows


def test_inventory_csv_refuses_a_file_without_its_columns_and_reports_rows(shop):
    with unit_of_work() as s, pytest.raises(ValidationFailed, match="Missing column: quantity"):
        data.import_inventory(s, principal=shop.principal(), business_id=shop.business_id, data=b"sku,qty\na,1\n")
    with unit_of_work() as s:
        report = data.import_inventory(s, principal=shop.principal(), business_id=shop.business_id,
                                       data=b"sku,quantity,unit_cost,expires_on\na,5,4.50,2027-01-01\nb,-2,1,\n"
                                            b"c,3,,soon\n")
    assert report.saved == 1 and [e["line"] for e in report.errors] == [3, 4]


def test_stored_forecasts_add_up_from_products_to_the_store(shop):
    with unit_of_work() as s:
        demand(s, shop.business_id, "og-kush", steady(12, seed=1))
        demand(s, shop.business_id, "blue-dream", steady(6, seed=2))
        demand(s, shop.business_id, "gummies", steady(4, seed=3), category="edible")
        count = forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=14, today=TODAY)
    assert count == 6  # 3 products, 2 categories, the store
    with unit_of_work() as s:
        rows = {(f.level, f.node_key): f for f in forecast_service.list_forecasts(
            s, principal=shop.principal(), business_id=shop.business_id)}
    total = [v["mean"] for v in rows["location", "main"].values]
    summed = [sum(rows["product", p].values[i]["mean"] for p in ("og-kush", "blue-dream", "gummies"))
              for i in range(14)]
    assert total == pytest.approx(summed, abs=1e-3)
    flower = rows["product", "og-kush"]
    assert flower.model and flower.model_version and flower.backtest_mase is not None
    assert rows["product", "og-kush"].values[0]["date"] == TODAY.isoformat()


def test_another_business_cannot_read_forecasts_or_orders(shop, rival):
    with unit_of_work() as s:
        demand(s, shop.business_id, "og-kush", steady(8))
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=7, today=TODAY)
        forecast_id = s.exec(select(StoredForecast.id)).first()
        stock(s, shop.business_id, "og-kush", 2)
        purchasing.set_policy(s, principal=shop.principal(), business_id=shop.business_id, product_key="og-kush",
                              supplier_name="Farm A", lead_time_days=5)
        po = purchasing.draft_orders(s, business_id=shop.business_id)[0]
    intruder = rival.principal()
    with unit_of_work() as s:
        for call in (lambda: forecast_service.list_forecasts(s, principal=intruder, business_id=shop.business_id),
                     lambda: forecast_service.get_forecast(s, principal=intruder, business_id=shop.business_id,
                                                           forecast_id=forecast_id),
                     lambda: purchasing.get_order(s, principal=intruder, business_id=shop.business_id, po_id=po.id),
                     lambda: purchasing.get_order(s, principal=intruder, business_id=rival.business_id, po_id=po.id)):
            with pytest.raises(NotFound):
                call()


def _reorder_setup(shop, *, supplier_b_email="orders@farm-b.test"):
    principal = shop.principal()
    with unit_of_work() as s:
        for product, mean in (("og-kush", 10), ("blue-dream", 8), ("gummies", 5)):
            demand(s, shop.business_id, product, steady(mean, seed=len(product)))
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=30, today=TODAY)
        stock(s, shop.business_id, "og-kush", 5, strain="OG Kush")
        stock(s, shop.business_id, "blue-dream", 6, strain="Blue Dream")
        stock(s, shop.business_id, "gummies", 400, category="edible")
        for product in ("og-kush", "blue-dream"):
            purchasing.set_policy(s, principal=principal, business_id=shop.business_id, product_key=product,
                                  supplier_name="Farm A", supplier_email="sales@farm-a.test", lead_time_days=5)
        purchasing.set_policy(s, principal=principal, business_id=shop.business_id, product_key="gummies",
                              supplier_name="Farm B", supplier_email=supplier_b_email, lead_time_days=5)
    return principal


def test_low_stock_drafts_one_order_per_supplier_and_a_rerun_adds_nothing(shop, session):
    _reorder_setup(shop)
    with unit_of_work() as s:
        first = purchasing.draft_orders(s, business_id=shop.business_id)
    assert [p.supplier_name for p in first] == ["Farm A"]  # gummies are well stocked
    with unit_of_work() as s:
        again = purchasing.draft_orders(s, business_id=shop.business_id)
        po, lines, events = purchasing.get_order(s, principal=shop.principal(), business_id=shop.business_id,
                                                 po_id=first[0].id)
    assert [p.id for p in again] == [first[0].id]
    assert sorted(line.product_key for line in lines) == ["blue-dream", "og-kush"]
    for line in lines:
        assert line.quantity > 0 and line.on_hand < line.reorder_point <= line.order_up_to
    assert po.total == sum(line.quantity * line.unit_cost for line in lines)
    assert [e.to_status for e in events] == ["draft"]


def test_purchase_order_transitions_refuse_illegal_moves(shop, session):
    _reorder_setup(shop)
    with unit_of_work() as s:
        po = purchasing.draft_orders(s, business_id=shop.business_id)[0]
    owner, staff = shop.principal(), shop.principal(shop.staff)

    def move(principal, to):
        with unit_of_work() as s:
            return purchasing.change_status(s, principal=principal, business_id=shop.business_id, po_id=po.id, to=to)

    with pytest.raises(Conflict, match="A draft purchase order cannot become received"):
        move(owner, S.received)
    with pytest.raises(ValidationFailed, match="send_order"):
        move(owner, S.sent)
    with pytest.raises(PermissionDenied):
        move(staff, S.approved)  # approving needs a Manager
    assert move(owner, S.approved).status == S.approved
    with pytest.raises(Conflict):
        move(owner, S.approved)
    with unit_of_work() as s, pytest.raises(Conflict, match="Only a draft can be edited"):
        line = purchasing.get_order(s, principal=owner, business_id=shop.business_id, po_id=po.id)[1][0]
        purchasing.update_line(s, principal=owner, business_id=shop.business_id, po_id=po.id, line_id=line.id,
                               quantity=3)
    assert move(owner, S.cancelled).status == S.cancelled
    with pytest.raises(Conflict):
        move(owner, S.draft)
    events = session.exec(select(PurchaseOrderEvent).where(PurchaseOrderEvent.purchase_order_id == po.id)
                          .order_by(PurchaseOrderEvent.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("", "draft"), ("draft", "approved"),
                                                              ("approved", "cancelled")]


def test_an_order_to_a_supplier_off_ccx_goes_out_as_csv_email(shop, session):
    principal = _reorder_setup(shop)
    with unit_of_work() as s:
        po = purchasing.draft_orders(s, business_id=shop.business_id)[0]
        purchasing.change_status(s, principal=principal, business_id=shop.business_id, po_id=po.id, to=S.approved)
    with unit_of_work() as s:
        sent = sending.send_order(s, principal=principal, business_id=shop.business_id, po_id=po.id)
    assert sent.status == S.sent and sent.sent_via == "email"
    (email,) = queued_emails(session, "operations_purchase_order", to="sales@farm-a.test")
    assert email["context"]["number"] == po.number
    assert email["context"]["csv"].startswith("po_number,supplier,sku,product,quantity,unit_cost,line_total")
    assert "og-kush" in email["context"]["csv"]


def test_an_order_to_a_ccx_supplier_becomes_offers_on_its_lots_with_their_cqi(shop, session):
    farm_id, lot_id = supplier_with_lot(strain="Blue Dream", cqi=82.5)
    principal = shop.principal()
    with unit_of_work() as s:
        demand(s, shop.business_id, "blue-dream", steady(8))
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=30, today=TODAY)
        stock(s, shop.business_id, "blue-dream", 3, strain="Blue Dream")
        purchasing.set_policy(s, principal=principal, business_id=shop.business_id, product_key="blue-dream",
                              supplier_name="Cascade Farms", supplier_business_id=farm_id, lead_time_days=3)
        po = purchasing.draft_orders(s, business_id=shop.business_id)[0]
        purchasing.change_status(s, principal=principal, business_id=shop.business_id, po_id=po.id, to=S.approved)
    with unit_of_work(tenant=principal) as s:  # as the API and the console run it: row-level security on
        candidates = sending.candidate_lots(s, principal=principal, business_id=shop.business_id, po_id=po.id)
    ((line_id, lots),) = candidates.items()
    assert lots[0].lot_id == lot_id and lots[0].cqi_score == 82.5 and lots[0].matches_strain
    for _ in range(2):  # a retry after a failure makes no second offer
        with unit_of_work(tenant=principal) as s:
            try:
                sending.send_order(s, principal=principal, business_id=shop.business_id, po_id=po.id,
                                   lot_choices={line_id: lot_id})
            except ValidationFailed:
                pass  # the second attempt: the order is already sent
    offers = session.exec(select(Offer).where(Offer.lot_id == lot_id)).all()
    assert len(offers) == 1 and offers[0].buyer_business_id == shop.business_id
    assert offers[0].price_per_unit == Decimal("9.50")


def test_price_suggestions_follow_nearby_competitors_and_never_cross_the_floor(shop, session):
    principal = shop.principal()
    with unit_of_work() as s:
        own = store(s, name="Green Door", lat=47.6062, lon=-122.3321, business_id=shop.business_id)
        near = store(s, name="Rival", lat=47.62, lon=-122.34)
        far = store(s, name="Far away", lat=45.52, lon=-122.68)  # Portland: outside the radius
        for price in ("20.00", "21.00", "22.00"):
            menu_item(s, near, category="flower", strain="OG Kush", price=price)
        menu_item(s, far, category="flower", strain="OG Kush", price="5.00")
        menu_item(s, near, category="flower", strain="Sour Diesel", price="2.00")  # another strain
        stock(s, shop.business_id, "og-kush", 40, strain="OG Kush", unit_cost="24.00", price="40.00", size="3.5g")
        pricing.set_rule(s, principal=principal, business_id=shop.business_id, category="flower",
                         min_margin_pct=Decimal("30"), max_discount_pct=Decimal("60"),
                         max_change_pct_per_day=Decimal("50"), radius_miles=10)
        assert own.claimed_by_business_id == shop.business_id
    with unit_of_work() as s:
        (suggestion,) = pricing.suggest_prices(s, business_id=shop.business_id, today=TODAY)
    assert suggestion.floor_price == Decimal("34.29")  # 24 / 0.7
    # half-way to the nearby median (21) would be 30.50: under the floor, so the floor holds
    assert suggestion.suggested_price == Decimal("34.29")
    assert suggestion.factors["competitors"] == 3 and suggestion.factors["competitor_median"] == "21.00"
    assert "margin floor" in suggestion.reason
    with unit_of_work() as s, pytest.raises(ValidationFailed, match="under the margin floor"):
        pricing.decide(s, principal=principal, business_id=shop.business_id, suggestion_id=suggestion.id,
                       approve=True, price=Decimal("20"))
    with unit_of_work() as s, pytest.raises(PermissionDenied):
        pricing.decide(s, principal=shop.principal(shop.staff), business_id=shop.business_id,
                       suggestion_id=suggestion.id, approve=True)
    with unit_of_work(tenant=principal) as s:
        done = pricing.decide(s, principal=principal, business_id=shop.business_id, suggestion_id=suggestion.id,
                              approve=True)
        exported = pricing.approved_prices_csv(s, principal=principal, business_id=shop.business_id)
    assert done.status == SuggestionStatus.approved and done.applied_via == "csv"
    assert "main,og-kush,Og-Kush,40.00,34.29" in exported


def test_expiring_batches_are_listed_soonest_first_with_a_markdown(shop):
    with unit_of_work() as s:
        stock(s, shop.business_id, "gummies", 12, category="edible", price="20.00", unit_cost="6.00",
              expires_on=TODAY + timedelta(days=3), batch="B1")
        stock(s, shop.business_id, "gummies", 30, category="edible", price="20.00", unit_cost="6.00",
              expires_on=TODAY + timedelta(days=20), batch="B2")
        stock(s, shop.business_id, "og-kush", 30, expires_on=TODAY + timedelta(days=200))
    with unit_of_work() as s:
        alerts = pricing.expiring(s, principal=shop.principal(), business_id=shop.business_id, today=TODAY)
    assert [(a.batch, a.days_left) for a in alerts] == [("B1", 3), ("B2", 20)]
    assert alerts[0].suggested_price < alerts[1].suggested_price < Decimal("20.00")
    assert alerts[0].suggested_price >= Decimal("8.58")  # 6 / 0.7: the default 30% margin floor


def test_the_nightly_refresh_runs_every_step_for_a_business(shop, session):
    from icc_app.operations.refresh import refresh_business
    from icc_app.operations.tasks import refresh_forecasts

    _reorder_setup(shop)
    with unit_of_work() as s:
        stock(s, shop.business_id, "gummies-old", 3, category="edible", price="20.00", unit_cost="5.00",
              expires_on=TODAY + timedelta(days=2))
    done = refresh_business(shop.business_id, horizon=14)  # 3 products, 1 category (flower), the store
    assert done["forecasts"] == 5 and done["purchase_orders"] == 1 and done["price_suggestions"] >= 1
    assert refresh_forecasts.run() >= 1  # the beat entry fans out one refresh per business with sales


def test_an_approved_price_goes_back_to_a_pos_that_can_take_it(shop, session, monkeypatch):
    from icc_app.integrations import base
    from icc_app.integrations.models import Connection

    sent = []

    class FakeDutchie:
        def update_price(self, external_id, price):
            sent.append((external_id, price))

    monkeypatch.setattr(base, "make_adapter", lambda config: FakeDutchie())
    principal = shop.principal()
    with unit_of_work() as s:
        connection = Connection(business_id=shop.business_id, vendor="dutchie", name="Dutchie", credentials="{}",
                                base_url="https://pos.example.test")
        s.add(connection)
        s.flush()
        stock(s, shop.business_id, "sku-9", 400, name="Slow mover", price="30.00", unit_cost="10.00",
              location=str(connection.id))
        demand(s, shop.business_id, "sku-9", [1.0] * 28, location=str(connection.id))
        forecast_service.refresh_forecasts(s, business_id=shop.business_id, horizon=14, today=TODAY)
        (suggestion,) = pricing.suggest_prices(s, business_id=shop.business_id, today=TODAY)
    assert "days of stock on hand" in suggestion.reason and suggestion.suggested_price < Decimal("30.00")
    with unit_of_work(tenant=principal) as s:
        done = pricing.decide(s, principal=principal, business_id=shop.business_id, suggestion_id=suggestion.id,
                              approve=True)
    assert done.applied_via == "pos"
    for _ in range(2):  # the task may be delivered twice: the POS is updated once
        with unit_of_work() as s:
            pricing.push_price(s, suggestion_id=suggestion.id)
    assert sent == [("sku-9", suggestion.suggested_price)]
