"""Segments: the nightly behavioural segments (RFM and rules), operator-built filter segments, counts and trends.

Built-in segments, first match wins, from a customer's purchase days at the business:
  lost        no purchase for more than 180 days
  lapsing     no purchase for more than 60 days, or a regular (3+ visits) three usual gaps overdue
  new         first purchase within the last 30 days
  high_value  top fifth of the business's customers by spend in the last 365 days (among those not lapsing/lost)
  regular     3 or more visit days in the last 365 days
  occasional  everyone else (including enrolled customers who have not bought yet)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.errors import NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.loyalty.models import (
    Customer,
    CustomerScore,
    Enrollment,
    PointsEntry,
    Segment,
    SegmentSnapshot,
)

BUILT_IN = {
    "new": "New",
    "regular": "Regular",
    "high_value": "High value",
    "lapsing": "Lapsing",
    "lost": "Lost",
    "occasional": "Occasional",
}
LOST_DAYS, LAPSING_DAYS, NEW_DAYS, REGULAR_VISITS, HIGH_VALUE_SHARE = 180, 60, 30, 3, 0.2

# Fields an operator can filter on: name -> (label, kind)
FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "recency_days": ("Days since last purchase", "number"),
    "frequency": ("Visits in the last year", "number"),
    "monetary": ("Spend in the last year ($)", "number"),
    "rfm_score": ("RFM score (3-15)", "number"),
    "buy_again_probability": ("Chance of buying again (0-1)", "number"),
    "points_balance": ("Points balance", "number"),
    "segment": ("Segment", "choice"),
    "customer_type": ("Customer type", "choice"),
    "email_consent": ("Agreed to email", "bool"),
    "sms_consent": ("Agreed to texts", "bool"),
}
OPERATORS = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most", "=": "is", "!=": "is not"}


@dataclass(frozen=True)
class Visit:
    day: date
    amount: Decimal


def label(visits: list[Visit], *, today: date, high_value_cut: Decimal | None) -> str:
    """The built-in segment of one customer (visits: one per purchase day, oldest first)."""
    if not visits:
        return "occasional"
    recency = (today - visits[-1].day).days
    if recency > LOST_DAYS:
        return "lost"
    year = [v for v in visits if (today - v.day).days <= 365]
    if recency > LAPSING_DAYS:
        return "lapsing"
    if len(visits) >= REGULAR_VISITS:
        gaps = [(b.day - a.day).days for a, b in zip(visits, visits[1:], strict=False)]
        usual = sum(gaps) / len(gaps)
        if recency > max(3 * usual, 21):
            return "lapsing"
    if (today - visits[0].day).days <= NEW_DAYS:
        return "new"
    spend = sum((v.amount for v in year), Decimal("0"))
    if high_value_cut is not None and spend >= high_value_cut and spend > 0:
        return "high_value"
    if len(year) >= REGULAR_VISITS:
        return "regular"
    return "occasional"


def quintiles(values: list[float], *, higher_is_better: bool = True) -> list[int]:
    """1..5 by rank (5 = best); ties share the lower rank's score."""
    if not values:
        return []
    order = sorted(range(len(values)), key=lambda i: values[i])
    scores = [0] * len(values)
    n = len(values)
    for rank, i in enumerate(order):
        q = min(5, 1 + rank * 5 // n)
        scores[i] = q if higher_is_better else 6 - q
    return scores


def high_value_cut(spends: list[Decimal]) -> Decimal | None:
    positive = sorted((s for s in spends if s > 0), reverse=True)
    if not positive:
        return None
    return positive[max(0, int(len(positive) * HIGH_VALUE_SHARE) - 1)]


def _validate_rules(rules: list[dict]) -> list[dict]:
    clean = []
    for i, rule in enumerate(rules or []):
        field, op, value = rule.get("field"), rule.get("op"), rule.get("value")
        if field not in FILTER_FIELDS:
            raise ValidationFailed(f"Rule {i + 1}: choose a field to filter on.", field="rules")
        kind = FILTER_FIELDS[field][1]
        if op not in OPERATORS or (kind != "number" and op not in ("=", "!=")):
            raise ValidationFailed(f"Rule {i + 1}: choose how to compare.", field="rules")
        if kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValidationFailed(f"Rule {i + 1}: enter a number.", field="rules") from None
        elif kind == "bool":
            value = str(value).lower() in ("true", "1", "yes")
        else:
            value = str(value)
        clean.append({"field": field, "op": op, "value": value})
    return clean


def _balance_subquery():
    return (select(sa.func.coalesce(sa.func.sum(PointsEntry.points), 0))
            .where(PointsEntry.customer_id == Customer.id, PointsEntry.business_id == Customer.business_id)
            .scalar_subquery())


def _column(field: str):
    return {
        "recency_days": CustomerScore.recency_days, "frequency": CustomerScore.frequency,
        "monetary": CustomerScore.monetary, "rfm_score": CustomerScore.rfm_score,
        "buy_again_probability": CustomerScore.buy_again_probability, "segment": CustomerScore.segment,
        "customer_type": Customer.customer_type, "email_consent": Customer.email_consent,
        "sms_consent": Customer.sms_consent, "points_balance": _balance_subquery(),
    }[field]


def _condition(rule: dict):
    column, value = _column(rule["field"]), rule["value"]
    if isinstance(value, bool):
        return column.is_(value) if rule["op"] == "=" else column.is_not(value)
    return {">": column > value, ">=": column >= value, "<": column < value, "<=": column <= value,
            "=": column == value, "!=": column != value}[rule["op"]]


def audience_query(business_id: uuid.UUID, *, segment_key: str, rules: list[dict] | None = None):
    """Customer ids of the business in a segment: "all", a built-in key, or explicit rules (custom segments).
    Only enrolled customers: the age rule is part of every audience."""
    query = (select(Customer.id).join(CustomerScore, col(CustomerScore.customer_id) == Customer.id, isouter=True)
             .where(Customer.business_id == business_id, Customer.enrollment == Enrollment.enrolled))
    if segment_key in BUILT_IN:
        query = query.where(CustomerScore.segment == segment_key)
    elif segment_key != "all" and rules is None:
        raise ValidationFailed("Choose a segment.", field="segment_key")
    for rule in rules or []:
        query = query.where(_condition(rule))
    return query


def resolve(session: Session, *, business_id: uuid.UUID, segment_key: str):
    """The audience query of a campaign's segment key ("custom:<id>" for operator segments)."""
    if segment_key.startswith("custom:"):
        segment = get(session, business_id=business_id, segment_id=uuid.UUID(segment_key.split(":", 1)[1]))
        return audience_query(business_id, segment_key="custom", rules=segment.rules)
    return audience_query(business_id, segment_key=segment_key)


def count(session: Session, query) -> int:
    return int(session.exec(select(sa.func.count()).select_from(query.subquery())).one())


def preview(session: Session, *, business_id: uuid.UUID, rules: list[dict]) -> int:
    """How many customers the rules select now (the segment builder's live count)."""
    return count(session, audience_query(business_id, segment_key="custom", rules=_validate_rules(rules)))


def create(session: Session, *, business_id: uuid.UUID, name: str, rules: list[dict],
           actor_id: uuid.UUID | None) -> Segment:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the segment.", field="name")
    clean = _validate_rules(rules)
    if not clean:
        raise ValidationFailed("Add at least one rule.", field="rules")
    segment = Segment(business_id=business_id, name=name[:120], rules=clean, created_by=actor_id)
    segment.member_count = count(session, audience_query(business_id, segment_key="custom", rules=clean))
    segment.counted_at = utcnow()
    session.add(segment)
    session.flush()
    audit.record(session, action="loyalty.segment_created", object_type="loyalty_segment", object_id=segment.id,
                 actor_id=actor_id, business_id=business_id, after={"name": name, "rules": clean})
    return segment


def get(session: Session, *, business_id: uuid.UUID, segment_id: uuid.UUID) -> Segment:
    segment = session.exec(select(Segment).where(Segment.business_id == business_id,
                                                 Segment.id == segment_id)).first()
    if segment is None:
        raise NotFound("Segment not found.")
    return segment


def list_segments(session: Session, *, business_id: uuid.UUID) -> list[Segment]:
    return list(session.exec(select(Segment).where(Segment.business_id == business_id)
                             .order_by(col(Segment.created_at).desc())).all())


def built_in_counts(session: Session, *, business_id: uuid.UUID) -> dict[str, int]:
    rows = session.exec(select(CustomerScore.segment, sa.func.count())
                        .join(Customer, col(Customer.id) == CustomerScore.customer_id)
                        .where(CustomerScore.business_id == business_id, Customer.business_id == business_id,
                               Customer.enrollment == Enrollment.enrolled)
                        .group_by(CustomerScore.segment)).all()
    found = dict(rows)
    return {key: int(found.get(key, 0)) for key in BUILT_IN}


def snapshot(session: Session, *, business_id: uuid.UUID, today: date) -> dict[str, int]:
    """Today's counts of every built-in and operator segment (one row per segment per day; re-running replaces)."""
    day = datetime(today.year, today.month, today.day, tzinfo=UTC)
    counts = built_in_counts(session, business_id=business_id)
    for segment in list_segments(session, business_id=business_id):
        segment.member_count = count(session, audience_query(business_id, segment_key="custom", rules=segment.rules))
        segment.counted_at = utcnow()
        session.add(segment)
        counts[f"custom:{segment.id}"] = segment.member_count
    for key, value in counts.items():
        row = session.exec(select(SegmentSnapshot).where(SegmentSnapshot.business_id == business_id,
                                                         SegmentSnapshot.segment_key == key,
                                                         SegmentSnapshot.day == day)).first()
        row = row or SegmentSnapshot(business_id=business_id, segment_key=key, day=day, member_count=value)
        row.member_count = value
        session.add(row)
    session.flush()
    return counts


def trend(session: Session, *, business_id: uuid.UUID, segment_key: str, days: int = 30) -> list[tuple[date, int]]:
    since = utcnow() - timedelta(days=days)
    rows = session.exec(select(SegmentSnapshot.day, SegmentSnapshot.member_count)
                        .where(SegmentSnapshot.business_id == business_id, SegmentSnapshot.segment_key == segment_key,
                               SegmentSnapshot.day >= since).order_by(col(SegmentSnapshot.day))).all()
    return [(d.date(), int(n)) for d, n in rows]
