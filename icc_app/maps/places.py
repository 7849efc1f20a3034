"""Cities, neighbourhoods and ZIP codes from the bundled ZIP data (the `zipcodes` package), offline.

A city is the centre of its street-delivery ZIP codes; a neighbourhood is a name the postal data lists for a ZIP
("Capitol Hill" and "Broadway" for 98102, "Ballard" for 98107). The same data tells how large a ZIP is (how far
its neighbours are), which is how the catalog import judges whether a registry point belongs to its own ZIP.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

from icc_app.core.geo import haversine_miles

STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI",
    "wyoming": "WY", "puerto rico": "PR",
}
_CODES = set(STATE_NAMES.values())


@dataclass(frozen=True)
class Place:
    name: str  # "Seattle, WA" / "Capitol Hill, Seattle, WA"
    state: str
    latitude: float
    longitude: float
    kind: str  # city / neighbourhood


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", (text or "").lower().replace("saint ", "st ")).split())


@lru_cache(maxsize=1)
def _index() -> tuple[dict, dict, dict]:
    """(city key -> state -> points, neighbourhood key -> state -> [(point, city)], state -> street ZIP points)."""
    cities: dict[str, dict[str, list]] = {}
    hoods: dict[str, dict[str, list]] = {}
    by_state: dict[str, list] = {}
    for z in zipcodes.list_all():
        if z["zip_code_type"] != "STANDARD" or not z.get("lat"):
            continue
        point, state = (float(z["lat"]), float(z["long"])), z["state"]
        by_state.setdefault(state, []).append(point)
        for name in [z["city"], *z.get("acceptable_cities", [])]:
            cities.setdefault(_key(name), {}).setdefault(state, []).append(point)
        for name in z.get("unacceptable_cities", []):
            hoods.setdefault(_key(name), {}).setdefault(state, []).append((point, z["city"]))
    return cities, hoods, by_state


def _split_state(text: str) -> tuple[str, str | None]:
    """("seattle", "WA") from "Seattle, WA" / "Seattle Washington"; the state is None when none is named."""
    words = _key(text).split()
    for size in (3, 2, 1):
        if len(words) > size:
            tail = " ".join(words[-size:])
            if tail in STATE_NAMES:
                return " ".join(words[:-size]), STATE_NAMES[tail]
            if size == 1 and tail.upper() in _CODES:
                return " ".join(words[:-1]), tail.upper()
    return " ".join(words), None


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The median point: one far-flung ZIP (a rural route of the same post office) does not drag the centre."""
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def find_place(query: str) -> Place | None:
    """A city or a neighbourhood named in free text: "Seattle, WA", "seattle washington", "Capitol Hill, Seattle",
    "Ballard". Without a state the place with the most ZIP codes wins (Portland, OR over Portland, ME)."""
    if re.search(r"\d", query or ""):
        return None
    cities, hoods, _ = _index()
    rest, state = _split_state((query or "").strip().rstrip(","))
    if state is None and "," in (query or "") and _key(query.rsplit(",", 1)[1]).upper() in _CODES:
        rest, state = _key(query.rsplit(",", 1)[0]), _key(query.rsplit(",", 1)[1]).upper()  # "Seattle, WA"
    original = [p for p in (_key(p) for p in (query or "").split(",")) if p]
    name, city_hint = rest, None
    if len(original) >= 2 and original[1] != (state or "").lower() and original[1] not in STATE_NAMES:
        name, city_hint = original[0], _split_state(original[1])[0] or None  # "Capitol Hill, Seattle[, WA]"
    if not name:
        return None
    if city_hint is None and name in cities:
        states = cities[name]
        chosen = state if state in states else (None if state else max(states, key=lambda s: len(states[s])))
        if chosen:
            lat, lon = _centre(states[chosen])
            return Place(f"{name.title()}, {chosen}", chosen, lat, lon, "city")
    if name in hoods:
        options = [(s, point, city) for s, rows in hoods[name].items() for point, city in rows
                   if (state is None or s == state) and (city_hint is None or _key(city) == city_hint)]
        if options:
            s, _, city = options[0]
            lat, lon = _centre([point for s2, point, c in options if s2 == s and c == city])
            return Place(f"{name.title()}, {city.title()}, {s}", s, lat, lon, "neighbourhood")
    if city_hint is not None and city_hint in cities:  # "Downtown, Seattle": the neighbourhood is unknown
        return find_place(f"{city_hint} {state or ''}")
    return None


def city_zip_points(city: str, state: str) -> list[tuple[float, float]]:
    """The centres of a city's street-delivery ZIP codes."""
    return _index()[0].get(_key(city), {}).get(state, [])


def zip_spacing_miles(lat: float, lon: float, state: str, *, neighbours: int = 3) -> float:
    """How far the `neighbours`-th nearest other ZIP centre of the state is: small in a city (a ZIP is a few
    miles across), large in the country. A registry point much farther than this from its ZIP is suspect."""
    _, _, by_state = _index()
    distances = sorted(d for d in (haversine_miles(lat, lon, p[0], p[1]) for p in by_state.get(state, []))
                       if d > 0.05)
    return distances[min(neighbours, len(distances)) - 1] if distances else math.inf
