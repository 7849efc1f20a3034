"""The operator console's home: what waits on the signed-in person, across the products they work in.

Read-only. The console composes the other products: it reads their tables here and changes nothing, so each
product's own service stays the only place that moves its state. Every query is scoped to the businesses the
principal is a member of (with the product the item belongs to), inside the query itself; platform
administrators additionally see the platform's own queues (license reviews, disputes, reported reviews).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from icc_app.core.models import utcnow
from icc_app.exchange.models import Dispute, DisputeStatus, Offer, OfferParty, OfferStatus, Order, OrderStatus
from icc_app.exchange.models import PaymentTerms
from icc_app.exchange.models import Lot
from icc_app.identity.models import Business, BusinessLicense, LicenseStatus, Product, User, UserKind, Verification
from icc_app.identity.permissions import has_product, mfa_blocked
from icc_app.identity.schemas import Principal
from icc_app.labs.models import CoaDocument, CoaStatus
from icc_app.ui.format import label
from icc_app.maps import service as maps_service
from icc_app.maps.models import Dispensary, MenuItem, Review
from icc_app.ui import routes
from icc_app.ui.format import plural

LICENSE_WARNING_DAYS = 30  # a license that ends within this many days is on the list, like one already expired
OPEN_ORDER = (OrderStatus.pending, OrderStatus.confirmed, OrderStatus.in_transit, OrderStatus.received)


@dataclass(frozen=True)
class WorkItem:
    """One line of the home dashboard: how many things of one kind wait on this person, and where to do them."""

    key: str
    count: int
    title: str  # "2 offers to answer"
    hint: str  # what to do, in a sentence
    route: str
    icon: str


@dataclass(frozen=True)
class ReviewLine:
    """One of a consumer's own reviews, as their home lists it."""

    place: str  # the dispensary, or "product at dispensary"
    rating: int
    text: str
    status: str
    path: str


def _business_ids(principal: Principal, product: Product | None = None) -> list[uuid.UUID]:
    """The businesses whose work this person can do (a business that requires MFA they lack does not count)."""
    return [m.business_id for m in principal.memberships
            if not mfa_blocked(principal, m) and (product is None or has_product(m, product))]


def _count(session: Session, model, *conditions) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*conditions)).one())


def _item(key: str, count: int, noun: str, rest: str, hint: str, route: str, icon: str,
          plural_noun: str | None = None) -> WorkItem | None:
    return WorkItem(key, count, f"{plural(count, noun, plural_noun)} {rest}", hint, route, icon) if count else None


def _exchange_items(session: Session, ids: list[uuid.UUID]) -> list[WorkItem | None]:
    if not ids:
        return []
    now = utcnow()
    selling, buying = col(Order.seller_business_id).in_(ids), col(Order.buyer_business_id).in_(ids)
    answer = _count(session, Offer, Offer.status == OfferStatus.open, col(Offer.expires_at) > now,
                    sa.or_(sa.and_(col(Offer.seller_business_id).in_(ids), Offer.awaiting == OfferParty.seller),
                           sa.and_(col(Offer.buyer_business_id).in_(ids), Offer.awaiting == OfferParty.buyer)))
    paid = sa.and_(col(Order.payment_sent_at).is_not(None), col(Order.payment_received_at).is_not(None))
    to_confirm = _count(session, Order, selling, Order.status == OrderStatus.pending)
    to_ship = _count(session, Order, selling, Order.status == OrderStatus.confirmed,
                     sa.or_(Order.payment_terms != PaymentTerms.prepay, paid))
    to_receive = _count(session, Order, buying, Order.status == OrderStatus.in_transit)
    to_pay = _count(session, Order, buying, col(Order.status).in_(OPEN_ORDER), col(Order.payment_sent_at).is_(None))
    to_acknowledge = _count(session, Order, selling, col(Order.status).in_(OPEN_ORDER),
                            col(Order.payment_sent_at).is_not(None), col(Order.payment_received_at).is_(None))
    disputes = int(session.exec(
        select(func.count()).select_from(Dispute).join(Order, col(Order.id) == Dispute.order_id)
        .where(Dispute.status == DisputeStatus.open, sa.or_(selling, buying))).one())
    coas = _count(session, CoaDocument, col(CoaDocument.business_id).in_(ids),
                  col(CoaDocument.status).in_([CoaStatus.needs_review.value, CoaStatus.failed.value]))
    return [
        _item("offers", answer, "offer", "to answer", "The other side waits for your accept, counter or reject.",
              routes.OFFERS, "handshake"),
        _item("confirm", to_confirm, "order", "to confirm", "Accepted offers wait for you to commit to deliver.",
              routes.ORDERS, "circle-check"),
        _item("ship", to_ship, "order", "to ship", "Confirmed and ready to go out.", routes.ORDERS, "truck"),
        _item("receive", to_receive, "order", "to receive", "On the way to you: mark them received when they arrive.",
              routes.ORDERS, "package-check"),
        _item("pay", to_pay, "payment", "to send", "Mark the payment sent once your bank has it out.",
              routes.ORDERS, "banknote"),
        _item("payment_received", to_acknowledge, "payment", "to confirm received",
              "The buyer says it is sent: confirm when it reaches your account.", routes.ORDERS, "wallet"),
        _item("disputes", disputes, "open dispute", "on your orders", "A platform administrator decides; add your "
              "evidence on the order.", routes.ORDERS, "scale"),
        _item("coas", coas, "COA", "needing review", "The parser could not read everything: check the values by hand.",
              routes.COAS, "flask-conical", "COAs"),
    ]


