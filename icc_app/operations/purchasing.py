"""Reorder policies, the reorder plan (stock against each product's reorder point) and purchase orders: drafted
automatically, grouped by supplier, when stock crosses the reorder point; reviewed, edited and approved by a
Manager; sent either as offers on the supplier's CCX lots (the exchange's own offer flow) or as a CSV by email.
Every status change goes through `transition`, which writes an event row and the audit log."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.identity.models import Business, Role
from icc_app.identity.schemas import Principal
from icc_app.operations import scoping
from icc_app.operations.forecast_service import product_forecasts, trust
from icc_app.operations.models import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReorderPolicy,
    StockItem,
)
from icc_app.operations.replenishment import advise

S = PurchaseOrderStatus
STATUS_WORDS = {S.draft: "Draft", S.approved: "Approved", S.sent: "Sent", S.received: "Received",
                S.cancelled: "Cancelled"}
ALLOWED = {S.draft: {S.approved, S.cancelled}, S.approved: {S.sent, S.draft, S.cancelled},
           S.sent: {S.received, S.cancelled}, S.received: set(), S.cancelled: set()}
OPEN = (S.draft, S.approved, S.sent)


def transition(session: Session, po: PurchaseOrder, to: PurchaseOrderStatus, *, actor_id: uuid.UUID | None,
               reason: str = "") -> PurchaseOrder:
    """The one place a purchase order's status changes."""
    current = S(po.status)
    if to not in ALLOWED[current]:
        raise Conflict(f"A {STATUS_WORDS[current].lower()} purchase order cannot become "
                       f"{STATUS_WORDS[to].lower()}.")
    po.status = to
    if to == S.sent:
        po.sent_at = utcnow()
    session.add(po)
    session.add(PurchaseOrderEvent(purchase_order_id=po.id, business_id=po.business_id, actor_id=actor_id,
                                   from_status=current.value, to_status=to.value, reason=reason[:1000]))
    audit.record(session, action=f"operations.purchase_order.{to.value}", object_type="purchase_order",
                 object_id=po.id, actor_id=actor_id, business_id=po.business_id,
                 before={"status": current.value}, after={"status": to.value, "reason": reason[:200]})
    return po


# ---- policies --------------------------------------------------------------------------------------------------

def set_policy(session: Session, *, principal: Principal, business_id: uuid.UUID, product_key: str,
               supplier_name: str, location_key: str = "main", supplier_business_id: uuid.UUID | None = None,
               supplier_email: str | None = None, lead_time_days: int = 7, review_period_days: int = 7,
               min_order_qty: Decimal | int | str = 1, service_level: float = 0.95) -> ReorderPolicy:
    scoping.member(principal, business_id, min_role=Role.manager)
    if not supplier_name.strip():
        raise ValidationFailed("Name the supplier.", field="supplier_name")
    if not 0 <= lead_time_days <= 365:
        raise ValidationFailed("The lead time is 0 to 365 days.", field="lead_time_days")
    if not 1 <= review_period_days <= 90:
        raise ValidationFailed("The review period is 1 to 90 days.", field="review_period_days")
    if not 0.5 <= service_level <= 0.999:
        raise ValidationFailed("The service level is between 50% and 99.9%.", field="service_level")
    moq = Decimal(str(min_order_qty))
    if moq <= 0:
        raise ValidationFailed("The minimum order is above zero.", field="min_order_qty")
    if supplier_business_id is not None and session.get(Business, supplier_business_id) is None:
        raise ValidationFailed("That supplier is not a business on ICC; leave it empty for a supplier outside ICC.",
                               field="supplier_business_id")
    policy = session.exec(scoping.rows(ReorderPolicy, principal, business_id).where(
        ReorderPolicy.location_key == location_key, ReorderPolicy.product_key == product_key)).first()
    policy = policy or ReorderPolicy(business_id=business_id, location_key=location_key, product_key=product_key,
                                     supplier_name=supplier_name)
    policy.supplier_name, policy.supplier_business_id = supplier_name.strip()[:200], supplier_business_id
    policy.supplier_email = (supplier_email or "").strip()[:254] or None
    policy.lead_time_days, policy.review_period_days = lead_time_days, review_period_days
    policy.min_order_qty, policy.service_level, policy.is_active = moq, service_level, True
    session.add(policy)
    session.flush()
    return policy


