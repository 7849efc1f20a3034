"""Dispensaries from a regulator's licensee list: which rows are open retail stores, their text cleaned (registries
shout in capitals and put placeholders such as "RETAIL TITLE CERTIFICATE" in the street column), and every point
audited against the row's own ZIP code before it goes on the map.

Why the audit: the WA list draws some stores at another row's point (Always Greener Downtown in Redmond sits at a
Green Lake point, 10 miles away, in its adult-use row and at the right place in its medical row). A point is kept
when it lies within a distance that fits its ZIP (a city ZIP is a few miles across, a rural one twenty); otherwise
another row of the same license with a fitting point is used, else the address is geocoded. The report says which
rows moved and why.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from sqlmodel import Session, select

from icc_app.core import audit
from icc_app.core.errors import ValidationFailed
from icc_app.core.geo import haversine_miles
from icc_app.identity.licenses import US_STATES, normalize_number, parse_float, pick_column
from icc_app.maps.geocoding import Geocoder, geocode, zip_centroid
from icc_app.maps.models import Dispensary
from icc_app.maps.places import city_zip_points, zip_spacing_miles

RETAIL = re.compile(r"retail|store|dispensar|establishment", re.I)
NOT_RETAIL = re.compile(r"cultivat|laborator|testing|manufactur|transport|courier|deliver|research|processor", re.I)
INACTIVE = re.compile(r"\b(not operating|inactive|expired|revoked|cancel|surrender|suspend|closed|denied)", re.I)
# A title certificate keeps a license alive without a store: the registry prints a placeholder for the premises.
NO_STORE = re.compile(r"title certificate", re.I)
PLACEHOLDER_STREET = re.compile(r"title certificate|^(n/?a|none|unknown|tbd|pending)$", re.I)
NAME_NOTE = re.compile(r"\s*\((?:title owner only|[^)]{0,30}\bonly)\)\s*", re.I)
KEEP_UPPER = {"N", "S", "E", "W", "NE", "NW", "SE", "SW", "PO", "US", "SR", "II", "III", "LLC"}

REGISTRY_TRUST_MILES = 15  # never trust a point farther than this from its ZIP, however rural
MIN_TRUST_MILES = 2.5  # nor distrust one closer than this, however dense the city


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:120] or "dispensary"


def _tidy(text: str) -> str:
    """Registry capitals to reading case: "15937 REDMOND WAY STE B" -> "15937 Redmond Way Ste B", "112TH" ->
    "112th", "TODAY'S" -> "Today's"; directions (NE), "LLC" and words with digits (B1) stay as printed."""
    def word(w: str) -> str:
        if w.upper() in KEEP_UPPER:
            return w.upper()
        if re.fullmatch(r"\d+(st|nd|rd|th)", w, re.I):
            return w.lower()
        return w if re.search(r"\d", w) else w[:1].upper() + w[1:].lower()
    return " ".join(word(w) for w in text.split(" "))


def clean_street(text: str) -> str | None:
    """A placeholder ("RETAIL TITLE CERTIFICATE") -> None; capitals -> reading case; mixed case is kept."""
    text = " ".join((text or "").split())
    if not text or PLACEHOLDER_STREET.search(text):
        return None
    return _tidy(text) if text == text.upper() else text


def clean_name(text: str) -> str:
    """Drops registry notes such as "(Title Owner Only)"; capitals and "Today'S ... Llc" to reading case."""
    text = " ".join(NAME_NOTE.sub(" ", text or "").split())
    if text == text.upper() and re.search(r"[A-Z]{4}", text):
        text = _tidy(text)
    text = re.sub(r"\b(\d+)(ST|ND|RD|TH|St|Nd|Rd|Th)\b", lambda m: m[1] + m[2].lower(), text)
    return re.sub(r"\bLlc\b", "LLC", re.sub(r"(\w)'S\b", r"\1's", text))


def trusted_miles(lat: float, lon: float, state: str) -> float:
    """How far from its ZIP's centre a point may lie: 1.5x the spacing of the ZIP centres around it."""
    return min(REGISTRY_TRUST_MILES, max(MIN_TRUST_MILES, 1.5 * zip_spacing_miles(lat, lon, state)))


