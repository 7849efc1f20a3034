"""Public dispensary search (no sign-in): by coordinates, by address or by ZIP (geocoded server-side and cached),
nearest first, paginated."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.maps import service
from icc_app.maps.geocoding import geocode

router = APIRouter(tags=["maps"])


class DispensaryOut(BaseModel):
    id: uuid.UUID
    name: str
    license_number: str
    state: str
    address: str
    lat: float
    lon: float
    distance_miles: float
    open_now: bool | None  # None: the dispensary has not published its hours


class DispensaryPage(BaseModel):
    origin: dict
    total: int
    page: int
    pages: int
    dispensaries: list[DispensaryOut]


def _open_now(hours: dict) -> bool | None:
    if not hours:
        return None
    now = datetime.now()
    span = hours.get(now.strftime("%A").lower())
    if not span:
        return False
    return span[0] <= now.strftime("%H:%M") < span[1]


@router.get("/dispensaries", response_model=DispensaryPage)
def search_dispensaries(
    lat: float | None = Query(None, ge=-90, le=90), lon: float | None = Query(None, ge=-180, le=180),
    address: str | None = Query(None, max_length=300), zip: str | None = Query(None, pattern=r"^\d{5}$"),
    radius_miles: float = Query(25, gt=0, le=service.MAX_RADIUS_MILES), page: int = Query(1, ge=1),
    per_page: int = Query(25, ge=1, le=100),
) -> DispensaryPage:
    """Dispensaries within `radius_miles` of (lat, lon), of an address or of a ZIP code; nearest first."""
    with unit_of_work() as session:
        if lat is None or lon is None:
            if lat is not None or lon is not None:
                raise ValidationFailed("Give both lat and lon, or an address, or a zip.", field="lat")
            query = zip or address
            if not query:
                raise ValidationFailed("Give lat and lon, an address, or a zip.", field="lat")
            point = geocode(session, query)
            if point is None:
                raise ValidationFailed(f"We could not find {query!r}: try a ZIP code.", field="zip" if zip else "address")
            lat, lon, origin = point.latitude, point.longitude, {"query": query, "confidence": point.confidence}
        else:
            origin = {"query": None, "confidence": 1.0}
        result = service.near(session, lat=lat, lon=lon, radius_miles=radius_miles, limit=per_page,
                              offset=(page - 1) * per_page)
        rows = [DispensaryOut(id=d.id, name=d.dba or d.name, license_number=d.license_number, state=d.state,
                              address=", ".join(p for p in (d.street, d.city, d.state, d.postal_code) if p),
                              lat=d.latitude, lon=d.longitude, distance_miles=miles, open_now=_open_now(d.hours))
                for d, miles in result.rows]
    return DispensaryPage(origin={**origin, "lat": lat, "lon": lon}, total=result.total, page=page,
                          pages=service.pages(result.total, per_page), dispensaries=rows)


class MenuItemOut(BaseModel):
    id: uuid.UUID
    name: str
    brand: str | None
    category: str
    strain_name: str | None
    strain_type: str | None
    thc: str | None
    cbd: str | None
    price: float | None
    variants: list[dict]
    in_stock_qty: int
    source: str


class MenuOut(BaseModel):
    dispensary_id: uuid.UUID
    name: str
    categories: dict[str, list[MenuItemOut]]


def _range(low: float | None, high: float | None, unit: str) -> str | None:
    if low is None:
        return None
    return f"{low:g}{unit}" if high in (None, low) else f"{low:g}-{high:g}{unit}"


@router.get("/dispensaries/{dispensary_id}/menu", response_model=MenuOut)
def dispensary_menu(dispensary_id: uuid.UUID) -> MenuOut:
    """The live menu: items in stock, grouped by category."""
    from icc_app.maps.menus import public_menu

    with unit_of_work() as session:
        dispensary, items = public_menu(session, dispensary_id)
        categories: dict[str, list[MenuItemOut]] = {}
        for item in items:
            categories.setdefault(item.category, []).append(MenuItemOut(
                id=item.id, name=item.name, brand=item.brand, category=item.category, strain_name=item.strain_name,
                strain_type=item.strain_type, thc=_range(item.thc_min, item.thc_max, item.thc_unit),
                cbd=_range(item.cbd_min, item.cbd_max, item.cbd_unit), price=item.price, variants=item.variants,
                in_stock_qty=item.in_stock_qty, source=item.source))
        return MenuOut(dispensary_id=dispensary.id, name=dispensary.dba or dispensary.name, categories=categories)
