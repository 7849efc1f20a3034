"""Geocoding behind a small provider interface.

- `OfflineZipGeocoder` (the default; no network): US ZIP codes from the `zipcodes` package's bundled data, at the
  ZIP's centroid (confidence 0.3).
- Cities and neighbourhoods ("Seattle, WA", "Capitol Hill, Seattle") from the same bundled data (maps/places.py),
  whichever provider is configured: a place name has no street address to send to one (confidence 0.2).
- `CensusGeocoder`: the US Census geocoder's one-line-address API (or any server speaking it), used when
  GEOCODER_URL is configured; retried with backoff; rooftop-ish confidence 0.9 for a match.
Results are cached by the hash of the normalized query (`geocode_cache`), misses included.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Protocol

import httpx
import zipcodes
from sqlmodel import Session, select

from icc_app.maps.models import GeocodeCache
from icc_app.maps.places import find_place

ZIP_RE = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    confidence: float
    source: str
    label: str = ""  # what was found, in words ("Seattle, WA"), when the query named a place


class Geocoder(Protocol):
    name: str

    def geocode(self, query: str) -> GeoPoint | None: ...


class OfflineZipGeocoder:
    name = "zip-centroid"

    def geocode(self, query: str) -> GeoPoint | None:
        found = zip_centroid(query)
        return GeoPoint(found[0], found[1], 0.3, self.name) if found else None


def zip_centroid(postal: str) -> tuple[float, float, str] | None:
    """(lat, lon, state) of a US ZIP code from the bundled data (the last ZIP-like number of the text: a street
    number comes first); None when it is not a known ZIP."""
    candidates = ZIP_RE.findall(postal or "")
    try:
        found = zipcodes.matching(candidates[-1]) if candidates else []
    except (ValueError, TypeError):
        return None
    if not found or not found[0].get("lat"):
        return None
    return float(found[0]["lat"]), float(found[0]["long"]), found[0].get("state", "")


class CensusGeocoder:
    """GET {base}/geocoder/locations/onelineaddress?address=...&benchmark=Public_AR_Current&format=json"""

    name = "census"

    def __init__(self, base_url: str, *, attempts: int = 3, backoff: float = 0.5, timeout: float = 10):
        self.base_url, self.attempts, self.backoff, self.timeout = base_url.rstrip("/"), attempts, backoff, timeout

    def geocode(self, query: str) -> GeoPoint | None:
        params = {"address": query, "benchmark": "Public_AR_Current", "format": "json"}
        for attempt in range(self.attempts):
            try:
                response = httpx.get(f"{self.base_url}/geocoder/locations/onelineaddress", params=params,
                                     timeout=self.timeout)
                if response.status_code >= 500:
                    raise httpx.HTTPStatusError("server error", request=response.request, response=response)
                matches = response.json().get("result", {}).get("addressMatches", [])
                if not matches:
                    return None
                coordinates = matches[0]["coordinates"]
                return GeoPoint(float(coordinates["y"]), float(coordinates["x"]), 0.9, self.name)
            except (httpx.HTTPError, ValueError, KeyError):
                if attempt == self.attempts - 1:
                    return None
                time.sleep(self.backoff * 2 ** attempt)
        return None


def normalize(query: str) -> str:
    return " ".join((query or "").upper().replace(",", " ").split())


def default_geocoder() -> Geocoder:
    from icc_app.settings import get_settings

    url = get_settings().geocoder_url
    return CensusGeocoder(url) if url else OfflineZipGeocoder()


def geocode(session: Session, query: str, *, geocoder: Geocoder | None = None) -> GeoPoint | None:
    """Cached geocoding: a query (normalized) is looked up once per provider."""
    geocoder = geocoder or default_geocoder()
    text = normalize(query)
    if not text:
        return None
    place = find_place(query)
    if place is not None:
        return GeoPoint(place.latitude, place.longitude, 0.2, f"place-{place.kind}", place.name)
    key = hashlib.sha256(f"{geocoder.name}|{text}".encode()).hexdigest()
    cached = session.exec(select(GeocodeCache).where(GeocodeCache.address_hash == key)).first()
    if cached is not None:
        return None if cached.latitude is None else GeoPoint(cached.latitude, cached.longitude, cached.confidence,
                                                             cached.provider)
    point = geocoder.geocode(text)
    session.add(GeocodeCache(address_hash=key, query=text[:500], latitude=point.latitude if point else None,
                             longitude=point.longitude if point else None, confidence=point.confidence if point else 0,
                             provider=geocoder.name))
    session.flush()
    return point
