"""The programme, tiers, and the points ledger: earn on a sale, redeem for a reward code, reverse.

The balance is always the sum of the customer's entries. Every write first takes the customer's row lock
(SELECT ... FOR UPDATE), then reads the sum and appends one entry with `balance_after`, so concurrent earns and
redemptions serialise per customer and a redemption can never spend points another one already spent. A sale earns
once (idempotency key "sale:<id>").
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.validation import safe_text
from icc_app.identity.models import Business
from icc_app.integrations.models import Sale, SaleLine
from icc_app.loyalty import rules
from icc_app.loyalty.models import (
    Customer,
    Enrollment,
    EntryKind,
    PointsEntry,
    Program,
    Redemption,
    RedemptionStatus,
    StatusEvent,
    Tier,
)


def program(session: Session, *, business_id: uuid.UUID) -> Program:
    """The business's programme, created with defaults on first use (two first uses at once make one)."""
    row = session.exec(select(Program).where(Program.business_id == business_id)).first()
    if row is None:
        try:
            with session.begin_nested():
                row = Program(business_id=business_id)
                session.add(row)
        except IntegrityError:
            row = session.exec(select(Program).where(Program.business_id == business_id)).one()
    return row


def update_program(session: Session, *, business_id: uuid.UUID, actor_id: uuid.UUID | None, **changes) -> Program:
    row = program(session, business_id=business_id)
    before = {k: getattr(row, k) for k in changes}
    if "points_per_dollar" in changes and Decimal(str(changes["points_per_dollar"])) < 0:
        raise ValidationFailed("Points per dollar cannot be negative.", field="points_per_dollar")
    for hour in ("quiet_start_hour", "quiet_end_hour"):
        if hour in changes and not 0 <= int(changes[hour]) <= 23:
            raise ValidationFailed("Hours are 0 to 23.", field=hour)
    if "max_messages_per_week" in changes and int(changes["max_messages_per_week"]) < 0:
        raise ValidationFailed("The weekly cap cannot be negative.", field="max_messages_per_week")
    for day in changes.get("bonus_days", []) or []:
        if not (0 <= int(day.get("weekday", -1)) <= 6 and Decimal(str(day.get("multiplier", 0))) > 0):
            raise ValidationFailed("A bonus day needs a weekday (0 = Monday) and a multiplier above 0.",
                                   field="bonus_days")
    for category, multiplier in (changes.get("category_multipliers") or {}).items():
        if not str(category).strip() or len(str(category)) > 60 or not 0 < float(multiplier) <= 10:
            raise ValidationFailed("A category bonus needs a category name and a multiplier above 0 and at most 10.",
                                   field="category_multipliers")
    for key, value in changes.items():
        setattr(row, key, value)
    session.add(row)
    audit.record(session, action="loyalty.program_updated", object_type="loyalty_program", object_id=row.id,
                 actor_id=actor_id, business_id=business_id, before=before, after=changes)
    session.flush()
    return row


def tiers(session: Session, *, business_id: uuid.UUID) -> list[Tier]:
    """The business's tiers, lowest threshold first."""
    return list(session.exec(select(Tier).where(Tier.business_id == business_id).order_by(Tier.threshold_points)))


MAX_TIER_THRESHOLD = 100_000_000


def set_tiers(session: Session, *, business_id: uuid.UUID, tiers: list[dict], actor_id: uuid.UUID | None) -> list[Tier]:
    """Replaces the tiers: [{name, threshold_points, multiplier, benefits}], thresholds distinct."""
    prog = program(session, business_id=business_id)
    thresholds = [int(t.get("threshold_points", 0)) for t in tiers]
    if len(set(thresholds)) != len(thresholds) or any(not 0 <= t <= MAX_TIER_THRESHOLD for t in thresholds):
        raise ValidationFailed(f"Each tier needs its own threshold of 0 to {MAX_TIER_THRESHOLD:,} points.",
                               field="tiers")
    for tier in tiers:
        if not safe_text(str(tier.get("name") or ""), "tiers", max_length=60):
            raise ValidationFailed("Each tier needs a name.", field="tiers")
        safe_text(str(tier.get("benefits") or ""), "tiers", max_length=500)
        if not Decimal("0") < Decimal(str(tier.get("multiplier", "1"))) <= Decimal("10"):
            raise ValidationFailed("A tier's points multiplier is above 0 and at most 10.", field="tiers")
    for old in session.exec(select(Tier).where(Tier.business_id == business_id)).all():
        session.delete(old)
    rows = [Tier(business_id=business_id, program_id=prog.id, name=str(t["name"]).strip()[:60],
                 threshold_points=int(t.get("threshold_points", 0)),
                 multiplier=Decimal(str(t.get("multiplier", "1"))), benefits=str(t.get("benefits", ""))[:500])
            for t in sorted(tiers, key=lambda t: int(t.get("threshold_points", 0)))]
    session.add_all(rows)
    audit.record(session, action="loyalty.tiers_set", object_type="loyalty_program", object_id=prog.id,
                 actor_id=actor_id, business_id=business_id, after={"tiers": tiers})
    session.flush()
    return rows