@dataclass
class DispensaryImport:
    state: str
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped_not_retail: int = 0
    merged: int = 0  # further rows of a license already read (adult-use and medical rows of one store)
    not_placed: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    no_store: list[tuple[int, str]] = field(default_factory=list)  # title certificates: a license, no premises
    relocated: list[tuple[int, str]] = field(default_factory=list)  # (line, what moved and why)
    cleaned: int = 0  # rows whose street or name text was cleaned

    def summary(self) -> str:
        return (f"{self.state}: {self.read} rows, {self.created} dispensaries added, {self.updated} updated, "
                f"{self.merged} merged, {self.skipped_not_retail} not retail or not active, "
                f"{len(self.no_store)} title certificates without a store, {len(self.not_placed)} could not be placed, "
                f"{len(self.relocated)} moved (registry point does not fit its ZIP), {self.cleaned} addresses cleaned")


@dataclass
class _Row:
    line: int
    number: str
    name: str
    dba: str
    street: str
    city: str
    postal: str
    phone: str
    points: list[tuple[int, float, float]]  # (line, lat, lon) of every row of this license


def _postal(text: str) -> str:
    postal = text.split(".")[0][:10]
    if len(postal) == 9 and postal.isdigit():  # ZIP+4 printed without its dash
        return f"{postal[:5]}-{postal[5:]}"
    if postal.isdigit() and 3 <= len(postal) < 5:  # New England ZIPs read as numbers lose their leading 0
        return postal.zfill(5)
    return postal


def _in_country(lat: float | None, lon: float | None) -> bool:
    return lat is not None and lon is not None and 18 <= lat <= 72 and -180 <= lon <= -64


def _read(text: str, report: DispensaryImport) -> list[_Row]:
    """The retail stores of the list, one per license, with the points of all of its rows."""
    stores: dict[str, _Row] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        report.read += 1
        kind = " ".join(filter(None, (pick_column(row, "license_type"), row.get("license_designation") or "")))
        status = pick_column(row, "status")
        if not RETAIL.search(kind) or (NOT_RETAIL.search(kind) and not re.search(r"retail", kind, re.I)) \
                or INACTIVE.search(status):
            report.skipped_not_retail += 1
            continue
        raw_name = pick_column(row, "dba") or pick_column(row, "legal_name")
        # Montana publishes no license numbers: the regulator's row id stands in for one.
        number = normalize_number(pick_column(row, "license_number")) or (f"ROW-{row['id']}" if row.get("id") else "")
        if not raw_name or not number:
            report.not_placed.append((line, "no name or license number"))
            continue
        lat = parse_float(pick_column(row, "latitude"), -90, 90)
        lon = parse_float(pick_column(row, "longitude"), -180, 180)
        if number in stores:
            report.merged += 1
            if stores[number] is not None and _in_country(lat, lon):
                stores[number].points.append((line, lat, lon))
            continue
        raw_street = pick_column(row, "street")
        if NO_STORE.search(status) or PLACEHOLDER_STREET.search(raw_street):
            report.no_store.append((line, f"{clean_name(raw_name)}: {status or raw_street}"))
            stores[number] = None  # its other rows are merged into nothing
            continue
        name, street = clean_name(raw_name), clean_street(raw_street)
        report.cleaned += (name != raw_name) or (street != raw_street)
        stores[number] = _Row(line, number, name, clean_name(pick_column(row, "dba")), street or "",
                              pick_column(row, "city").title(), _postal(pick_column(row, "postal_code")),
                              re.sub(r"[^\d+]", "", pick_column(row, "phone")),
                              [(line, lat, lon)] if _in_country(lat, lon) else [])
    return [store for store in stores.values() if store is not None]


