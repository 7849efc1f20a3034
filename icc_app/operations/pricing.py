"""Price suggestions and expiration alerts for a business's stock. Competitor prices come from other dispensaries'
menus on ICC Maps (same category, same strain and size, within the category's radius of the business's own store);
days of supply and the demand forecast come from the operations tables; the category's rules bound the move and
the margin floor is never crossed (pricing_rules). An approved price is recorded and goes back to the POS when its
adapter can update prices; otherwise it is listed in the approved-prices CSV for the operator to apply."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.geo import within_radius
from icc_app.core.models import utcnow
from icc_app.identity.models import Role
from icc_app.identity.schemas import Principal
from icc_app.maps.models import Dispensary, MenuItem
from icc_app.operations import pricing_rules, scoping
from icc_app.operations.data import size_label
from icc_app.operations.forecast_service import product_forecasts
from icc_app.operations.models import CategoryRule, DemandDay, PriceSuggestion, StockItem, SuggestionStatus

MAX_COMPETITORS = 50


def rules_for(session: Session, business_id: uuid.UUID) -> dict[str, CategoryRule]:
    return {r.category: r for r in session.exec(select(CategoryRule).where(CategoryRule.business_id == business_id))}


def set_rule(session: Session, *, principal: Principal, business_id: uuid.UUID, category: str,
             min_margin_pct: Decimal, max_discount_pct: Decimal, max_change_pct_per_day: Decimal,
             radius_miles: float = 10.0, expiry_alert_days: int = 30) -> CategoryRule:
    scoping.member(principal, business_id, min_role=Role.manager)
    checks = [(Decimal(min_margin_pct), 0, 95, "min_margin_pct"), (Decimal(max_discount_pct), 0, 90, "max_discount_pct"),
              (Decimal(max_change_pct_per_day), 0, 100, "max_change_pct_per_day")]
    for value, low, high, name in checks:
        if not low <= value <= high:
            raise ValidationFailed(f"{name.replace('_', ' ')} is between {low} and {high}.", field=name)
    if not 0.5 <= radius_miles <= 100 or not 1 <= expiry_alert_days <= 365:
        raise ValidationFailed("The radius is 0.5 to 100 miles and the alert window 1 to 365 days.", field="radius_miles")
    category = category.strip().lower()[:40]  # as data.py stores a stock item's category
    if not category or "\x00" in category:
        raise ValidationFailed("Name the category, as your POS or import names it.", field="category")
    rule = session.exec(scoping.rows(CategoryRule, principal, business_id)
                        .where(CategoryRule.category == category)).first()
    before = None if rule is None else _rule_values(rule)
    rule = rule or CategoryRule(business_id=business_id, category=category)
    rule.min_margin_pct, rule.max_discount_pct = Decimal(min_margin_pct), Decimal(max_discount_pct)
    rule.max_change_pct_per_day, rule.radius_miles = Decimal(max_change_pct_per_day), radius_miles
    rule.expiry_alert_days = expiry_alert_days
    session.add(rule)
    session.flush()
    audit.record(session, action="operations.category_rule.saved", object_type="ops_category_rule", object_id=rule.id,
                 actor_id=principal.user_id, business_id=business_id, before=before,
                 after={"category": category, **_rule_values(rule)})
    return rule


def _rule_values(rule: CategoryRule) -> dict:
    return {"min_margin_pct": str(rule.min_margin_pct), "max_discount_pct": str(rule.max_discount_pct),
            "max_change_pct_per_day": str(rule.max_change_pct_per_day), "radius_miles": rule.radius_miles,
            "expiry_alert_days": rule.expiry_alert_days}


def category_rules(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[tuple[CategoryRule, bool]]:
    """Every category the business stocks or has a rule for, with its rule: (rule, saved). A category without a
    saved rule shows the defaults the suggestions use for it (an unsaved row, not added to the session)."""
    scoping.member(principal, business_id)
    saved = {r.category: r for r in session.exec(scoping.rows(CategoryRule, principal, business_id))}
    stocked = set(session.exec(select(StockItem.category).where(StockItem.business_id == business_id).distinct()))
    return [(saved[c], True) if c in saved else (CategoryRule(business_id=business_id, category=c), False)
            for c in sorted(set(saved) | {c for c in stocked if c})]


def _rules(rule: CategoryRule | None) -> pricing_rules.Rules:
    if rule is None:
        return pricing_rules.Rules()
    return pricing_rules.Rules(min_margin_pct=rule.min_margin_pct, max_discount_pct=rule.max_discount_pct,
                               max_change_pct_per_day=rule.max_change_pct_per_day)


def own_stores(session: Session, business_id: uuid.UUID) -> list[Dispensary]:
    return list(session.exec(select(Dispensary).where(Dispensary.claimed_by_business_id == business_id)))


def competitor_prices(session: Session, *, business_id: uuid.UUID, item: StockItem, miles: float) -> list[Decimal]:
    """Prices of the same category (and strain and size, when the item has them) on other stores' menus nearby."""
    stores = [s for s in own_stores(session, business_id) if s.latitude is not None]
    if not stores:
        return []
    origin = stores[0]
    conditions, _ = within_radius(session.get_bind().dialect.name, Dispensary.latitude, Dispensary.longitude,
                                  origin.latitude, origin.longitude, miles)
    query = (select(MenuItem).join(Dispensary, Dispensary.id == MenuItem.dispensary_id)
             .where(*conditions, col(Dispensary.id).not_in([s.id for s in stores]), col(MenuItem.is_active).is_(True),
                    col(Dispensary.is_active).is_(True), col(MenuItem.price).is_not(None))
             .where(MenuItem.category.ilike(item.category)))
    if item.strain_name:
        query = query.where(MenuItem.strain_name.ilike(item.strain_name))
    prices = []
    for menu in session.exec(query.limit(MAX_COMPETITORS * 4)):
        if item.size_label and size_label(menu) and size_label(menu) != item.size_label:
            continue
        prices.append(Decimal(menu.price))
        if len(prices) >= MAX_COMPETITORS:
            break
    return prices


