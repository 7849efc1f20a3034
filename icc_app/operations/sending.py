"""Sending an approved purchase order. To a supplier that sells on CCX, each line becomes an offer on one of that
seller's active lots (chosen by the operator from the candidates, each shown with its CQI score) through the
exchange's own offer service, so reorder and wholesale buying are one step. To any other supplier, the order goes
out as a CSV in an email (and can be downloaded)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, select

from icc_app.core.errors import ValidationFailed
from icc_app.core.notifications import queue_email
from icc_app.exchange import offers
from icc_app.exchange.models import Lot, LotStatus
from icc_app.identity.models import Role
from icc_app.identity.schemas import Principal
from icc_app.operations import purchasing, scoping
from icc_app.operations.models import PurchaseOrder, PurchaseOrderStatus

EMAIL_TEMPLATE = "operations_purchase_order"


@dataclass
class CandidateLot:
    lot_id: uuid.UUID
    title: str
    strain_name: str
    available_qty: str
    unit: str
    price_per_unit: str
    min_order_qty: str
    cqi_score: float | None
    matches_strain: bool


def candidate_lots(session: Session, *, principal: Principal, business_id: uuid.UUID,
                   po_id: uuid.UUID) -> dict[uuid.UUID, list[CandidateLot]]:
    """For each line: the supplier's active lots, those of the line's strain first, best CQI next."""
    po, lines, _ = purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id)
    if po.supplier_business_id is None:
        return {line.id: [] for line in lines}
    lots = session.exec(select(Lot).where(Lot.business_id == po.supplier_business_id,
                                          Lot.status == LotStatus.active, Lot.available_qty > 0)).all()
    out = {}
    for line in lines:
        strain = (line.strain_name or "").strip().lower()
        ranked = sorted(lots, key=lambda lot: (lot.strain_name.strip().lower() != strain if strain else True,
                                               -(lot.cqi_score or 0)))
        out[line.id] = [CandidateLot(lot_id=lot.id, title=lot.title, strain_name=lot.strain_name,
                                     available_qty=str(lot.available_qty), unit=str(lot.unit),
                                     price_per_unit=str(lot.price_per_unit), min_order_qty=str(lot.min_order_qty),
                                     cqi_score=lot.cqi_score,
                                     matches_strain=bool(strain) and lot.strain_name.strip().lower() == strain)
                        for lot in ranked]
    return out


def send_order(session: Session, *, principal: Principal, business_id: uuid.UUID, po_id: uuid.UUID,
               lot_choices: dict[uuid.UUID, uuid.UUID] | None = None) -> PurchaseOrder:
    """Send an approved order: offers on the chosen CCX lots (line id -> lot id), the remaining lines by email.
    Offers carry an idempotency key per line, so a retry after a failure makes no second offer."""
    scoping.member(principal, business_id, min_role=Role.manager)
    po, lines, _ = purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id)
    if PurchaseOrderStatus(po.status) != PurchaseOrderStatus.approved:
        raise ValidationFailed("Approve the purchase order before sending it.", field="status")
    choices = lot_choices or {}
    if choices and po.supplier_business_id is None:
        raise ValidationFailed("This supplier does not sell on CCX: send the order by email.", field="lot_choices")
    unknown = set(choices) - {line.id for line in lines}
    if unknown:
        raise ValidationFailed("A chosen lot belongs to a line that is not on this order.", field="lot_choices")
    offered, emailed = [], []
    for line in lines:
        lot_id = choices.get(line.id)
        if lot_id is None:
            emailed.append(line)
            continue
        lot = session.exec(select(Lot).where(Lot.id == lot_id, Lot.business_id == po.supplier_business_id)).first()
        if lot is None:
            raise ValidationFailed(f"The lot chosen for {line.name} is not one of this supplier's.",
                                   field="lot_choices")
        offer = offers.make_offer(session, principal=principal, buyer_business_id=business_id, lot_id=lot.id,
                                  quantity=line.quantity, price_per_unit=lot.price_per_unit,
                                  message=f"Purchase order {po.number}",
                                  idempotency_key=f"po:{po.id}:{line.id}")
        line.lot_id, line.offer_id = lot.id, offer.id
        session.add(line)
        offered.append(line)
    if emailed:
        if not po.supplier_email:
            raise ValidationFailed("Give the supplier's email (reorder policy), or choose a CCX lot for every line.",
                                   field="supplier_email")
        queue_email(session, to=po.supplier_email, template=EMAIL_TEMPLATE,
                    context={"number": po.number, "buyer": scoping.member(principal, business_id).business_name,
                             "supplier": po.supplier_name, "lines": len(emailed),
                             "csv": purchasing.order_csv(po, emailed)})
    po.sent_via = "exchange" if offered and not emailed else ("email" if not offered else "both")
    return purchasing.transition(session, po, PurchaseOrderStatus.sent, actor_id=principal.user_id,
                                 reason=f"{len(offered)} offers on CCX, {len(emailed)} lines by email")
