"""Dispensaries: loaded from the regulators' retail licensee lists, placed on the map (registry coordinates, else
the offline ZIP geocoder), and found by radius: PostGIS geography on PostgreSQL (ST_DWithin on a GiST index,
KNN order), a bounding box plus the great-circle function on SQLite; the same dispensaries either way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from icc_app.core.errors import ValidationFailed
from icc_app.core.geo import haversine_miles, within_radius
from icc_app.maps.importer import (  # noqa: F401 - the import's public names, used by the CLI and the seed
    REGISTRY_TRUST_MILES, DispensaryImport, import_dispensaries, slugify)
from icc_app.maps.models import Dispensary, DispensaryPhoto, MenuItem, ReviewSummary
from icc_app.maps.schemas import (DispensaryCard, directions_url, open_label, phone, reviews_line,
                                  services_line)

MAX_RADIUS_MILES = 500


SERVICES = ["pickup", "delivery", "medical", "adult_use"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# A store's hours are its local time; states that span two zones use the zone most of their people live in.
STATE_TIMEZONES = {
    "WA": "America/Los_Angeles", "OR": "America/Los_Angeles", "CA": "America/Los_Angeles", "NV": "America/Los_Angeles",
    "AZ": "America/Phoenix", "CO": "America/Denver", "NM": "America/Denver", "MT": "America/Denver",
    "UT": "America/Denver", "ID": "America/Boise", "AK": "America/Anchorage", "HI": "Pacific/Honolulu",
    "IL": "America/Chicago", "MN": "America/Chicago", "MO": "America/Chicago", "OK": "America/Chicago",
    "TX": "America/Chicago", "LA": "America/Chicago", "AR": "America/Chicago", "IA": "America/Chicago",
    "WI": "America/Chicago", "KS": "America/Chicago", "NE": "America/Chicago", "ND": "America/Chicago",
    "SD": "America/Chicago", "MS": "America/Chicago", "AL": "America/Chicago", "TN": "America/Chicago",
    "MI": "America/Detroit", "PR": "America/Puerto_Rico",
}


def timezone_of(state: str) -> ZoneInfo:
    return ZoneInfo(STATE_TIMEZONES.get((state or "").upper(), "America/New_York"))


def open_now(hours: dict, state: str, now: datetime | None = None) -> bool | None:
    """Open at this moment in the store's own time zone; None when it has not published its hours. A span that
    closes before it opens runs past midnight (yesterday's late hours count too)."""
    if not hours:
        return None
    local = (now or datetime.now(tz=ZoneInfo("UTC"))).astimezone(timezone_of(state))
    clock = local.strftime("%H:%M")
    today = hours.get(WEEKDAYS[local.weekday()])
    if today:
        start, end = today
        if (start <= clock < end) if start < end else (clock >= start):
            return True
    yesterday = hours.get(WEEKDAYS[(local.weekday() - 1) % 7])
    return bool(yesterday and yesterday[1] <= yesterday[0] and clock < yesterday[1])


@dataclass(frozen=True)
class Filters:
    """What a visitor narrows the search by."""

    open_now: bool = False
    services: tuple[str, ...] = ()
    category: str | None = None  # has an in-stock product of this category
    min_cqi: float | None = None  # has an in-stock product linked to an exchange lot scoring at least this

    def conditions(self) -> list:
        from icc_app.exchange.models import Lot

        found = []
        for service in self.services:
            if service not in SERVICES:
                raise ValidationFailed(f"Unknown service {service!r}: one of {', '.join(SERVICES)}.", field="services")
            # The vocabulary is fixed and quoted in the JSON text, so a substring match is exact on both databases.
            found.append(sa.cast(Dispensary.services, sa.String).like(f'%"{service}"%'))
        on_menu = [MenuItem.dispensary_id == Dispensary.id, MenuItem.is_active == True, MenuItem.in_stock_qty > 0]  # noqa: E712
        if self.category:
            found.append(sa.exists(select(MenuItem.id).where(*on_menu, MenuItem.category == self.category)))
        if self.min_cqi is not None:
            if not 0 <= self.min_cqi <= 100:
                raise ValidationFailed("The minimum CQI is 0 to 100.", field="min_cqi")
            found.append(sa.exists(select(MenuItem.id).join(Lot, col(Lot.id) == MenuItem.lot_id)
                                   .where(*on_menu, col(Lot.cqi_score) >= self.min_cqi)))
        return found


COUNT_CAP = 1000  # "1,000+ dispensaries": counting every store of a dense metro area exactly costs more than it says


@dataclass(frozen=True)
class NearResult:
    rows: list[tuple[Dispensary, float]]  # dispensary, miles
    total: int  # at most COUNT_CAP
    total_exact: bool = True


def within(session: Session, lat: float, lon: float, radius_miles: float) -> tuple[list, list]:
    """(conditions, order) selecting dispensaries within the radius, nearest first, on either database."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed("Latitude is -90..90 and longitude -180..180.", field="lat")
    if not 0 < radius_miles <= MAX_RADIUS_MILES:
        raise ValidationFailed(f"The radius is more than 0 and at most {MAX_RADIUS_MILES} miles.", field="radius_miles")
    conditions, order = within_radius(session.get_bind().dialect.name, col(Dispensary.latitude),
                                      col(Dispensary.longitude), lat, lon, radius_miles)
    return conditions, [*order, col(Dispensary.id)]


SORTS = {"distance": "Nearest first", "rating": "Best rated", "open": "Open now first"}


def _rating_of():
    return (sa.select(ReviewSummary.rating).where(ReviewSummary.target_type == "dispensary",
                                                  col(ReviewSummary.target_id) == Dispensary.id)
            .correlate(Dispensary).scalar_subquery())


def near(session: Session, *, lat: float, lon: float, radius_miles: float, limit: int = 25, offset: int = 0,
         filters: Filters | None = None, sort: str = "distance") -> NearResult:
    """Active dispensaries within the radius that pass the filters: nearest first, best rated first (unrated
    last, then nearest) or open ones first (then nearest)."""
    if sort not in SORTS:
        raise ValidationFailed(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
    if not (0 <= offset <= 10 * COUNT_CAP and 1 <= limit <= COUNT_CAP):
        raise ValidationFailed("That page is out of range.", field="page")
    filters = filters or Filters()
    geo, order = within(session, lat, lon, radius_miles)
    conditions = [Dispensary.is_active == True, *geo, *filters.conditions()]  # noqa: E712
    if sort == "rating":
        order = [_rating_of().desc().nulls_last(), *order]
    query = select(Dispensary).where(*conditions).order_by(*order)
    if filters.open_now or sort == "open":  # hours live in JSON in each store's zone: sort the nearest COUNT_CAP here
        everything = list(session.exec(query.limit(COUNT_CAP + 1)))
        if filters.open_now:
            everything = [d for d in everything if open_now(d.hours, d.state)]
        if sort == "open":
            rank = {True: 0, None: 1, False: 2}
            everything.sort(key=lambda d: rank[open_now(d.hours, d.state)])  # stable: nearest first within each
        total, found = len(everything), everything[offset:offset + limit]
    else:
        capped = select(Dispensary.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = session.exec(select(func.count()).select_from(capped)).one()
        found = session.exec(query.limit(limit).offset(offset)).all()
    rows = [(d, round(haversine_miles(d.latitude, d.longitude, lat, lon), 2)) for d in found]
    return NearResult(rows, min(total, COUNT_CAP), total <= COUNT_CAP)


def cards(session: Session, rows: list[tuple[Dispensary, float]]) -> list[DispensaryCard]:
    """The locator's cards of a page of results: rating, open or closed, the first photo, directions."""
    ids = [d.id for d, _ in rows]
    summaries = {s.target_id: s for s in session.exec(select(ReviewSummary).where(
        ReviewSummary.target_type == "dispensary", col(ReviewSummary.target_id).in_(ids)))} if ids else {}
    first_photo: dict = {}
    for photo in session.exec(select(DispensaryPhoto).where(col(DispensaryPhoto.dispensary_id).in_(ids))
                              .order_by(col(DispensaryPhoto.position), col(DispensaryPhoto.created_at))) if ids else []:
        first_photo.setdefault(photo.dispensary_id, photo.id)
    found = []
    for d, miles in rows:
        summary, is_open = summaries.get(d.id), open_now(d.hours, d.state)
        rated = summary is not None and summary.rating is not None
        found.append(DispensaryCard(
            id=str(d.id), name=d.dba or d.name, href=page_path(d), lat=d.latitude, lon=d.longitude,
            address=", ".join(p for p in (d.street, d.city, d.state) if p), miles=f"{miles:.1f} mi",
            open=open_label(is_open), is_open=bool(is_open), services=services_line(d.services),
            rating=f"{summary.rating:.1f} ★" if rated else "", reviews=reviews_line(summary.count) if rated else "",
            photo_url=f"/api/v1/dispensary-photos/{first_photo[d.id]}?thumbnail=true" if d.id in first_photo else "",
            phone=phone(d.phone), directions=directions_url(d.street, d.city, d.state, d.postal_code)))
    return found


def pages(total: int, limit: int) -> int:
    return max(1, math.ceil(total / limit))


def by_slug(session: Session, *, state: str, slug: str) -> Dispensary | None:
    return session.exec(select(Dispensary).where(Dispensary.state == (state or "").upper(), Dispensary.slug == slug,
                                                 Dispensary.is_active == True)).first()  # noqa: E712


def page_path(dispensary: Dispensary) -> str:
    """The clean, crawlable address of a dispensary page: /dispensaries/<state>/<city>/<slug>."""
    return f"/dispensaries/{dispensary.state.lower()}/{dispensary.city_slug or 'city'}/{dispensary.slug}"
