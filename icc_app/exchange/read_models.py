"""Read schemas of the exchange: what its pages (and anything else that shows exchange data to people) hold,
built from the rows by the functions below. Values are display-ready text in the person's words (enum values
as labels, money and quantities formatted); ids stay strings for links. No reflex, no queries."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel

from icc_app.exchange.lots import StrainCheck, qty_text
from icc_app.exchange.orders import dollars, why_not
from icc_app.exchange.models import (
    Dispute,
    DisputeMessage,
    Lot,
    Offer,
    OfferRound,
    OfferStatus,
    Order,
    OrderEvent,
)
from icc_app.quality.schemas import band
from icc_app.ui.format import label, local_time

SAFETY_LABELS = {True: "passed", False: "failed", None: "incomplete"}


def money(value: Decimal | None) -> str:
    return "—" if value is None else dollars(value)


def qty(value: Decimal | None, unit: str = "") -> str:
    return "—" if value is None else f"{qty_text(value)} {unit}".strip()


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _when(moment) -> str:
    """In the business's zone, named (TIMEZONE; America/Denver by default)."""
    return local_time(moment) if moment else ""


class LotCard(BaseModel):
    """A lot as the marketplace lists it."""

    id: str = ""
    title: str = ""
    strain: str = ""
    type: str = ""
    seller: str = ""
    thc: str = ""
    terpenes: str = ""
    price: str = ""
    available: str = ""
    safety: str = "incomplete"  # passed / failed / incomplete
    distance: str = ""
    cqi: str = ""
    cqi_color: str = "gray"


class LotDetail(LotCard):
    """The lot page: the card plus terms, lab facts and the COA's sample name with the strain check."""

    status: str = ""
    status_label: str = ""
    min_order: str = ""
    unit: str = ""
    description: str = ""
    delivery: str = ""
    metrc: str = ""
    harvested: str = ""
    tested: str = ""
    coa: str = ""
    cbd: str = ""
    price_value: str = ""
    proof_required: bool = False
    strain_name: str = ""
    coa_sample: str = ""
    strain_mismatch: bool = False


def lot_card(lot: Lot, seller: str, distance: float | None) -> LotCard:
    return LotCard(id=str(lot.id), title=lot.title, strain=f"{lot.strain_name} · {label(lot.strain_type)}",
                   type=label(lot.product_type), seller=seller, thc=pct(lot.thc_pct), terpenes=pct(lot.terpenes_pct),
                   price=f"{money(lot.price_per_unit)} / {lot.unit}", available=qty(lot.available_qty, str(lot.unit)),
                   safety=SAFETY_LABELS[lot.safety_passed], distance="" if distance is None else f"{distance:.0f} mi",
                   cqi="" if lot.cqi_score is None else f"{lot.cqi_score:.0f}", cqi_color=band(lot.cqi_score))


def lot_detail(lot: Lot, seller: str, check: StrainCheck) -> LotDetail:
    return LotDetail(**lot_card(lot, seller, None).model_dump(), status=str(lot.status), status_label=label(lot.status),
                     min_order=qty(lot.min_order_qty, str(lot.unit)), unit=str(lot.unit),
                     description=lot.description or "", delivery=lot.delivery_terms or "—", metrc=lot.metrc_tag or "—",
                     harvested=lot.harvest_date.isoformat() if lot.harvest_date else "—",
                     tested=lot.tested_on.isoformat() if lot.tested_on else "—", coa=str(lot.coa_id or ""),
                     cbd=pct(lot.cbd_pct), price_value=str(lot.price_per_unit),
                     proof_required=lot.require_proof_of_funds, strain_name=lot.strain_name,
                     coa_sample=check.sample_name,
                     strain_mismatch=check.matches is False)


class OwnLotRow(BaseModel):
    """A lot in its seller's list."""

    id: str
    title: str
    status: str
    status_label: str
    price: str
    available: str
    thc: str


def own_lot_row(lot: Lot) -> OwnLotRow:
    return OwnLotRow(id=str(lot.id), title=lot.title, status=str(lot.status), status_label=label(lot.status),
                     price=f"{money(lot.price_per_unit)} / {lot.unit}", available=qty(lot.available_qty, str(lot.unit)),
                     thc=pct(lot.thc_pct))