def category_elasticity(session: Session, business_id: uuid.UUID, days: int = 180) -> dict[str, float]:
    since = datetime.now(UTC).date() - timedelta(days=days)
    points: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for d in session.exec(select(DemandDay).where(DemandDay.business_id == business_id, DemandDay.day >= since,
                                                  DemandDay.quantity > 0, DemandDay.revenue > 0)):
        points[d.category].append((d.product_key, float(d.revenue / d.quantity), float(d.quantity)))
    out = {}
    for category, rows in points.items():
        value = pricing_rules.elasticity(rows)
        if value is not None:
            out[category] = round(value, 2)
    return out


@dataclass
class Shelf:
    """One product at one location, its batches summed."""
    location_key: str
    product_key: str
    item: StockItem
    quantity: float
    unit_cost: Decimal | None
    earliest_expiry: date | None


def shelves(session: Session, business_id: uuid.UUID) -> list[Shelf]:
    groups: dict[tuple[str, str], list[StockItem]] = defaultdict(list)
    for item in session.exec(select(StockItem).where(StockItem.business_id == business_id, StockItem.quantity > 0)):
        groups[item.location_key, item.product_key].append(item)
    out = []
    for (location, product), items in groups.items():
        costs = [i.unit_cost for i in items if i.unit_cost is not None]
        expiries = [i.expires_on for i in items if i.expires_on]
        priced = next((i for i in items if i.price), items[0])
        out.append(Shelf(location, product, priced, sum(float(i.quantity) for i in items),
                         max(costs) if costs else None, min(expiries) if expiries else None))
    return out


