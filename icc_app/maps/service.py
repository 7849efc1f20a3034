"""Dispensaries: loaded from the regulators' retail licensee lists, placed on the map (registry coordinates, else
the offline ZIP geocoder), and found by radius: PostGIS geography on PostgreSQL (ST_DWithin on a GiST index,
KNN order), a bounding box plus the great-circle function on SQLite; the same dispensaries either way."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from icc_app.core import audit
from icc_app.core.errors import ValidationFailed
from icc_app.core.geo import bounding_box, haversine_miles
from icc_app.identity.licenses import US_STATES, normalize_number, parse_float, pick_column
from icc_app.maps.geocoding import Geocoder, geocode, zip_centroid
from icc_app.maps.models import Dispensary, MenuItem

RETAIL = re.compile(r"retail|store|dispensar|establishment", re.I)
NOT_RETAIL = re.compile(r"cultivat|laborator|testing|manufactur|transport|courier|deliver|research|processor", re.I)
_INACTIVE = re.compile(r"\b(not operating|inactive|expired|revoked|cancel|surrender|suspend|closed|denied)", re.I)
PG_DISPENSARY_GEOGRAPHY = "geography(ST_SetSRID(ST_MakePoint(dispensaries.longitude, dispensaries.latitude), 4326))"
METERS_PER_MILE = 1609.344
MAX_RADIUS_MILES = 500


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:120] or "dispensary"


@dataclass
class DispensaryImport:
    state: str
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped_not_retail: int = 0
    merged: int = 0  # further rows of a license already read (adult-use and medical rows of one store)
    not_placed: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    relocated: list[tuple[int, str]] = field(default_factory=list)  # registry point far from its own ZIP: by address

    def summary(self) -> str:
        return (f"{self.state}: {self.read} rows, {self.created} dispensaries added, {self.updated} updated, "
                f"{self.merged} merged, {self.skipped_not_retail} not retail, "
                f"{len(self.not_placed)} could not be placed, "
                f"{len(self.relocated)} placed by address (registry point far from their ZIP)")


REGISTRY_TRUST_MILES = 15  # a registry point farther than this from its own ZIP code belongs to another address


def _in_state_box(lat: float, lon: float) -> bool:
    return 18 <= lat <= 72 and -180 <= lon <= -64  # the United States, territories aside


def import_dispensaries(session: Session, data: bytes | str, *, state: str, geocoder: Geocoder | None = None
                        ) -> DispensaryImport:
    state = (state or "").strip().upper()
    if state not in US_STATES:
        raise ValidationFailed(f"Unknown state {state!r}: use the two-letter code.", field="state")
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    report = DispensaryImport(state=state)
    existing = {d.license_number: d for d in session.exec(select(Dispensary).where(Dispensary.state == state))}
    seen: set[str] = set()
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        report.read += 1
        kind = " ".join(filter(None, (pick_column(row, "license_type"), row.get("license_designation") or "")))
        if not RETAIL.search(kind) or (NOT_RETAIL.search(kind) and not re.search(r"retail", kind, re.I)):
            report.skipped_not_retail += 1
            continue
        if _INACTIVE.search(pick_column(row, "status")):
            report.skipped_not_retail += 1
            continue
        name = pick_column(row, "dba") or pick_column(row, "legal_name")
        # Montana publishes no license numbers: the regulator's row id stands in for one.
        number = normalize_number(pick_column(row, "license_number")) or (f"ROW-{row['id']}" if row.get("id") else "")
        if not name or not number:
            report.not_placed.append((line, "no name or license number"))
            continue
        if number in seen:
            report.merged += 1
            continue
        seen.add(number)
        street, city = pick_column(row, "street"), pick_column(row, "city").title()
        postal = pick_column(row, "postal_code").split(".")[0][:10]
        if len(postal) == 9 and postal.isdigit():  # ZIP+4 printed without its dash
            postal = f"{postal[:5]}-{postal[5:]}"
        elif postal.isdigit() and 3 <= len(postal) < 5:  # New England ZIPs read as numbers lose their leading 0
            postal = postal.zfill(5)
        lat, lon = parse_float(pick_column(row, "latitude"), -90, 90), parse_float(pick_column(row, "longitude"), -180, 180)
        source, confidence = "registry", 0.6
        if lat is not None and lon is not None and _in_state_box(lat, lon):
            # Some lists carry points that belong to other rows (a Tacoma store drawn in Seattle): check them
            # against the row's own ZIP code (when that ZIP is in the state: a wrong ZIP proves nothing) and place
            # those by address instead.
            own_zip = zip_centroid(postal)
            off = own_zip and own_zip[2] == state and haversine_miles(lat, lon, own_zip[0], own_zip[1])
            if off and off > REGISTRY_TRUST_MILES:
                report.relocated.append((line, f"registry point {off:.0f} mi from ZIP {postal}"))
                lat = lon = None
        if lat is None or lon is None or not _in_state_box(lat, lon):
            point = geocode(session, f"{street} {city} {state} {postal}", geocoder=geocoder)
            if point is None:
                report.not_placed.append((line, f"no coordinates and the address could not be geocoded ({city} {postal})"))
                continue
            lat, lon, source, confidence = point.latitude, point.longitude, point.source, point.confidence
        values = dict(name=name[:300], dba=pick_column(row, "dba")[:300] or None, street=street[:300] or None,
                      city=city[:120] or None, postal_code=postal or None, latitude=lat, longitude=lon, geo_source=source,
                      geo_confidence=confidence, phone=pick_column(row, "phone")[:40] or None,
                      slug=f"{slugify(name)}-{slugify(number)[-8:]}", city_slug=slugify(city))
        dispensary = existing.get(number)
        if dispensary is None:
            dispensary = Dispensary(state=state, license_number=number, **values)
            report.created += 1
        else:
            for key, value in values.items():
                setattr(dispensary, key, value)
            report.updated += 1
        session.add(dispensary)
    session.flush()
    audit.record(session, action="maps.dispensaries.imported", object_type="dispensaries", object_id=state,
                 after={"read": report.read, "created": report.created, "updated": report.updated,
                        "not_placed": len(report.not_placed), "relocated": len(report.relocated)})
    return report


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
    if session.get_bind().dialect.name == "postgresql":
        point = sa.text("geography(ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326))").bindparams(
            near_lon=lon, near_lat=lat)
        geography = sa.literal_column(PG_DISPENSARY_GEOGRAPHY)
        return ([func.ST_DWithin(geography, point, radius_miles * METERS_PER_MILE, False)],
                [geography.op("<->")(point)])
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_miles)
    distance = func.icc_distance_miles(Dispensary.latitude, Dispensary.longitude, lat, lon)
    return ([col(Dispensary.latitude).between(min_lat, max_lat), col(Dispensary.longitude).between(min_lon, max_lon),
             distance <= radius_miles], [distance, col(Dispensary.id)])


def near(session: Session, *, lat: float, lon: float, radius_miles: float, limit: int = 25, offset: int = 0,
         filters: Filters | None = None) -> NearResult:
    """Active dispensaries within the radius that pass the filters, nearest first."""
    filters = filters or Filters()
    geo, order = within(session, lat, lon, radius_miles)
    conditions = [Dispensary.is_active == True, *geo, *filters.conditions()]  # noqa: E712
    query = select(Dispensary).where(*conditions).order_by(*order)
    if filters.open_now:  # hours live in JSON in each store's zone: filter the nearest COUNT_CAP here
        everything = [d for d in session.exec(query.limit(COUNT_CAP + 1)) if open_now(d.hours, d.state)]
        total, found = len(everything), everything[offset:offset + limit]
    else:
        capped = select(Dispensary.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = session.exec(select(func.count()).select_from(capped)).one()
        found = session.exec(query.limit(limit).offset(offset)).all()
    rows = [(d, round(haversine_miles(d.latitude, d.longitude, lat, lon), 2)) for d in found]
    return NearResult(rows, min(total, COUNT_CAP), total <= COUNT_CAP)


def pages(total: int, limit: int) -> int:
    return max(1, math.ceil(total / limit))


def by_slug(session: Session, *, state: str, slug: str) -> Dispensary | None:
    return session.exec(select(Dispensary).where(Dispensary.state == (state or "").upper(), Dispensary.slug == slug,
                                                 Dispensary.is_active == True)).first()  # noqa: E712


def page_path(dispensary: Dispensary) -> str:
    """The clean, crawlable address of a dispensary page: /dispensaries/<state>/<city>/<slug>."""
    return f"/dispensaries/{dispensary.state.lower()}/{dispensary.city_slug or 'city'}/{dispensary.slug}"