class OrderRow(BaseModel):
    id: str
    reference: str
    lot: str
    side: str  # buying / selling
    counterpart: str
    quantity: str
    total: str
    status: str
    status_label: str
    payment: str  # paid / mismatch / awaiting
    payment_label: str  # the same in words
    side_label: str  # Buying / Selling
    created: str


PAYMENT_LABELS = {"paid": "Paid", "mismatch": "Amount mismatch", "awaiting": "Awaiting payment"}


def order_row(order: Order, lot: Lot, business_id: uuid.UUID, counterpart: str) -> OrderRow:
    side = "buying" if order.buyer_business_id == business_id else "selling"
    payment = "paid" if order.paid else ("mismatch" if order.payment_mismatch else "awaiting")
    return OrderRow(id=str(order.id), reference=order.reference, lot=lot.title, side=side, side_label=label(side),
                    counterpart=counterpart, quantity=qty(order.quantity, str(order.unit)), total=money(order.total),
                    status=str(order.status), status_label=label(order.status), payment=payment,
                    payment_label=PAYMENT_LABELS[payment], created=order.created_at.strftime("%Y-%m-%d"))


class OrderDetail(BaseModel):
    id: str = ""
    reference: str = ""
    status: str = ""
    status_label: str = ""
    lot: str = ""
    lot_id: str = ""
    buyer: str = ""
    seller: str = ""
    quantity: str = ""
    quantity_value: str = ""
    unit: str = ""
    price: str = ""
    total: str = ""
    total_value: str = ""
    method: str = ""
    terms: str = ""
    paid: bool = False
    sent: str = ""
    received: str = ""
    mismatch: bool = False
    pof: str = ""
    offer_id: str = ""
    shipment: str = ""  # manifest, carrier, tracking as the seller entered them
    received_qty: str = ""
    ship_blocked: str = ""  # why the seller cannot ship yet (prepay not confirmed by both sides); "" when it can


def order_detail(order: Order, lot: Lot, offer: Offer, *, buyer: str, seller: str) -> OrderDetail:
    shipment = " · ".join(f"{name} {value}" for name, value in (
        ("Manifest", order.manifest_number), ("Carrier", order.carrier), ("Tracking", order.tracking_number)) if value)
    return OrderDetail(
        id=str(order.id), reference=order.reference, status=str(order.status), status_label=label(order.status),
        lot=lot.title, lot_id=str(lot.id), buyer=buyer, seller=seller, quantity=qty(order.quantity, str(order.unit)),
        quantity_value=qty_text(order.quantity), unit=str(order.unit), price=money(order.price_per_unit),
        total=money(order.total), total_value=str(order.total), method=label(order.payment_method),
        terms=label(order.payment_terms), paid=order.paid,
        sent=(f"{money(order.payment_sent_amount)} ref {order.payment_reference} on "
              f"{order.payment_sent_on.isoformat()}") if order.payment_sent_at else "",
        received=money(order.payment_received_amount) if order.payment_received_at else "",
        mismatch=order.payment_mismatch, pof=offer.proof_of_funds_filename or "", offer_id=str(offer.id),
        shipment=shipment, received_qty=qty(order.received_qty, str(order.unit)) if order.received_qty is not None else "",
        ship_blocked=why_not(order, "ship") or "")


class EventRead(BaseModel):
    """One line of a history: when, which side, what changed, why."""

    when: str
    party: str
    change: str
    note: str


def order_event(event: OrderEvent) -> EventRead:
    same = event.from_status in ("", event.to_status)
    change = label(event.to_status) if same else f"{label(event.from_status)} → {label(event.to_status)}"
    return EventRead(when=_when(event.created_at), party=label(event.actor_party), change=change, note=event.note)


class DisputeRead(BaseModel):
    id: str = ""
    status: str = ""
    status_label: str = ""
    reason: str = ""
    resolution: str = ""
    decision: str = ""


def dispute_read(dispute: Dispute) -> DisputeRead:
    return DisputeRead(id=str(dispute.id), status=str(dispute.status), status_label=label(dispute.status),
                       reason=label(dispute.reason), resolution=label(dispute.resolution), decision=dispute.decision or "")