def suggest_prices(session: Session, *, business_id: uuid.UUID, today: date | None = None) -> list[PriceSuggestion]:
    """System task: a fresh suggestion for every priced product whose suggested price differs from its price (or
    that is expiring); older open suggestions for the same product are superseded."""
    today = today or datetime.now(UTC).date()
    rules, forecasts = rules_for(session, business_id), product_forecasts(session, business_id)
    elasticity = category_elasticity(session, business_id)
    open_rows = {(s.location_key, s.product_key): s for s in session.exec(
        select(PriceSuggestion).where(PriceSuggestion.business_id == business_id,
                                      PriceSuggestion.status == SuggestionStatus.suggested))}
    made = []
    for shelf in shelves(session, business_id):
        item = shelf.item
        if not item.price or item.price <= 0:
            continue
        rule = rules.get(item.category)
        forecast = forecasts.get((shelf.location_key, shelf.product_key))
        per_day = _per_day(forecast)
        recent = _recent_per_day(session, business_id, shelf, today)
        change = ((per_day - recent) / recent * 100) if per_day is not None and recent else None
        days_to_expiry = (shelf.earliest_expiry - today).days if shelf.earliest_expiry else None
        situation = pricing_rules.Situation(
            current_price=item.price, unit_cost=shelf.unit_cost,
            competitor_prices=tuple(competitor_prices(session, business_id=business_id, item=item,
                                                      miles=rule.radius_miles if rule else 10.0)),
            days_of_supply=(shelf.quantity / per_day) if per_day else None, demand_change_pct=change,
            days_to_expiry=days_to_expiry, expiry_alert_days=rule.expiry_alert_days if rule else 30)
        result = pricing_rules.suggest(situation, _rules(rule))
        markdown = days_to_expiry is not None and days_to_expiry <= situation.expiry_alert_days
        if result.price == item.price and not markdown:
            continue
        previous = open_rows.get((shelf.location_key, shelf.product_key))
        if previous is not None:
            if previous.suggested_price == result.price and previous.reason == result.reason:
                continue  # the same advice is already waiting
            previous.status = SuggestionStatus.superseded
            session.add(previous)
        suggestion = PriceSuggestion(
            business_id=business_id, location_key=shelf.location_key, product_key=shelf.product_key,
            menu_item_id=item.menu_item_id, name=item.name, category=item.category,
            kind="markdown" if markdown else "pricing", current_price=item.price, suggested_price=result.price,
            floor_price=result.floor or Decimal("0"), currency=item.currency, reason=result.reason,
            factors={**result.factors, "elasticity": elasticity.get(item.category)},
            expected_revenue_change_pct=pricing_rules.revenue_effect_pct(elasticity.get(item.category), item.price,
                                                                         result.price))
        session.add(suggestion)
        made.append(suggestion)
    session.flush()
    return made


def _per_day(forecast) -> float | None:
    if forecast is None or not forecast.values:
        return None
    values = [float(v["mean"]) for v in forecast.values[:14]]
    return sum(values) / len(values)


def _recent_per_day(session: Session, business_id: uuid.UUID, shelf: Shelf, today: date) -> float | None:
    rows = session.exec(select(DemandDay.quantity).where(
        DemandDay.business_id == business_id, DemandDay.location_key == shelf.location_key,
        DemandDay.product_key == shelf.product_key, DemandDay.day >= today - timedelta(days=14),
        DemandDay.day < today)).all()
    return float(sum(rows)) / 14 if rows else None


# ---- the console's reads and decisions ---------------------------------------------------------------------------

def list_suggestions(session: Session, *, principal: Principal, business_id: uuid.UUID,
                     status: SuggestionStatus | None = SuggestionStatus.suggested) -> list[PriceSuggestion]:
    scoping.member(principal, business_id)
    query = scoping.rows(PriceSuggestion, principal, business_id)
    if status is not None:
        query = query.where(PriceSuggestion.status == status)
    return list(session.exec(query.order_by(col(PriceSuggestion.kind).desc(), col(PriceSuggestion.name))))


def decide(session: Session, *, principal: Principal, business_id: uuid.UUID, suggestion_id: uuid.UUID,
           approve: bool, price: Decimal | None = None) -> PriceSuggestion:
    """Approve (optionally at an edited price, which must respect the floor) or reject a suggestion."""
    scoping.member(principal, business_id, min_role=Role.manager)
    row = session.exec(scoping.rows(PriceSuggestion, principal, business_id)
                       .where(PriceSuggestion.id == suggestion_id)).first()
    if row is None:
        raise NotFound("Price suggestion not found.")
    if SuggestionStatus(row.status) != SuggestionStatus.suggested:
        raise Conflict(f"This suggestion is already {SuggestionStatus(row.status).value}.")
    if approve and price is not None:
        price = Decimal(str(price)).quantize(Decimal("0.01"))
        if price < row.floor_price:
            raise ValidationFailed(f"${price} is under the margin floor of ${row.floor_price}.", field="price")
        row.suggested_price = price
    row.status = SuggestionStatus.approved if approve else SuggestionStatus.rejected
    row.decided_by, row.decided_at = principal.user_id, utcnow()
    if approve:
        row.applied_via = "pos" if _pos_can_update(session, business_id, row.location_key) else "csv"
        if row.applied_via == "pos":
            enqueue(session, "operations.push_price", str(row.id))
    session.add(row)
    audit.record(session, action=f"operations.price.{'approve' if approve else 'reject'}",
                 object_type="price_suggestion", object_id=row.id, actor_id=principal.user_id,
                 business_id=business_id, before={"price": row.current_price},
                 after={"price": row.suggested_price, "status": SuggestionStatus(row.status).value})
    return row