def products(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """(location, product key, name) of everything in stock records, for choosing a product to set a policy on."""
    scoping.member(principal, business_id)
    seen: dict[tuple[str, str], str] = {}
    for item in session.exec(scoping.rows(StockItem, principal, business_id).order_by(col(StockItem.name))):
        seen.setdefault((item.location_key, item.product_key), item.name or item.product_key)
    return [(loc, key, name) for (loc, key), name in seen.items()]


# ---- the plan --------------------------------------------------------------------------------------------------

@dataclass
class PlanLine:
    policy: ReorderPolicy
    name: str
    category: str
    strain_name: str | None
    unit_cost: Decimal | None
    on_hand: float
    on_order: float
    reorder_point: float
    order_up_to: float
    safety_stock: float
    order_quantity: Decimal
    days_of_supply: float | None
    model: str | None
    trust: str


def plan(session: Session, business_id: uuid.UUID) -> list[PlanLine]:
    """Every active policy's product against its reorder point (callers have checked access)."""
    policies = session.exec(select(ReorderPolicy).where(ReorderPolicy.business_id == business_id,
                                                        col(ReorderPolicy.is_active).is_(True))).all()
    stock: dict[tuple[str, str], list[StockItem]] = defaultdict(list)
    for item in session.exec(select(StockItem).where(StockItem.business_id == business_id)):
        stock[item.location_key, item.product_key].append(item)
    on_order: dict[tuple[str, str], float] = defaultdict(float)
    for line, po in session.exec(select(PurchaseOrderLine, PurchaseOrder)
                                 .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
                                 .where(PurchaseOrder.business_id == business_id,
                                        col(PurchaseOrder.status).in_([S.approved, S.sent]))):
        on_order[po.location_key, line.product_key] += float(line.quantity)
    forecasts = product_forecasts(session, business_id)
    lines = []
    for policy in policies:
        key = (policy.location_key, policy.product_key)
        items, forecast = stock.get(key, []), forecasts.get(key)
        daily = [float(v["mean"]) for v in forecast.values] if forecast else []
        advice = advise(daily_forecast=daily or [0.0], error_sd=(forecast.residual_sd or 0.0) if forecast else 0.0,
                        on_hand=sum(float(i.quantity) for i in items), on_order=on_order.get(key, 0.0),
                        lead_time_days=policy.lead_time_days, review_period_days=policy.review_period_days,
                        service_level=policy.service_level, min_order_qty=policy.min_order_qty)
        first = items[0] if items else None
        costs = [i.unit_cost for i in items if i.unit_cost is not None]
        lines.append(PlanLine(policy=policy, name=first.name if first else policy.product_key,
                              category=first.category if first else "other",
                              strain_name=first.strain_name if first else None, unit_cost=costs[0] if costs else None,
                              on_hand=sum(float(i.quantity) for i in items), on_order=on_order.get(key, 0.0),
                              reorder_point=advice.reorder_point, order_up_to=advice.order_up_to,
                              safety_stock=advice.safety_stock, order_quantity=advice.order_quantity,
                              days_of_supply=advice.days_of_supply, model=forecast.model if forecast else None,
                              trust=trust(forecast.backtest_mase) if forecast else "unknown"))
    return lines


def reorder_plan(session: Session, *, principal: Principal, business_id: uuid.UUID) -> list[PlanLine]:
    scoping.member(principal, business_id)
    return plan(session, business_id)


def _number() -> str:
    return f"PO-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def draft_orders(session: Session, *, business_id: uuid.UUID, actor_id: uuid.UUID | None = None) -> list[PurchaseOrder]:
    """Draft (or top up) one purchase order per location and supplier for every product at or under its reorder
    point. Safe to run again: a product already on an open draft gets its quantity updated, not a second line."""
    due = [p for p in plan(session, business_id) if p.order_quantity > 0]
    groups: dict[tuple, list[PlanLine]] = defaultdict(list)
    for line in due:
        pol = line.policy
        groups[pol.location_key, pol.supplier_name.lower(), pol.supplier_business_id].append(line)
    drafts = session.exec(select(PurchaseOrder).where(PurchaseOrder.business_id == business_id,
                                                      PurchaseOrder.status == S.draft)).all()
    touched = []
    for (location, supplier, supplier_business), lines in groups.items():
        po = next((d for d in drafts if d.location_key == location and d.supplier_name.lower() == supplier
                   and d.supplier_business_id == supplier_business), None)
        if po is None:
            pol = lines[0].policy
            po = PurchaseOrder(business_id=business_id, location_key=location, number=_number(),
                               supplier_name=pol.supplier_name, supplier_business_id=pol.supplier_business_id,
                               supplier_email=pol.supplier_email, auto=True, created_by=actor_id)
            session.add(po)
            session.flush()
            session.add(PurchaseOrderEvent(purchase_order_id=po.id, business_id=business_id, actor_id=actor_id,
                                           from_status="", to_status=S.draft.value, reason="stock at reorder point"))
        existing = {row.product_key: row for row in session.exec(
            select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id))}
        for line in lines:
            row = existing.get(line.policy.product_key) or PurchaseOrderLine(
                purchase_order_id=po.id, business_id=business_id, product_key=line.policy.product_key,
                quantity=line.order_quantity)
            row.name, row.category, row.strain_name = line.name, line.category, line.strain_name
            row.quantity, row.unit_cost = line.order_quantity, line.unit_cost
            row.on_hand = Decimal(str(round(line.on_hand, 3)))
            row.reorder_point = Decimal(str(round(line.reorder_point, 3)))
            row.order_up_to = Decimal(str(round(line.order_up_to, 3)))
            session.add(row)
        session.flush()
        _total(session, po)
        touched.append(po)
    return touched