class MessageRead(BaseModel):
    party: str
    body: str
    evidence: str
    when: str


def message_read(message: DisputeMessage) -> MessageRead:
    return MessageRead(party=label(message.author_party), body=message.body,
                       evidence=", ".join(e["filename"] for e in message.evidence),
                       when=_when(message.created_at))


class DisputeQueueItem(BaseModel):
    id: str
    order: str
    order_id: str
    reason: str
    total: str
    parties: str
    thread: str
    opened: str


def dispute_queue_item(dispute: Dispute, order: Order, thread: list[DisputeMessage], *, seller: str,
                       buyer: str) -> DisputeQueueItem:
    return DisputeQueueItem(id=str(dispute.id), order=order.reference, order_id=str(order.id),
                            reason=label(dispute.reason), total=money(order.total), parties=f"{seller} → {buyer}",
                            thread="\n".join(f"[{label(m.author_party)}] {m.body}" for m in thread),
                            opened=dispute.created_at.strftime("%Y-%m-%d"))


class OfferThread(BaseModel):
    id: str = ""
    lot: str = ""
    lot_id: str = ""
    side: str = ""  # buyer / seller: the principal's side
    counterpart: str = ""
    status: str = ""
    status_label: str = ""
    terms: str = ""
    total: str = ""
    expires: str = ""
    my_turn: bool = False
    open: bool = False
    unit: str = ""
    quantity: str = ""
    price: str = ""
    pof: str = ""
    pof_required: bool = False


def offer_thread(offer: Offer, lot: Lot, business_id: uuid.UUID, counterpart: str) -> OfferThread:
    mine = "buyer" if offer.buyer_business_id == business_id else "seller"
    is_open = OfferStatus(offer.status) == OfferStatus.open
    return OfferThread(id=str(offer.id), lot=lot.title, lot_id=str(lot.id), side=mine, counterpart=counterpart,
                       status=str(offer.status), status_label=label(offer.status),
                       terms=f"{qty(offer.quantity, str(lot.unit))} at {money(offer.price_per_unit)}",
                       total=money(offer.quantity * offer.price_per_unit), expires=_when(offer.expires_at),
                       my_turn=is_open and str(offer.awaiting) == mine, open=is_open, unit=str(lot.unit),
                       quantity=str(offer.quantity), price=str(offer.price_per_unit),
                       pof=offer.proof_of_funds_filename or "", pof_required=lot.require_proof_of_funds)


class RoundRead(BaseModel):
    party: str
    action: str
    message: str
    when: str
    terms: str


def round_read(r: OfferRound, unit: str) -> RoundRead:
    return RoundRead(party=label(r.party), action=label(r.action), message=r.message or "",
                     when=_when(r.created_at),
                     terms=f"{qty(r.quantity, unit)} at {money(r.price_per_unit)}" if r.quantity is not None else "")


class LotEditor(BaseModel):
    """The seller's panel of one lot: its terms as editable text, and what the COA says."""

    id: str = ""
    title: str = ""
    status: str = ""
    status_label: str = ""
    price: str = ""
    quantity: str = ""
    min_order: str = ""
    description: str = ""
    version: str = ""
    unit: str = ""
    thc: str = ""
    has_coa: bool = False
    reason: str = ""
    coa_sample: str = ""
    strain_mismatch: bool = False


def lot_editor(lot: Lot, check: StrainCheck) -> LotEditor:
    return LotEditor(id=str(lot.id), title=lot.title, status=str(lot.status), status_label=label(lot.status),
                     price=str(lot.price_per_unit), quantity=str(lot.quantity), min_order=str(lot.min_order_qty),
                     description=lot.description or "", version=str(lot.version), unit=str(lot.unit),
                     thc=pct(lot.thc_pct), has_coa=lot.coa_id is not None, reason=lot.status_reason or "",
                     coa_sample=check.sample_name, strain_mismatch=check.matches is False)


class CoaRow(BaseModel):
    id: str
    filename: str
    status: str
    status_label: str
    thc: str
    reason: str


def coa_row(coa) -> CoaRow:
    return CoaRow(id=str(coa.id), filename=coa.filename, status=str(coa.status), status_label=label(coa.status),
                  thc=pct(coa.total_thc_pct), reason=coa.status_reason or "")