def _connection(session: Session, business_id: uuid.UUID, location_key: str):
    from icc_app.integrations.models import Connection

    try:
        connection_id = uuid.UUID(location_key)
    except ValueError:
        return None
    return session.exec(select(Connection).where(Connection.id == connection_id,
                                                 Connection.business_id == business_id)).first()


def _pos_can_update(session: Session, business_id: uuid.UUID, location_key: str) -> bool:
    from icc_app.integrations import base

    connection = _connection(session, business_id, location_key)
    if connection is None:
        return False
    try:
        return base.Capability.update_price in base.adapter_class(connection.vendor).capabilities
    except base.IntegrationError:
        return False


def push_price(session: Session, *, suggestion_id: uuid.UUID) -> str:
    """Task body: write one approved price to the POS; on failure the price falls back to the CSV."""
    from icc_app.integrations import base, service

    row = session.get(PriceSuggestion, suggestion_id)
    if row is None or SuggestionStatus(row.status) != SuggestionStatus.approved or row.applied_via != "pos":
        return "nothing to do"
    if row.factors.get("pos_updated_at"):  # a second delivery of the task: the POS has this price already
        return "already updated"
    connection = _connection(session, row.business_id, row.location_key)
    try:
        if connection is None:
            raise base.Unsupported("The connection is gone.")
        base.make_adapter(service.config_for(connection)).update_price(row.product_key, row.suggested_price)
    except base.IntegrationError as exc:
        row.applied_via = "csv"
        row.factors = {**row.factors, "pos_error": exc.message[:300]}
        session.add(row)
        return f"failed: {exc.message}"
    row.factors = {**row.factors, "pos_updated_at": utcnow().isoformat()}
    session.add(row)
    return "updated"


def approved_prices_csv(session: Session, *, principal: Principal, business_id: uuid.UUID) -> str:
    """Approved prices that did not go to a POS: sku, product, old and new price."""
    rows = session.exec(scoping.rows(PriceSuggestion, principal, business_id).where(
        PriceSuggestion.status == SuggestionStatus.approved, PriceSuggestion.applied_via == "csv")
        .order_by(col(PriceSuggestion.decided_at).desc())).all()
    scoping.member(principal, business_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["location", "sku", "product", "old_price", "new_price", "approved_at"])
    for r in rows:
        writer.writerow([r.location_key, r.product_key, r.name, r.current_price, r.suggested_price,
                         r.decided_at.isoformat() if r.decided_at else ""])
    return out.getvalue()


@dataclass
class ExpiryAlert:
    location_key: str
    product_key: str
    name: str
    category: str
    batch: str
    quantity: float
    expires_on: date
    days_left: int
    suggested_price: Decimal | None
    current_price: Decimal | None
    reason: str


def expiring(session: Session, *, principal: Principal, business_id: uuid.UUID,
             today: date | None = None) -> list[ExpiryAlert]:
    """Batches within their category's alert window (default 30 days), soonest first, each with a markdown."""
    scoping.member(principal, business_id)
    today = today or datetime.now(UTC).date()
    rules = rules_for(session, business_id)
    alerts = []
    for item in session.exec(scoping.rows(StockItem, principal, business_id).where(
            StockItem.quantity > 0, col(StockItem.expires_on).is_not(None))):
        rule = rules.get(item.category)
        window = rule.expiry_alert_days if rule else 30
        days_left = (item.expires_on - today).days
        if days_left > window:
            continue
        price, reason = None, "no price on record"
        if item.price:
            result = pricing_rules.suggest(pricing_rules.Situation(
                current_price=item.price, unit_cost=item.unit_cost, days_to_expiry=days_left,
                expiry_alert_days=window), _rules(rule))
            price, reason = result.price, result.reason
        alerts.append(ExpiryAlert(item.location_key, item.product_key, item.name, item.category, item.batch,
                                  float(item.quantity), item.expires_on, days_left, price, item.price, reason))
    return sorted(alerts, key=lambda a: a.days_left)
