"""Reviews with effect tags: consumers (21+) rate products and dispensaries, one review each (editable); others
report abuse to a moderation queue; the dispensary answers publicly; the aggregate effect profile is rebuilt by
the maps.aggregate_reviews task after every change.

A review's status (ReviewStatus) changes only through `transition()`, one verb per rule of TRANSITIONS: who may
do it, from which states, to which. Each change writes an event row (the audit log: who, when, from, to, why)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.validation import safe_text
from icc_app.identity.accounts import check_age
from icc_app.identity.models import Product, User, UserKind
from icc_app.identity.permissions import require_member, require_platform_admin
from icc_app.identity.schemas import Principal
from icc_app.maps.models import Dispensary, MenuItem, Review, ReviewReport, ReviewStatus, ReviewSummary
from icc_app.maps.schemas import OwnReview

POSITIVE = ["relaxed", "happy", "euphoric", "uplifted", "creative", "focused", "sleepy", "hungry", "energetic",
            "talkative", "tingly", "giggly"]
NEGATIVE = ["dry mouth", "dry eyes", "paranoid", "anxious", "dizzy", "headache"]
EFFECTS = POSITIVE + NEGATIVE
HIDE_AFTER_REPORTS = 3  # so many reports hide a review until a moderator looks
R = ReviewStatus


@dataclass(frozen=True)
class Rule:
    sources: frozenset[ReviewStatus]
    target: ReviewStatus
    actor: str  # "moderator" (a platform admin) or "system" (the report count)


TRANSITIONS: dict[str, Rule] = {
    "hide": Rule(frozenset({R.published}), R.hidden, "moderator"),
    "publish": Rule(frozenset({R.hidden, R.published}), R.published, "moderator"),  # published: clears reports
    "hide_after_reports": Rule(frozenset({R.published}), R.hidden, "system"),
}


def transition(session: Session, review: Review, verb: str, *, principal: Principal | None, why: str) -> Review:
    """The one place a review's status changes: checks the actor and the current state, writes the event row."""
    rule = TRANSITIONS.get(verb)
    if rule is None:
        raise ValueError(f"unknown review transition {verb!r}")
    if rule.actor == "moderator":
        require_platform_admin(principal)
    current = ReviewStatus(review.status)
    if current not in rule.sources:
        raise Conflict(f"A {current.value} review cannot be {rule.target.value} again: reload the page.")
    review.status = rule.target
    session.add(review)
    audit.record(session, action=f"maps.review.{verb}", object_type="review", object_id=review.id,
                 actor_id=principal.user_id if principal else None, before={"status": current.value},
                 after={"status": rule.target.value, "why": why[:500]})
    enqueue(session, "maps.aggregate_reviews", review.target_type, str(review.target_id))
    return review


def _target(session: Session, target_type: str, target_id: uuid.UUID) -> uuid.UUID:
    """The dispensary the reviewed thing belongs to (404 when it does not exist)."""
    if target_type == "dispensary":
        dispensary = session.get(Dispensary, target_id)
        if dispensary is None:
            raise NotFound("Dispensary not found.")
        return dispensary.id
    if target_type == "product":
        item = session.get(MenuItem, target_id)
        if item is None:
            raise NotFound("Product not found.")
        return item.dispensary_id
    raise ValidationFailed("Review a product or a dispensary.", field="target_type")


