"""Disputes: either party opens one on an order (reason, description, evidence), the order becomes Disputed,
the parties and platform admins talk in a thread, and an admin resolves it with a written decision that is
final and audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.storage import get_storage
from icc_app.core.validation import safe_text
from icc_app.exchange import orders as orders_service
from icc_app.exchange import idempotency, scoping
from icc_app.exchange.common import notify_traders
from icc_app.exchange.lots import decimal
from icc_app.exchange.models import Dispute, DisputeEvent, DisputeMessage, DisputeResolution, DisputeStatus, Order, OrderStatus
from icc_app.identity.permissions import require_platform_admin
from icc_app.identity.schemas import Principal
from icc_app.identity.models import User
from icc_app.ui.format import label

MAX_TEXT = 10000  # a description, a message or a decision
REASONS = ["not_received", "quality_not_as_described", "quantity_short", "payment_not_received", "wrong_product",
           "other"]


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]  # "" is the start: a dispute being opened
    target: DisputeStatus
    parties: frozenset[str]


TRANSITIONS: dict[str, Rule] = {
    "open": Rule(frozenset({""}), DisputeStatus.open, frozenset({"buyer", "seller"})),
    "resolve": Rule(frozenset({DisputeStatus.open.value}), DisputeStatus.resolved, frozenset({"admin"})),
}


def transition(session: Session, dispute: Dispute, verb: str, *, party: str, actor_id: uuid.UUID | None,
               note: str = "", current: str | None = None) -> Dispute:
    """The only code that sets a dispute's status; writes a DisputeEvent (who, when, from, to, why)."""
    rule = TRANSITIONS[verb]
    current = DisputeStatus(dispute.status).value if current is None else current
    if party not in rule.parties:
        raise PermissionDenied(f"Only the {' or '.join(sorted(rule.parties))} can {verb} a dispute.")
    if current not in rule.sources:
        raise Conflict("This dispute is already resolved: the decision is final." if current == "resolved"
                       else f"A {current} dispute cannot be {verb}ed.")
    dispute.status = rule.target
    session.add(dispute)
    session.flush()
    session.add(DisputeEvent(dispute_id=dispute.id, actor_id=actor_id, from_status=current,
                             to_status=rule.target.value, note=note[:1000]))
    return dispute


def _evidence_names(files: list[tuple[bytes, str]] | None) -> list[tuple[bytes, str]]:
    """The (at most 5) files with checked names: a NUL is refused, a long name is cut."""
    return [(data, safe_text(filename, "evidence", max_length=1000)[:255] or "evidence")
            for data, filename in (files or [])[:5]]


def _evidence(files: list[tuple[bytes, str]]) -> list[dict]:
    out = []
    for data, filename in files:
        stored = get_storage().save("evidence", data, filename=filename)
        out.append({"key": stored.key, "filename": filename, "sha256": stored.sha256})
    return out


def open_dispute(session: Session, *, principal: Principal, order_id: uuid.UUID, reason: str, description: str,
                 evidence: list[tuple[bytes, str]] | None = None, idempotency_key: str | None = None) -> Dispute:
    if reason not in REASONS:
        raise ValidationFailed("Choose a reason.", field="reason")
    description = safe_text(description, "description", max_length=MAX_TEXT)
    if len(description) < 20:
        raise ValidationFailed("Describe what happened (at least 20 characters).", field="description")
    evidence = _evidence_names(evidence)
    order, party = orders_service.load(session, principal, order_id, lock=True)
    if party == "admin":
        raise PermissionDenied("Only the buyer or the seller opens a dispute.")
    business_id = order.buyer_business_id if party == "buyer" else order.seller_business_id
    earlier = idempotency.claim(session, business_id=business_id, key=idempotency_key, action="dispute.open")
    if earlier is not None:
        return session.exec(scoping.readable_disputes(principal).where(Dispute.id == earlier)).one()
    if session.exec(select(Dispute.id).where(Dispute.order_id == order.id, Dispute.status == DisputeStatus.open)).first():
        raise Conflict("A dispute is already open on this order.")
    before = OrderStatus(order.status).value
    orders_service.transition(session, order, "dispute", party=party, actor_id=principal.user_id,
                              note=f"dispute opened: {label(reason).lower()}")
    order.status_before_dispute = before
    dispute = Dispute(order_id=order.id, opened_by_business_id=business_id, opened_by=principal.user_id,
                      reason=reason, description=description)
    transition(session, dispute, "open", party=party, actor_id=principal.user_id, note=reason, current="")
    idempotency.settle(session, business_id=business_id, key=idempotency_key, object_id=dispute.id)
    session.add(DisputeMessage(dispute_id=dispute.id, author_id=principal.user_id, author_party=party,
                               body=description, evidence=_evidence(evidence)))
    audit.record(session, action="exchange.dispute.opened", object_type="dispute", object_id=dispute.id,
                 actor_id=principal.user_id, business_id=business_id, after={"order": str(order.id), "reason": reason})
    _tell_admins(session, f"Dispute opened on order {order.reference}", f"{reason.replace('_', ' ')}: {description[:200]}",
                 dispute)
    return dispute


def _tell_admins(session: Session, title: str, body: str, dispute: Dispute) -> None:
    from icc_app.core import notifications

    for admin in session.exec(select(User).where(User.is_platform_admin == True)):  # noqa: E712
        notifications.notify(session, user_id=admin.id, email=None, kind="exchange.dispute", title=title, body=body,
                             link=f"/admin/disputes?dispute={dispute.id}")


