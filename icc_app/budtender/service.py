"""IVB for consumers: the quiz profile, recommendations of in-stock products near them with reasons, favourites,
feedback and history. Services take a Session first, keyword-only arguments, and never commit."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.budtender import strains, training
from icc_app.budtender.effects import AVOIDABLE, FEELINGS, terpene_vector
from icc_app.budtender.models import Favourite, Feedback, FeedbackKind, QuizProfile, RecommendationRun
from icc_app.budtender.ranking import EXPERIENCES, Candidate, Profile, Ranked, rank
from icc_app.budtender.reference import strain_key
from icc_app.budtender.schemas import (FORMATS, FavouriteRead, QuizRead, RecommendationRead, RunRead,
                                       quiz_summary)
from icc_app.core.errors import NotFound, PermissionDenied, ValidationFailed
from icc_app.core.geo import haversine_miles
from icc_app.identity.schemas import Principal
from icc_app.maps import catalog
from icc_app.maps import service as maps_service
from icc_app.maps.models import Dispensary, MenuItem, Review, ReviewSummary
from icc_app.maps.schemas import money
from icc_app.ui.format import label, local_time

MAX_CANDIDATES = 3000  # in-stock items considered per request, nearest stores first
MAX_FEELINGS = 4


def _user(principal: Principal | None) -> uuid.UUID:
    if principal is None or principal.user_id is None:
        raise PermissionDenied("Sign in to save your answers, favourites and history.")
    return principal.user_id


# ---- quiz ------------------------------------------------------------------------------------------------------
def parse_budget(value) -> Decimal | None:
    text = str(value if value is not None else "").strip().lstrip("$").replace(",", "")
    if not text:
        return None
    try:
        budget = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationFailed("The budget is an amount in dollars, like 40.", field="budget_max") from None
    if not Decimal("1") <= budget <= Decimal("10000"):
        raise ValidationFailed("The budget is between $1 and $10,000.", field="budget_max")
    return budget


def clean_quiz(*, wanted: list[str], avoided: list[str] = (), experience: str = "occasional",
               formats: list[str] = (), budget_max=None) -> Profile:
    """Checks the quiz answers; bad input is refused with the field named."""
    wanted, avoided, formats = list(dict.fromkeys(wanted)), list(dict.fromkeys(avoided)), list(dict.fromkeys(formats))
    if unknown := [w for w in wanted if w not in FEELINGS]:
        raise ValidationFailed(f"Unknown feeling {unknown[0]!r}: choose from {', '.join(FEELINGS)}.", field="wanted")
    if not wanted:
        raise ValidationFailed("Choose at least one feeling you want.", field="wanted")
    if len(wanted) > MAX_FEELINGS:
        raise ValidationFailed(f"Choose at most {MAX_FEELINGS} feelings.", field="wanted")
    if unknown := [a for a in avoided if a not in AVOIDABLE]:
        raise ValidationFailed(f"Unknown feeling to avoid {unknown[0]!r}.", field="avoided")
    if both := [a for a in avoided if a in wanted]:
        raise ValidationFailed(f"{FEELINGS[both[0]]} is both wanted and avoided.", field="avoided")
    if experience not in EXPERIENCES:
        raise ValidationFailed(f"Experience is one of {', '.join(EXPERIENCES)}.", field="experience")
    if unknown := [f for f in formats if f not in FORMATS]:
        raise ValidationFailed(f"Unknown format {unknown[0]!r}: choose from {', '.join(FORMATS)}.", field="formats")
    return Profile(wanted=wanted, avoided=avoided, experience=experience, formats=formats,
                   budget_max=parse_budget(budget_max))


def quiz_read(profile: Profile, *, radius_miles: float = 15.0, place: str = "", lat=None, lon=None) -> QuizRead:
    budget = f"{profile.budget_max:.2f}" if profile.budget_max is not None else ""
    return QuizRead(wanted=profile.wanted, avoided=profile.avoided, experience=profile.experience,
                    formats=profile.formats, budget_max=budget, radius_miles=radius_miles, place=place or "",
                    lat=lat, lon=lon, summary=quiz_summary(profile.wanted, profile.avoided, profile.formats, budget))


def save_profile(session: Session, *, principal: Principal, profile: Profile, radius_miles: float,
                 lat: float | None = None, lon: float | None = None, place: str = "") -> QuizProfile:
    user_id = _user(principal)
    if not 0 < radius_miles <= maps_service.MAX_RADIUS_MILES:
        raise ValidationFailed(f"The radius is 1 to {maps_service.MAX_RADIUS_MILES} miles.", field="radius_miles")
    row = session.exec(select(QuizProfile).where(QuizProfile.user_id == user_id)).first() or QuizProfile(user_id=user_id)
    row.wanted, row.avoided, row.experience = profile.wanted, profile.avoided, profile.experience
    row.formats, row.budget_max, row.radius_miles = profile.formats, profile.budget_max, radius_miles
    row.latitude, row.longitude, row.place = lat, lon, (place or "")[:200] or None
    session.add(row)
    session.flush()
    return row


def saved_profile(session: Session, *, principal: Principal) -> QuizRead | None:
    row = session.exec(select(QuizProfile).where(QuizProfile.user_id == _user(principal))).first()
    if row is None:
        return None
    profile = Profile(wanted=row.wanted, avoided=row.avoided, experience=row.experience, formats=row.formats,
                      budget_max=row.budget_max)
    return quiz_read(profile, radius_miles=row.radius_miles, place=row.place or "", lat=row.latitude,
                     lon=row.longitude)


# ---- candidates ------------------------------------------------------------------------------------------------
def cqi_badge(score: float | None) -> str | None:
    if score is None:
        return None
    word = "excellent" if score >= 80 else "good" if score >= 65 else "fair" if score >= 50 else "low"
    return f"CQI {score:.0f}/100 ({word}), from the lot's lab results"


def _candidates(session: Session, *conditions, order=(), origin: tuple[float, float] | None = None) -> list[Candidate]:
    from icc_app.exchange.models import Lot

    query = (select(MenuItem, Dispensary, Lot.cqi_score, ReviewSummary)
             .join(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id)
             .outerjoin(Lot, col(Lot.id) == MenuItem.lot_id)
             .outerjoin(ReviewSummary, sa.and_(ReviewSummary.target_type == "product",
                                               col(ReviewSummary.target_id) == MenuItem.id))
             .where(MenuItem.is_active == True, MenuItem.in_stock_qty > 0,  # noqa: E712
                    Dispensary.is_active == True, *conditions)  # noqa: E712
             .order_by(*order, col(MenuItem.id)).limit(MAX_CANDIDATES))
    found = []
    for item, place, cqi, summary in session.exec(query):
        distance = haversine_miles(place.latitude, place.longitude, *origin) if origin else None
        found.append(Candidate(
            item_id=str(item.id), name=item.name, category=item.category, strain_name=item.strain_name,
            in_stock_qty=item.in_stock_qty, is_active=item.is_active, price=item.price, thc_max=item.thc_max,
            thc_unit=item.thc_unit, terpenes=item.terpenes or [], dispensary_id=str(place.id),
            dispensary_name=place.dba or place.name, distance_miles=distance, cqi_badge=cqi_badge(cqi),
            review_count=summary.count if summary else 0, review_effects=summary.effects if summary else {}))
    return found


def candidates_near(session: Session, *, lat: float, lon: float, radius_miles: float) -> list[Candidate]:
    """In-stock, active items of active dispensaries within the radius (nearest stores first)."""
    geo, order = maps_service.within(session, lat, lon, radius_miles)
    return _candidates(session, *geo, order=order, origin=(lat, lon))


def candidates_at(session: Session, *, dispensary_id: uuid.UUID) -> list[Candidate]:
    return _candidates(session, MenuItem.dispensary_id == dispensary_id)


# ---- what a consumer liked -------------------------------------------------------------------------------------
LIKED_KINDS = (FeedbackKind.purchase, FeedbackKind.add_to_cart, FeedbackKind.favourite, FeedbackKind.review)


def liked_history(session: Session, user_id: uuid.UUID) -> tuple[list[str], np.ndarray | None, list[dict]]:
    """(strain keys oldest first, favourites' mean terpene vector, favourites' terpene lists) of a consumer: their
    favourites, purchases, add-to-carts and product reviews of 4 stars or more."""
    dated: list[tuple] = []
    favourites = list(session.exec(select(Favourite).where(Favourite.user_id == user_id)))
    dated += [(f.created_at, f.strain_key) for f in favourites]
    dated += [(f.created_at, f.strain_key) for f in session.exec(
        select(Feedback).where(Feedback.user_id == user_id, col(Feedback.kind).in_([k.value for k in LIKED_KINDS])))]
    reviewed = session.exec(select(Review.created_at, MenuItem.strain_name)
                            .join(MenuItem, col(MenuItem.id) == Review.target_id)
                            .where(Review.author_id == user_id, Review.target_type == "product", Review.rating >= 4))
    dated += [(when, strain_key(name)) for when, name in reviewed]
    history = [key for _, key in sorted(dated, key=lambda t: t[0]) if key]
    vectors = [terpene_vector(f.terpenes, strains.TERPENES) for f in favourites if f.terpenes]
    mean = np.mean(vectors, axis=0) if vectors else None
    return history, mean, [f.terpenes for f in favourites]


# ---- recommending ----------------------------------------------------------------------------------------------
def reads(ranked: list[Ranked], *, favourites: set[str] = frozenset()) -> list[RecommendationRead]:
    out = []
    for r in ranked:
        c = r.candidate
        price = money(c.price)
        out.append(RecommendationRead(
            menu_item_id=c.item_id, name=c.name, category=c.category, category_label=label(c.category),
            strain=c.strain_name or "", price_text=price.text() if price else "",
            thc=f"THC {c.thc_max:g}{c.thc_unit}" if c.thc_max is not None else "", dispensary_id=c.dispensary_id,
            dispensary_name=c.dispensary_name,
            distance_text=f"{c.distance_miles:.1f} mi" if c.distance_miles is not None else "",
            reasons=r.reasons, cqi_badge=c.cqi_badge or "", favourite=c.item_id in favourites))
    return out


def _decorate(session: Session, results: list[RecommendationRead]) -> None:
    """Store coordinates and product links (one query for the page's items)."""
    ids = [uuid.UUID(r.menu_item_id) for r in results]
    rows = {str(i.id): (i, d) for i, d in session.exec(
        select(MenuItem, Dispensary).join(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id)
        .where(col(MenuItem.id).in_(ids)))} if ids else {}
    for r in results:
        if r.menu_item_id in rows:
            item, place = rows[r.menu_item_id]
            r.lat, r.lon, r.href, r.brand = place.latitude, place.longitude, catalog.product_path(place, item), item.brand or ""


def recommend(session: Session, *, principal: Principal | None, profile: Profile, lat: float, lon: float,
              radius_miles: float, limit: int = 12, source: str = "find_my_product"
              ) -> tuple[uuid.UUID | None, list[RecommendationRead]]:
    """In-stock products within the radius for the quiz (and, when signed in, what the consumer liked), best first.
    A signed-in consumer's run is kept as history; returns (run id or None, results)."""
    if not 1 <= limit <= 50:
        raise ValidationFailed("Ask for 1 to 50 results.", field="limit")
    pool = candidates_near(session, lat=lat, lon=lon, radius_miles=radius_miles)
    user_id = principal.user_id if principal is not None else None
    history, favourite_terpenes, favourite_ids = ([], None, set())
    if user_id is not None:
        history, favourite_terpenes, _ = liked_history(session, user_id)
        favourite_ids = {str(f) for f in session.exec(select(Favourite.menu_item_id).where(
            Favourite.user_id == user_id)) if f}
    model = training.serving_model(session)
    book = strains.book(session)
    ranked = rank(pool, book=book, profile=profile, model=model.model if model else None, history=history,
                  favourite_terpenes=favourite_terpenes, limit=limit)
    results = reads(ranked, favourites=favourite_ids)
    _decorate(session, results)
    run_id = None
    if user_id is not None:
        run = RecommendationRun(user_id=user_id, source=source, request={
            "wanted": profile.wanted, "avoided": profile.avoided, "experience": profile.experience,
            "formats": profile.formats, "budget_max": str(profile.budget_max) if profile.budget_max else None,
            "radius_miles": radius_miles},
            results=[{"menu_item_id": r.menu_item_id, "name": r.name, "strain_key": strain_key(r.strain)}
                     for r in results], model_version=model.version if model else None)
        session.add(run)
        session.flush()
        run_id = run.id
    return run_id, results


# ---- favourites, feedback, history -----------------------------------------------------------------------------
def add_favourite(session: Session, *, principal: Principal, menu_item_id: uuid.UUID) -> Favourite:
    user_id = _user(principal)
    item = session.get(MenuItem, menu_item_id)
    if item is None or not item.is_active:
        raise NotFound("Product not found.")
    existing = session.exec(select(Favourite).where(Favourite.user_id == user_id,
                                                    Favourite.menu_item_id == menu_item_id)).first()
    if existing is not None:
        return existing  # idempotent: a double click saves once
    row = Favourite(user_id=user_id, menu_item_id=item.id, strain_key=strain_key(item.strain_name), name=item.name,
                    terpenes=item.terpenes or [])
    session.add(row)
    session.add(Feedback(user_id=user_id, menu_item_id=item.id, strain_key=row.strain_key,
                         kind=FeedbackKind.favourite))
    session.flush()
    return row


def remove_favourite(session: Session, *, principal: Principal, menu_item_id: uuid.UUID) -> bool:
    row = session.exec(select(Favourite).where(Favourite.user_id == _user(principal),
                                               Favourite.menu_item_id == menu_item_id)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def favourites(session: Session, *, principal: Principal) -> list[FavouriteRead]:
    rows = session.exec(select(Favourite, MenuItem, Dispensary)
                        .outerjoin(MenuItem, col(MenuItem.id) == Favourite.menu_item_id)
                        .outerjoin(Dispensary, col(Dispensary.id) == MenuItem.dispensary_id)
                        .where(Favourite.user_id == _user(principal)).order_by(col(Favourite.created_at).desc()))
    return [FavouriteRead(id=str(f.id), menu_item_id=str(f.menu_item_id or ""), name=f.name,
                          strain=item.strain_name or "" if item else "",
                          href=catalog.product_path(place, item) if item and place else "",
                          in_stock=bool(item and item.is_active and item.in_stock_qty > 0)) for f, item, place in rows]


def record_feedback(session: Session, *, principal: Principal, menu_item_id: uuid.UUID, kind: str,
                    run_id: uuid.UUID | None = None) -> Feedback:
    user_id = _user(principal)
    try:
        kind = FeedbackKind(kind)
    except ValueError:
        raise ValidationFailed(f"Feedback is one of {', '.join(k.value for k in FeedbackKind)}.", field="kind") from None
    item = session.get(MenuItem, menu_item_id)
    if item is None:
        raise NotFound("Product not found.")
    if run_id is not None:
        run = session.get(RecommendationRun, run_id)
        if run is None or run.user_id != user_id:
            raise NotFound("Recommendation not found.")
    row = Feedback(user_id=user_id, run_id=run_id, menu_item_id=item.id, strain_key=strain_key(item.strain_name),
                   kind=kind)
    session.add(row)
    session.flush()
    return row


def history(session: Session, *, principal: Principal, limit: int = 20) -> list[RunRead]:
    runs = session.exec(select(RecommendationRun).where(RecommendationRun.user_id == _user(principal))
                        .order_by(col(RecommendationRun.created_at).desc()).limit(limit))
    out = []
    for run in runs:
        q = run.request
        budget = q.get("budget_max") or ""
        out.append(RunRead(id=str(run.id), when=local_time(run.created_at),
                           summary=quiz_summary(q.get("wanted", []), q.get("avoided", []), q.get("formats", []),
                                                f"{Decimal(budget):.2f}" if budget else ""),
                           results=[r["name"] for r in run.results]))
    return out