def _in_own_city(lat: float, lon: float, city: str, state: str) -> bool:
    """Near one of the ZIP centres of the row's own city (a store by the town centre whose ZIP is mostly rural)."""
    return any(haversine_miles(lat, lon, z[0], z[1]) <= trusted_miles(z[0], z[1], state)
               for z in city_zip_points(city, state))


def _place(session: Session, store: _Row, state: str, report: DispensaryImport, geocoder: Geocoder | None
           ) -> tuple[float, float, str, float] | None:
    """(lat, lon, source, confidence) of a store: the first registry point that fits its ZIP, else its address."""
    own = zip_centroid(store.postal)
    if own is None or own[2] != state:  # no ZIP of this state to judge by: a wrong ZIP proves nothing
        if store.points:
            return store.points[0][1], store.points[0][2], "registry", 0.6
    else:
        limit = trusted_miles(own[0], own[1], state)
        offsets = [(line, lat, lon, haversine_miles(lat, lon, own[0], own[1])) for line, lat, lon in store.points]
        fitting = [o for o in offsets if o[3] <= limit or _in_own_city(o[1], o[2], store.city, state)]
        if fitting and fitting[0] is offsets[0]:
            return fitting[0][1], fitting[0][2], "registry", 0.6
        if offsets:
            first = offsets[0]
            why = (f"{store.name}: registry point {first[3]:.1f} mi from ZIP {store.postal} (more than the "
                   f"{limit:.1f} mi that fit that ZIP); ")
            if fitting:
                report.relocated.append((store.line, why + f"used the point of line {fitting[0][0]}, "
                                                           f"{fitting[0][3]:.1f} mi from it"))
                return fitting[0][1], fitting[0][2], "registry", 0.6
            report.relocated.append((store.line, why + "placed by its address"))
    point = geocode(session, f"{store.street} {store.city} {state} {store.postal}", geocoder=geocoder)
    if point is None:
        report.not_placed.append((store.line, f"no coordinates and the address could not be geocoded "
                                              f"({store.city} {store.postal})"))
        return None
    return point.latitude, point.longitude, point.source, point.confidence


def import_dispensaries(session: Session, data: bytes | str, *, state: str, geocoder: Geocoder | None = None
                        ) -> DispensaryImport:
    state = (state or "").strip().upper()
    if state not in US_STATES:
        raise ValidationFailed(f"Unknown state {state!r}: use the two-letter code.", field="state")
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    report = DispensaryImport(state=state)
    existing = {d.license_number: d for d in session.exec(select(Dispensary).where(Dispensary.state == state))}
    for store in _read(text, report):
        placed = _place(session, store, state, report, geocoder)
        if placed is None:
            continue
        lat, lon, source, confidence = placed
        values = dict(name=store.name[:300], dba=store.dba[:300] or None, street=store.street[:300] or None,
                      city=store.city[:120] or None, postal_code=store.postal or None, latitude=lat, longitude=lon,
                      geo_source=source, geo_confidence=confidence, phone=store.phone[:40] or None,
                      slug=f"{slugify(store.name)}-{slugify(store.number)[-8:]}", city_slug=slugify(store.city))
        known = store.number in existing
        dispensary = existing[store.number] if known else Dispensary(state=state, license_number=store.number)
        dispensary.sqlmodel_update(values)
        report.updated, report.created = report.updated + known, report.created + (not known)
        session.add(dispensary)
    session.flush()
    audit.record(session, action="maps.dispensaries.imported", object_type="dispensaries", object_id=state,
                 after={"read": report.read, "created": report.created, "updated": report.updated,
                        "not_placed": len(report.not_placed), "relocated": len(report.relocated),
                        "no_store": len(report.no_store), "cleaned": report.cleaned})
    return report