def _load(session: Session, principal: Principal, dispute_id: uuid.UUID) -> tuple[Dispute, Order, str]:
    dispute = session.exec(scoping.readable_disputes(principal).where(Dispute.id == dispute_id)).first()
    if dispute is None:
        raise NotFound("Dispute not found.")
    order, party = orders_service.load(session, principal, dispute.order_id)
    return dispute, order, party


def post_message(session: Session, *, principal: Principal, dispute_id: uuid.UUID, body: str,
                 evidence: list[tuple[bytes, str]] | None = None) -> DisputeMessage:
    body = safe_text(body, "body", max_length=MAX_TEXT)
    if not body:
        raise ValidationFailed("Write a message.", field="body")
    evidence = _evidence_names(evidence)
    dispute, order, party = _load(session, principal, dispute_id)
    if DisputeStatus(dispute.status) != DisputeStatus.open:
        raise Conflict("This dispute is resolved: its decision is final.")
    message = DisputeMessage(dispute_id=dispute.id, author_id=principal.user_id, author_party=party, body=body,
                             evidence=_evidence(evidence))
    session.add(message)
    session.flush()
    audit.record(session, action="exchange.dispute.message", object_type="dispute", object_id=dispute.id,
                 actor_id=principal.user_id, after={"party": party, "evidence": len(message.evidence)})
    for business_id in (order.buyer_business_id, order.seller_business_id):
        notify_traders(session, business_id, kind="exchange.dispute", title=f"New message on the dispute of "
                       f"order {order.reference}", body=body[:300], link=f"/exchange/orders/{order.id}", email=False)
    if party != "admin":
        _tell_admins(session, f"New message on the dispute of order {order.reference}", body[:300], dispute)
    return message


def resolve(session: Session, *, principal: Principal, dispute_id: uuid.UUID, resolution: str, decision: str,
            refund_amount=None) -> Dispute:
    require_platform_admin(principal)
    dispute, order, _ = _load(session, principal, dispute_id)
    if DisputeStatus(dispute.status) != DisputeStatus.open:
        raise Conflict("This dispute is already resolved: the decision is final.")
    try:
        outcome = DisputeResolution(resolution)
    except ValueError:
        raise ValidationFailed("Choose a resolution.", field="resolution") from None
    decision = safe_text(decision, "decision", max_length=MAX_TEXT)
    if len(decision) < 20:
        raise ValidationFailed("Write the decision the parties will read (at least 20 characters).", field="decision")
    refund = None
    if outcome == DisputeResolution.partial_refund:
        refund = decimal(refund_amount, "refund_amount", places=2)
        if refund >= order.total:
            raise ValidationFailed("A partial refund is less than the order total; choose a full refund.",
                                   field="refund_amount")
    elif outcome == DisputeResolution.full_refund:
        refund = order.total
    transition(session, dispute, "resolve", party="admin", actor_id=principal.user_id,
               note=f"{outcome.value}: {decision}")
    dispute.resolution, dispute.refund_amount = outcome, refund
    dispute.decision, dispute.resolved_by, dispute.resolved_at = decision, principal.user_id, utcnow()
    verb = "resolve_cancel" if outcome in (DisputeResolution.full_refund, DisputeResolution.cancel) else "resolve_resume"
    orders_service.transition(session, order, verb, party="admin", actor_id=principal.user_id,
                              note=f"dispute resolved: {outcome.value.replace('_', ' ')}"
                                   + (f" (refund ${refund})" if refund is not None else ""))
    session.add(DisputeMessage(dispute_id=dispute.id, author_id=principal.user_id, author_party="admin",
                               body=f"Decision ({outcome.value.replace('_', ' ')}): {decision}"))
    audit.record(session, action="exchange.dispute.resolved", object_type="dispute", object_id=dispute.id,
                 actor_id=principal.user_id, business_id=order.seller_business_id,
                 after={"resolution": outcome.value, "refund": refund, "decision": decision[:500]})
    return dispute


def thread(session: Session, *, principal: Principal, dispute_id: uuid.UUID) -> tuple[Dispute, list[DisputeMessage]]:
    dispute, _, _ = _load(session, principal, dispute_id)
    return dispute, list(session.exec(select(DisputeMessage).where(DisputeMessage.dispute_id == dispute.id)
                                      .order_by(col(DisputeMessage.id))))


def for_order(session: Session, *, principal: Principal, order_id: uuid.UUID) -> Dispute | None:
    orders_service.load(session, principal, order_id)
    return session.exec(select(Dispute).where(Dispute.order_id == order_id)
                        .order_by(col(Dispute.created_at).desc())).first()


def queue(session: Session, *, principal: Principal, status: str = "open") -> list[tuple[Dispute, Order]]:
    require_platform_admin(principal)
    return list(session.exec(select(Dispute, Order).join(Order, col(Order.id) == Dispute.order_id)
                             .where(scoping.condition(scoping.readable_disputes(principal)),
                                    Dispute.status == status).order_by(col(Dispute.created_at))))


def refund_total(disputes: list[Dispute]) -> Decimal:
    return sum((d.refund_amount or Decimal("0") for d in disputes), Decimal("0"))