def write(session: Session, *, principal: Principal, target_type: str, target_id: uuid.UUID, rating: int,
          effects: list[str], text: str = "") -> Review:
    """Create or edit the consumer's one review of this item."""
    if principal.kind != UserKind.consumer or principal.user_id is None:
        raise PermissionDenied("Reviews are written with a consumer account.")
    user = session.get(User, principal.user_id)
    if not user.birth_date:
        raise PermissionDenied("Add your birth date first: reviews are for people 21 and older.")
    check_age(date.fromisoformat(user.birth_date))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("Rate from 1 to 5 stars.", field="rating")
    tags = sorted({e.strip().lower() for e in effects})
    unknown = [t for t in tags if t not in EFFECTS]
    if unknown:
        raise ValidationFailed(f"Unknown effect: {', '.join(unknown)}.", field="effects")
    text = safe_text(text, "text", max_length=5000)
    dispensary_id = _target(session, target_type, target_id)
    review = session.exec(select(Review).where(Review.author_id == user.id, Review.target_type == target_type,
                                               Review.target_id == target_id)).first()
    before = None if review is None else {"rating": review.rating, "effects": review.effects}
    if review is None:
        review = Review(author_id=user.id, target_type=target_type, target_id=target_id, dispensary_id=dispensary_id,
                        rating=rating, effects=tags, text=text)
    else:
        review.rating, review.effects, review.text = rating, tags, text
    session.add(review)
    session.flush()
    audit.record(session, action="maps.review.written", object_type="review", object_id=review.id, actor_id=user.id,
                 before=before, after={"rating": rating, "effects": tags})
    enqueue(session, "maps.aggregate_reviews", target_type, str(target_id))
    return review


def report(session: Session, *, principal: Principal, review_id: uuid.UUID, reason: str) -> Review:
    """Anyone signed in reports abuse once per review; HIDE_AFTER_REPORTS different people hide it for a moderator."""
    review = session.get(Review, review_id)
    if review is None or review.status != ReviewStatus.published:
        raise NotFound("Review not found.")
    if principal.user_id is None or principal.user_id == review.author_id:
        raise Conflict("You cannot report your own review.")
    reason = safe_text(reason, "reason", max_length=500)
    if len(reason) < 5:
        raise ValidationFailed("Say what is wrong with it.", field="reason")
    already = session.exec(select(ReviewReport.id).where(ReviewReport.review_id == review.id,
                                                         ReviewReport.reporter_id == principal.user_id)).first()
    if already is not None:
        raise Conflict("You have already reported this review; a moderator will look at it.")
    session.add(ReviewReport(review_id=review.id, reporter_id=principal.user_id, reason=reason[:500]))
    review.reports += 1
    session.add(review)
    if review.reports >= HIDE_AFTER_REPORTS:
        review.moderation_note = "hidden after reports, waiting for a moderator"
        transition(session, review, "hide_after_reports", principal=None,
                   why=f"{review.reports} people reported it")
    audit.record(session, action="maps.review.reported", object_type="review", object_id=review.id,
                 actor_id=principal.user_id, after={"reason": reason[:300], "reports": review.reports})
    return review


def moderation_queue(session: Session, *, principal: Principal) -> list[Review]:
    require_platform_admin(principal)
    return list(session.exec(select(Review).where((Review.reports > 0) | (Review.status == ReviewStatus.hidden))
                             .order_by(col(Review.reports).desc())))


def moderate(session: Session, *, principal: Principal, review_id: uuid.UUID, publish: bool, note: str) -> Review:
    require_platform_admin(principal)
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("Review not found.")
    note = (note or "").strip()[:500]
    if publish:
        review.reports = 0
    elif review.status == ReviewStatus.hidden:  # hidden by reports: the moderator confirms it
        review.moderation_note = note or review.moderation_note
        session.add(review)
        audit.record(session, action="maps.review.hide_confirmed", object_type="review", object_id=review.id,
                     actor_id=principal.user_id, before={"status": "hidden"}, after={"status": "hidden", "why": note})
        return review
    review.moderation_note = note or None
    return transition(session, review, "publish" if publish else "hide", principal=principal,
                      why=note or "moderator decision")


