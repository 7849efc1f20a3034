"""Public dispensary search (no sign-in): by coordinates, by address or by ZIP (geocoded server-side and cached),
nearest first, paginated."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed, error_responses
from icc_app.core.openapi import IMAGE
from icc_app.core.validation import PageNumber, SafeText, SafeTextList
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
    total: int  # capped at 1000 in dense areas: see total_exact
    total_exact: bool
    page: int
    pages: int
    dispensaries: list[DispensaryOut]


@router.get("/dispensaries", response_model=DispensaryPage, responses=error_responses(422))
def search_dispensaries(
    lat: float | None = Query(None, ge=-90, le=90), lon: float | None = Query(None, ge=-180, le=180),
    address: SafeText(300) | None = None, zip: str | None = Query(None, pattern=r"^\d{5}$"),
    radius_miles: float = Query(25, gt=0, le=service.MAX_RADIUS_MILES), page: PageNumber = 1,
    per_page: int = Query(25, ge=1, le=100),
    open_now: bool = Query(False, description="Only stores open at this moment (in their own time zone)."),
    services: SafeTextList = Query([], description=f"Offers every one of: {', '.join(service.SERVICES)}."),
    category: SafeText(40) | None = Query(None, description="Has an in-stock product of this category."),
    min_cqi: float | None = Query(None, ge=0, le=100, description="Has an in-stock product whose lot scores this."),
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
        filters = service.Filters(open_now=open_now, services=tuple(services), category=category, min_cqi=min_cqi)
        result = service.near(session, lat=lat, lon=lon, radius_miles=radius_miles, limit=per_page,
                              offset=(page - 1) * per_page, filters=filters)
        rows = [DispensaryOut(id=d.id, name=d.dba or d.name, license_number=d.license_number, state=d.state,
                              address=", ".join(p for p in (d.street, d.city, d.state, d.postal_code) if p),
                              lat=d.latitude, lon=d.longitude, distance_miles=miles,
                              open_now=service.open_now(d.hours, d.state))
                for d, miles in result.rows]
    return DispensaryPage(origin={**origin, "lat": lat, "lon": lon}, total=result.total,
                          total_exact=result.total_exact, page=page,
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
    price: Decimal | None  # the lowest variant price
    currency: str
    variants: list[dict]
    in_stock_qty: int
    source: str
    terpenes: list[dict]  # [{name, pct}], most abundant first
    cqi: float | None  # the Cannabis Quality Index of the exchange lot it comes from, when linked
    rating: float | None
    review_count: int
    effects: dict[str, float]  # share of reviews naming each effect
    url: str  # the public product page


class MenuOut(BaseModel):
    dispensary_id: uuid.UUID
    name: str
    categories: dict[str, list[MenuItemOut]]


def _range(low: float | None, high: float | None, unit: str) -> str | None:
    if low is None:
        return None
    return f"{low:g}{unit}" if high in (None, low) else f"{low:g}-{high:g}{unit}"


@router.get("/dispensaries/{dispensary_id}/menu", response_model=MenuOut, responses=error_responses(404, 422))
def dispensary_menu(dispensary_id: uuid.UUID) -> MenuOut:
    """The live menu: items in stock, grouped by category, with potency, terpenes, CQI and review summary."""
    from icc_app.maps import catalog

    with unit_of_work() as session:
        dispensary = catalog.open_dispensary(session, dispensary_id)
        categories: dict[str, list[MenuItemOut]] = {}
        for listing in catalog.menu(session, dispensary.id):
            item, summary = listing.item, listing.summary
            categories.setdefault(item.category, []).append(MenuItemOut(
                id=item.id, name=item.name, brand=item.brand, category=item.category, strain_name=item.strain_name,
                strain_type=item.strain_type, thc=_range(item.thc_min, item.thc_max, item.thc_unit),
                cbd=_range(item.cbd_min, item.cbd_max, item.cbd_unit), price=item.price, currency=item.currency, variants=item.variants,
                in_stock_qty=item.in_stock_qty, source=item.source, terpenes=item.terpenes, cqi=listing.cqi,
                rating=summary.rating if summary else None, review_count=summary.count if summary else 0,
                effects=summary.effects if summary else {}, url=catalog.product_path(dispensary, item)))
        return MenuOut(dispensary_id=dispensary.id, name=dispensary.dba or dispensary.name, categories=categories)


@router.get("/dispensary-photos/{photo_id}", response_class=Response,
            responses={200: IMAGE, **error_responses(404, 422)})
def dispensary_photo(photo_id: uuid.UUID, thumbnail: bool = False) -> Response:
    """A photo of a dispensary (public), or its thumbnail with `?thumbnail=true`."""
    from icc_app.core.storage import sniff_content_type
    from icc_app.maps import photos

    with unit_of_work() as session:
        data = photos.file(session, photo_id, thumbnail=thumbnail)
    return Response(data, media_type=sniff_content_type(data),
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})