def balance(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> int:
    return int(session.exec(select(sa.func.coalesce(sa.func.sum(PointsEntry.points), 0))
                            .where(PointsEntry.business_id == business_id,
                                   PointsEntry.customer_id == customer_id)).one())


def lifetime_earned(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> int:
    return int(session.exec(select(sa.func.coalesce(sa.func.sum(PointsEntry.points), 0))
                            .where(PointsEntry.business_id == business_id, PointsEntry.customer_id == customer_id,
                                   PointsEntry.kind == EntryKind.earn)).one())


def tier_of(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> Tier | None:
    earned = lifetime_earned(session, business_id=business_id, customer_id=customer_id)
    return session.exec(select(Tier).where(Tier.business_id == business_id, Tier.threshold_points <= earned)
                        .order_by(col(Tier.threshold_points).desc())).first()


def _lock_customer(session: Session, business_id: uuid.UUID, customer_id: uuid.UUID) -> Customer:
    query = select(Customer).where(Customer.business_id == business_id, Customer.id == customer_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    customer = session.exec(query.execution_options(populate_existing=True)).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


def _append(session: Session, customer: Customer, *, kind: EntryKind, points: int, reason: str,
            idempotency_key: str | None = None, sale_id: uuid.UUID | None = None,
            actor_id: uuid.UUID | None = None) -> PointsEntry:
    """Appends one entry; the caller holds the customer's lock."""
    if idempotency_key:
        existing = session.exec(select(PointsEntry).where(PointsEntry.business_id == customer.business_id,
                                                          PointsEntry.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return existing
    current = balance(session, business_id=customer.business_id, customer_id=customer.id)
    if current + points < 0:
        raise Conflict(f"Not enough points: the balance is {current:,}.", field="points")
    entry = PointsEntry(business_id=customer.business_id, customer_id=customer.id, kind=kind, points=points,
                        balance_after=current + points, reason=reason[:200], idempotency_key=idempotency_key,
                        sale_id=sale_id, actor_id=actor_id)
    session.add(entry)
    session.flush()
    return entry


def points_for_sale(prog: Program, sale: Sale, lines: list[SaleLine], *, local_weekday: int,
                    tier_multiplier: Decimal = Decimal("1")) -> int:
    """Per dollar of each line (the line's category multiplier), times the bonus-day and tier multipliers; lines
    missing: the sale total at the base rate. Returns and voids earn nothing here (reversal is its own entry)."""
    if sale.is_return or sale.is_void or sale.total <= 0:
        return 0
    multipliers = {str(k).lower(): Decimal(str(v)) for k, v in (prog.category_multipliers or {}).items()}
    if lines:
        base = sum((line.total * multipliers.get((line.category or "").lower(), Decimal("1")) for line in lines),
                   Decimal("0"))
    else:
        base = sale.total
    bonus = max((Decimal(str(d["multiplier"])) for d in (prog.bonus_days or []) if int(d["weekday"]) == local_weekday),
                default=Decimal("1"))
    points = base * prog.points_per_dollar * bonus * tier_multiplier
    return int(points.quantize(Decimal("1"), rounding=ROUND_FLOOR))


def earn_for_sale(session: Session, *, customer: Customer, sale: Sale) -> PointsEntry | None:
    """Points for one POS sale, once. Customers who are not enrolled (age) earn nothing."""
    if customer.enrollment != Enrollment.enrolled or sale.business_id != customer.business_id:
        return None
    prog = program(session, business_id=customer.business_id)
    if not prog.active:
        return None
    customer = _lock_customer(session, customer.business_id, customer.id)
    lines = list(session.exec(select(SaleLine).where(SaleLine.business_id == sale.business_id,
                                                     SaleLine.sale_id == sale.id)).all())
    business = session.get(Business, customer.business_id)
    local: datetime = sale.occurred_at.astimezone(rules.zone(business.timezone if business else None))
    tier = tier_of(session, business_id=customer.business_id, customer_id=customer.id)
    points = points_for_sale(prog, sale, lines, local_weekday=local.weekday(),
                             tier_multiplier=tier.multiplier if tier else Decimal("1"))
    if points <= 0:
        return None
    return _append(session, customer, kind=EntryKind.earn, points=points, reason=f"Purchase {local:%b %d}",
                   idempotency_key=f"sale:{sale.id}", sale_id=sale.id)


def adjust(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID, points: int, reason: str,
           actor_id: uuid.UUID | None) -> PointsEntry:
    if not reason.strip():
        raise ValidationFailed("Say why the points change.", field="reason")
    customer = _lock_customer(session, business_id, customer_id)
    entry = _append(session, customer, kind=EntryKind.adjust, points=int(points), reason=reason, actor_id=actor_id)
    audit.record(session, action="loyalty.points_adjusted", object_type="loyalty_customer", object_id=customer_id,
                 actor_id=actor_id, business_id=business_id, after={"points": points, "reason": reason})
    return entry


def redeem(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID, points: int,
           idempotency_key: str | None = None, actor_id: uuid.UUID | None = None,
           campaign_id: uuid.UUID | None = None) -> Redemption:
    """Spends points for a reward code worth points / points_per_dollar_off dollars (applied at the POS)."""
    prog = program(session, business_id=business_id)
    points = int(points)
    if points < prog.min_redeem_points:
        raise ValidationFailed(f"Redeem at least {prog.min_redeem_points:,} points.", field="points")
    customer = _lock_customer(session, business_id, customer_id)
    if customer.enrollment != Enrollment.enrolled:
        raise Conflict("This customer is not enrolled in the programme.")
    key = f"redeem:{idempotency_key or uuid.uuid4()}"
    prior = session.exec(select(PointsEntry).where(PointsEntry.business_id == business_id,
                                                   PointsEntry.idempotency_key == key)).first()
    if prior is not None:  # the same request again: the reward it already made
        found = session.exec(select(Redemption).where(Redemption.business_id == business_id,
                                                      Redemption.code == prior.reason.removeprefix("Reward "))).first()
        if found is not None:
            return found
    code = secrets.token_hex(5).upper()
    _append(session, customer, kind=EntryKind.redeem, points=-points, reason=f"Reward {code}", idempotency_key=key,
            actor_id=actor_id)
    value = (Decimal(points) / Decimal(prog.points_per_dollar_off)).quantize(Decimal("0.01"))
    redemption = Redemption(business_id=business_id, customer_id=customer_id, points=points, value=value, code=code,
                            campaign_id=campaign_id)
    session.add(redemption)
    session.flush()
    _event(session, redemption, "", RedemptionStatus.issued, actor_id, "issued")
    return redemption


def _event(session: Session, redemption: Redemption, before: str, after: str, actor_id, reason: str) -> None:
    session.add(StatusEvent(business_id=redemption.business_id, object_type="redemption", object_id=redemption.id,
                            from_status=before, to_status=after, actor_id=actor_id, reason=reason))
    audit.record(session, action=f"loyalty.redemption_{after}", object_type="loyalty_redemption",
                 object_id=redemption.id, actor_id=actor_id, business_id=redemption.business_id,
                 before={"status": before}, after={"status": after})


def transition_redemption(session: Session, *, business_id: uuid.UUID, code: str, verb: str,
                          actor_id: uuid.UUID | None = None, reason: str = "") -> Redemption:
    """apply (issued -> applied, the POS used it) or void (issued -> voided, points returned)."""
    redemption = session.exec(select(Redemption).where(Redemption.business_id == business_id,
                                                       Redemption.code == code.strip().upper())).first()
    if redemption is None:
        raise NotFound("No reward with this code.")
    match (RedemptionStatus(redemption.status), verb):
        case (RedemptionStatus.issued, "apply"):
            after = RedemptionStatus.applied
        case (RedemptionStatus.issued, "void"):
            after = RedemptionStatus.voided
            customer = _lock_customer(session, business_id, redemption.customer_id)
            _append(session, customer, kind=EntryKind.reversal, points=redemption.points,
                    reason=f"Reward {redemption.code} voided", idempotency_key=f"void:{redemption.id}",
                    actor_id=actor_id)
        case _:
            raise Conflict(f"This reward is {redemption.status}; it cannot be {verb}ed.")
    before = redemption.status
    redemption.status = after
    session.add(redemption)
    _event(session, redemption, before, after, actor_id, reason or verb)
    session.flush()
    return redemption


def history(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID, limit: int = 100) -> list[PointsEntry]:
    return list(session.exec(select(PointsEntry).where(PointsEntry.business_id == business_id,
                                                       PointsEntry.customer_id == customer_id)
                             .order_by(col(PointsEntry.id).desc()).limit(limit)).all())


def ledger_consistent(session: Session, *, business_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    """Every entry's balance_after equals the running sum up to it, and no balance went below zero."""
    running = 0
    for entry in session.exec(select(PointsEntry).where(PointsEntry.business_id == business_id,
                                                        PointsEntry.customer_id == customer_id)
                              .order_by(col(PointsEntry.id))).all():
        running += entry.points
        if running != entry.balance_after or running < 0:
            return False
    return True