def _license_item(session: Session, ids: list[uuid.UUID]) -> WorkItem | None:
    if not ids:
        return None
    horizon = date.today() + timedelta(days=LICENSE_WARNING_DAYS)
    count = _count(session, BusinessLicense, col(BusinessLicense.business_id).in_(ids),
                   BusinessLicense.verification == Verification.verified,
                   BusinessLicense.status == LicenseStatus.active, col(BusinessLicense.expires_on).is_not(None),
                   col(BusinessLicense.expires_on) <= horizon)
    return _item("licenses", count, "license", "to renew",
                 f"Expired or ending within {LICENSE_WARNING_DAYS} days: trading stops when a license lapses.",
                 routes.ONBOARDING, "badge-alert")


def _platform_items(session: Session) -> list[WorkItem | None]:
    return [
        _item("license_reviews", _count(session, BusinessLicense,
                                        BusinessLicense.verification == Verification.needs_review),
              "license", "to review", "Documents sent as proof of control, and claims of a license another "
              "business already holds: read them, then approve or reject.", routes.ADMIN_LICENSES, "file-check"),
        _item("platform_disputes", _count(session, Dispute, Dispute.status == DisputeStatus.open), "dispute",
              "to decide", "Buyers and sellers wait for a decision.", routes.ADMIN_DISPUTES, "scale"),
        _item("reported_reviews", _count(session, Review, Review.reports > 0), "reported review", "to moderate",
              "People flagged these reviews.", routes.ADMIN_REVIEWS, "flag"),
    ]


def work_queue(session: Session, *, principal: Principal) -> list[WorkItem]:
    """What waits on this person, most urgent kinds first; empty when nothing does (and always for consumers)."""
    if principal.kind == UserKind.consumer:
        return []
    items = _exchange_items(session, _business_ids(principal, Product.exchange))
    items.append(_license_item(session, _business_ids(principal)))
    if principal.is_platform_admin:
        items.extend(_platform_items(session))
    return [item for item in items if item is not None]


def my_reviews(session: Session, *, principal: Principal, limit: int = 5) -> tuple[int, list[ReviewLine]]:
    """A consumer's own reviews, newest first, with a link to where each one is shown; and how many in all."""
    if principal.user_id is None:
        return 0, []
    mine = Review.author_id == principal.user_id
    total = _count(session, Review, mine)
    rows = session.exec(
        select(Review, Dispensary, MenuItem)
        .join(Dispensary, col(Dispensary.id) == Review.dispensary_id)
        .join(MenuItem, sa.and_(Review.target_type == "product", col(MenuItem.id) == Review.target_id), isouter=True)
        .where(mine).order_by(col(Review.created_at).desc()).limit(limit)).all()
    lines = []
    for review, dispensary, item in rows:
        store = dispensary.dba or dispensary.name
        lines.append(ReviewLine(place=f"{item.name} at {store}" if item is not None else store, rating=review.rating,
                                text=review.text[:200], status=review.status,
                                path=maps_service.page_path(dispensary)))
    return total, lines


# How the audit log names an object of each type: (model, how to name one row, where its page is).
_NAMERS = {
    "user": (User, lambda u: f"{u.display_name} <{u.email}>", None),
    "business": (Business, lambda b: b.dba or b.legal_name, None),
    "lot": (Lot, lambda lot: lot.title, lambda lot: f"{routes.MARKETPLACE}/lots/{lot.id}"),
    "order": (Order, lambda o: o.reference, lambda o: f"{routes.ORDERS}/{o.id}"),
    "dispensary": (Dispensary, lambda d: d.dba or d.name, maps_service.page_path),
    "coa_document": (CoaDocument, lambda c: c.filename, lambda c: f"{routes.COAS}/{c.id}"),
}


@dataclass(frozen=True)
class Named:
    text: str
    path: str = ""


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def name_objects(session: Session, refs: list[tuple[str, object]]) -> dict[tuple[str, str], Named]:
    """Names (and page links) for (object_type, object_id) pairs as the audit log stores them, one query per type;
    a type or row we cannot name reads as its type in words and a short id ("Offer 1a2b3c4d")."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for object_type, object_id in refs:
        if object_type in _NAMERS and (key := _as_uuid(object_id)) is not None:
            wanted.setdefault(object_type, set()).add(key)
    found: dict[tuple[str, str], Named] = {}
    for object_type, ids in wanted.items():
        model, name, path = _NAMERS[object_type]
        for row in session.exec(select(model).where(col(model.id).in_(ids))).all():
            found[(object_type, str(row.id))] = Named(name(row), path(row) if path else "")
    result = {}
    for object_type, object_id in refs:
        key = (object_type, str(object_id) if object_id is not None else "")
        short = str(object_id)[:8] if object_id not in (None, "") else ""
        result[key] = found.get(key) or Named(f"{label(object_type)} {short}".strip())
    return result