def reply(session: Session, *, principal: Principal, review_id: uuid.UUID, text: str) -> Review:
    """The dispensary's public answer, by a member (with Maps) of the business that claimed it."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("Review not found.")
    dispensary = session.get(Dispensary, review.dispensary_id)
    if dispensary.claimed_by_business_id is None or principal.membership(dispensary.claimed_by_business_id) is None:
        raise NotFound("Review not found.")
    require_member(principal, dispensary.claimed_by_business_id, product=Product.maps)
    text = safe_text(text, "text", max_length=2000)
    if not text:
        raise ValidationFailed("Write the reply.", field="text")
    review.reply, review.reply_by = text[:2000], principal.user_id
    session.add(review)
    audit.record(session, action="maps.review.replied", object_type="review", object_id=review.id,
                 actor_id=principal.user_id, business_id=dispensary.claimed_by_business_id)
    return review


def for_dispensary(session: Session, *, principal: Principal, dispensary_id: uuid.UUID, limit: int = 100
                   ) -> list[tuple[Review, str]]:
    """The published reviews of a dispensary and of its products, newest first, for its people to answer."""
    dispensary = session.get(Dispensary, dispensary_id)
    if dispensary is None or dispensary.claimed_by_business_id is None or \
            principal.membership(dispensary.claimed_by_business_id) is None:
        raise NotFound("Dispensary not found.")
    require_member(principal, dispensary.claimed_by_business_id, product=Product.maps)
    rows = session.exec(select(Review, MenuItem.name).outerjoin(MenuItem, col(MenuItem.id) == Review.target_id).where(
        Review.dispensary_id == dispensary_id, Review.status == ReviewStatus.published)
        .order_by(col(Review.updated_at).desc()).limit(limit)).all()
    return [(review, item_name or "the store") for review, item_name in rows]


def aggregate(session: Session, target_type: str, target_id: uuid.UUID) -> ReviewSummary:
    """Rebuild one item's summary from its published reviews (the task's body; idempotent)."""
    rows = session.exec(select(Review).where(Review.target_type == target_type, Review.target_id == target_id,
                                             Review.status == ReviewStatus.published)).all()
    summary = session.exec(select(ReviewSummary).where(ReviewSummary.target_type == target_type,
                                                       ReviewSummary.target_id == target_id)).first()
    summary = summary or ReviewSummary(target_type=target_type, target_id=target_id)
    summary.count = len(rows)
    summary.rating = round(sum(r.rating for r in rows) / len(rows), 2) if rows else None
    summary.effects = {tag: round(sum(1 for r in rows if tag in r.effects) / len(rows), 3)
                       for tag in EFFECTS if any(tag in r.effects for r in rows)} if rows else {}
    session.add(summary)
    session.flush()
    return summary


def published(session: Session, *, target_type: str, target_id: uuid.UUID, limit: int = 20) -> list[tuple[Review, str]]:
    """Published reviews of one item, newest first, with the author's public handle (never a real name)."""
    rows = session.exec(select(Review, User).join(User, col(User.id) == Review.author_id).where(
        Review.target_type == target_type, Review.target_id == target_id, Review.status == ReviewStatus.published)
        .order_by(col(Review.updated_at).desc()).limit(limit)).all()
    return [(review, user.handle or user.display_name) for review, user in rows]


def summary(session: Session, *, target_type: str, target_id: uuid.UUID) -> ReviewSummary | None:
    return session.exec(select(ReviewSummary).where(ReviewSummary.target_type == target_type,
                                                    ReviewSummary.target_id == target_id)).first()


def own(session: Session, *, principal: Principal | None, target_type: str, target_id: uuid.UUID
        ) -> OwnReview | None:
    """The signed-in consumer's own review of this item (whatever its status), for "your review" and its edit."""
    if principal is None or principal.user_id is None:
        return None
    review = session.exec(select(Review).where(Review.author_id == principal.user_id,
                                               Review.target_type == target_type,
                                               Review.target_id == target_id)).first()
    if review is None:
        return None
    return OwnReview(id=str(review.id), rating=review.rating, stars="★" * review.rating + "☆" * (5 - review.rating),
                     effects=list(review.effects), effects_line=" · ".join(review.effects), text=review.text,
                     status="Published" if review.status == ReviewStatus.published else "Hidden by a moderator",
                     date=f"{review.updated_at:%b %d, %Y}")