def _total(session: Session, po: PurchaseOrder) -> None:
    lines = session.exec(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id)).all()
    po.total = sum(((x.unit_cost or Decimal(0)) * x.quantity for x in lines), Decimal(0)).quantize(Decimal("0.01"))
    session.add(po)


# ---- reading and editing ---------------------------------------------------------------------------------------

def list_orders(session: Session, *, principal: Principal, business_id: uuid.UUID,
                status: PurchaseOrderStatus | None = None) -> list[PurchaseOrder]:
    scoping.member(principal, business_id)
    query = scoping.rows(PurchaseOrder, principal, business_id)
    if status is not None:
        query = query.where(PurchaseOrder.status == status)
    return list(session.exec(query.order_by(col(PurchaseOrder.created_at).desc())))


def get_order(session: Session, *, principal: Principal, business_id: uuid.UUID,
              po_id: uuid.UUID) -> tuple[PurchaseOrder, list[PurchaseOrderLine], list[PurchaseOrderEvent]]:
    scoping.member(principal, business_id)
    po = session.exec(scoping.rows(PurchaseOrder, principal, business_id).where(PurchaseOrder.id == po_id)).first()
    if po is None:
        raise NotFound("Purchase order not found.")
    lines = session.exec(scoping.rows(PurchaseOrderLine, principal, business_id)
                         .where(PurchaseOrderLine.purchase_order_id == po.id)
                         .order_by(col(PurchaseOrderLine.name))).all()
    events = session.exec(scoping.rows(PurchaseOrderEvent, principal, business_id)
                          .where(PurchaseOrderEvent.purchase_order_id == po.id)
                          .order_by(col(PurchaseOrderEvent.id))).all()
    return po, list(lines), list(events)


def update_line(session: Session, *, principal: Principal, business_id: uuid.UUID, po_id: uuid.UUID,
                line_id: uuid.UUID, quantity: Decimal | int | str) -> PurchaseOrderLine:
    """Change a draft's quantity (0 removes the line)."""
    scoping.member(principal, business_id)
    po, lines, _ = get_order(session, principal=principal, business_id=business_id, po_id=po_id)
    if S(po.status) != S.draft:
        raise Conflict("Only a draft can be edited: send it back to draft first.")
    line = next((x for x in lines if x.id == line_id), None)
    if line is None:
        raise NotFound("Line not found.")
    try:
        qty = Decimal(str(quantity))
    except ArithmeticError:
        raise ValidationFailed("The quantity is a number.", field="quantity") from None
    if not qty.is_finite() or qty < 0:
        raise ValidationFailed("The quantity is zero or more.", field="quantity")
    before = str(line.quantity)
    if qty == 0:
        session.delete(line)
    else:
        line.quantity = qty
        session.add(line)
    session.flush()
    _total(session, po)
    audit.record(session, action="operations.purchase_order.edit", object_type="purchase_order", object_id=po.id,
                 actor_id=principal.user_id, business_id=business_id,
                 before={"line": str(line_id), "quantity": before}, after={"quantity": str(qty)})
    return line


def change_status(session: Session, *, principal: Principal, business_id: uuid.UUID, po_id: uuid.UUID,
                  to: PurchaseOrderStatus, reason: str = "") -> PurchaseOrder:
    """approve / back to draft / cancel need a Manager; marking received is for anyone on the team."""
    scoping.member(principal, business_id, min_role=Role.staff if to == S.received else Role.manager)
    po, lines, _ = get_order(session, principal=principal, business_id=business_id, po_id=po_id)
    if to == S.sent:
        raise ValidationFailed("Send a purchase order with send_order (offers or email).", field="status")
    if to == S.approved and not lines:
        raise ValidationFailed("This purchase order has no lines.", field="status")
    return transition(session, po, to, actor_id=principal.user_id, reason=reason)


def order_csv(po: PurchaseOrder, lines: list[PurchaseOrderLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["po_number", "supplier", "sku", "product", "quantity", "unit_cost", "line_total"])
    for line in lines:
        total = (line.unit_cost or Decimal(0)) * line.quantity
        writer.writerow([po.number, po.supplier_name, line.product_key, line.name, line.quantity,
                         line.unit_cost if line.unit_cost is not None else "", total.quantize(Decimal("0.01"))])
    return out.getvalue()


def today() -> date:
    return datetime.now(UTC).date()
