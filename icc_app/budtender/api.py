"""IVB, the virtual budtender: REST API.

Consumers (anonymous or signed in): the quiz's vocabulary, recommendations near a place, favourites, feedback,
history. Partners (a partner API key with the "widget" scope): widget settings (the salt for hashed customer ids)
and widget sessions. The browser widget itself (widget.js, its recommendations and events) carries only a signed,
short-lived widget token, answers any origin (no cookies are read), and never receives or returns PII."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from icc_app.budtender import service, widget
from icc_app.budtender.effects import AVOIDABLE, FEELINGS
from icc_app.budtender.schemas import FORMATS, FavouriteRead, QuizRead, RecommendationRead, RunRead
from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError, NotAuthenticated, ValidationFailed, error_responses
from icc_app.identity.api_auth import bearer_token, client_ip, current_principal
from icc_app.identity.schemas import Principal
from icc_app.maps import service as maps_service
from icc_app.maps.geocoding import geocode
from icc_app.settings import PROJECT_ROOT

router = APIRouter(prefix="/budtender", tags=["budtender"])
WIDGET_SCRIPT = PROJECT_ROOT / "assets" / "budtender" / "widget.js"
OPEN_CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def optional_principal(request: Request) -> Principal | None:
    """The signed-in consumer, or None for an anonymous visitor (recommendations still work, nothing is kept)."""
    if not (bearer_token(request) or request.cookies.get("icc_session")):
        return None
    return current_principal(request)


class QuizIn(BaseModel):
    wanted: list[str] = Field(description=f"1-4 of: {', '.join(FEELINGS)}")
    avoided: list[str] = Field(default=[], description=f"Any of: {', '.join(AVOIDABLE)}")
    experience: str = Field(default="occasional", description="new / occasional / regular")
    formats: list[str] = Field(default=[], description=f"Any of: {', '.join(FORMATS)} (empty: any)")
    budget_max: str | None = Field(default=None, description="Most you want to pay for one item, in dollars")


class RecommendIn(QuizIn):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    place: str | None = Field(default=None, max_length=200, description="A ZIP code or an address instead of lat/lon")
    radius_miles: float = Field(default=15, gt=0, le=maps_service.MAX_RADIUS_MILES)
    limit: int = Field(default=12, ge=1, le=50)
    save: bool = Field(default=True, description="Signed in: keep these answers for next time")


class RecommendOut(BaseModel):
    run_id: uuid.UUID | None
    quiz: QuizRead
    results: list[RecommendationRead]


class FeedbackIn(BaseModel):
    menu_item_id: uuid.UUID
    kind: str = Field(description="click / add_to_cart / purchase / review")
    run_id: uuid.UUID | None = None


def locate(session, lat: float | None, lon: float | None, place: str | None) -> tuple[float, float]:
    if lat is not None and lon is not None:
        return lat, lon
    if not (place or "").strip():
        raise ValidationFailed("Give a ZIP code or an address, or both lat and lon.", field="place")
    found = geocode(session, place.strip())
    if found is None or found.latitude is None:
        raise ValidationFailed(f"We could not find {place.strip()!r}: try a ZIP code.", field="place")
    return found.latitude, found.longitude


@router.post("/recommendations", response_model=RecommendOut, responses=error_responses(400, 401, 413, 422))
def recommend(body: RecommendIn, principal: Principal | None = Depends(optional_principal)) -> RecommendOut:
    """In-stock products within the radius, best first, each with its reasons."""
    profile = service.clean_quiz(wanted=body.wanted, avoided=body.avoided, experience=body.experience,
                                 formats=body.formats, budget_max=body.budget_max)
    with unit_of_work() as session:
        lat, lon = locate(session, body.lat, body.lon, body.place)
        if principal is not None and principal.user_id is not None and body.save:
            service.save_profile(session, principal=principal, profile=profile, radius_miles=body.radius_miles,
                                 lat=lat, lon=lon, place=body.place or "")
        run_id, results = service.recommend(session, principal=principal, profile=profile, lat=lat, lon=lon,
                                            radius_miles=body.radius_miles, limit=body.limit, source="api")
    return RecommendOut(run_id=run_id, results=results,
                        quiz=service.quiz_read(profile, radius_miles=body.radius_miles, place=body.place or "",
                                               lat=lat, lon=lon))


@router.get("/profile", response_model=QuizRead | None, responses=error_responses(401))
def my_profile(principal: Principal = Depends(current_principal)) -> QuizRead | None:
    with unit_of_work() as session:
        return service.saved_profile(session, principal=principal)


@router.get("/favourites", response_model=list[FavouriteRead], responses=error_responses(401))
def my_favourites(principal: Principal = Depends(current_principal)) -> list[FavouriteRead]:
    with unit_of_work() as session:
        return service.favourites(session, principal=principal)


@router.put("/favourites/{menu_item_id}", status_code=204, responses=error_responses(401, 404, 422))
def save_favourite(menu_item_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> Response:
    """Idempotent: saving twice keeps one favourite."""
    with unit_of_work() as session:
        service.add_favourite(session, principal=principal, menu_item_id=menu_item_id)
    return Response(status_code=204)


@router.delete("/favourites/{menu_item_id}", status_code=204, responses=error_responses(401, 422))
def drop_favourite(menu_item_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> Response:
    with unit_of_work() as session:
        service.remove_favourite(session, principal=principal, menu_item_id=menu_item_id)
    return Response(status_code=204)


@router.post("/feedback", status_code=204, responses=error_responses(400, 401, 404, 413, 422))
def feedback(body: FeedbackIn, principal: Principal = Depends(current_principal)) -> Response:
    with unit_of_work() as session:
        service.record_feedback(session, principal=principal, menu_item_id=body.menu_item_id, kind=body.kind,
                                run_id=body.run_id)
    return Response(status_code=204)


@router.get("/history", response_model=list[RunRead], responses=error_responses(401))
def my_history(principal: Principal = Depends(current_principal)) -> list[RunRead]:
    with unit_of_work() as session:
        return service.history(session, principal=principal)


# ---- partners: the checkout widget ------------------------------------------------------------------------------
def partner_business(request: Request) -> uuid.UUID:
    """The business of the partner API key in `Authorization: Bearer icc_pk_...` (scope "widget")."""
    refused: DomainError | None = None
    with unit_of_work() as session:
        try:
            business_id = widget.authenticate_partner(session, bearer_token(request), ip=client_ip(request))
        except DomainError as exc:  # raised after the commit, so the refusal's audit row is kept
            refused = exc
    if refused is not None:
        raise refused
    return business_id


class WidgetSettingsOut(BaseModel):
    customer_salt: str = Field(description="Send customer_ref = sha256_hex(customer_salt + your customer id)")
    enabled: bool


class WidgetSessionIn(BaseModel):
    dispensary_id: uuid.UUID
    cart: list[str] = Field(default=[], description="Menu item ids, or your POS product ids (external ids)")
    customer_ref: str | None = Field(default=None, description="sha256 hex of the salt and your customer id")
    wanted: list[str] = Field(default=[], description="Optional feelings the customer asked for")


class WidgetSessionOut(BaseModel):
    token: str
    expires_in: int
    script: str  # the script tag to put on the checkout page


class WidgetEventIn(BaseModel):
    token: str
    menu_item_id: uuid.UUID
    kind: str = Field(description="click / add_to_cart / purchase")


class WidgetOut(BaseModel):
    store: str
    results: list[RecommendationRead]


@router.get("/widget/settings", response_model=WidgetSettingsOut, responses=error_responses(401, 403, 429))
def widget_settings(business_id: uuid.UUID = Depends(partner_business)) -> WidgetSettingsOut:
    with unit_of_work() as session:
        row = widget.settings_for(session, business_id)
        return WidgetSettingsOut(customer_salt=row.customer_salt, enabled=row.enabled)


@router.post("/widget/sessions", response_model=WidgetSessionOut,
             responses=error_responses(400, 401, 403, 404, 413, 422, 429))
def widget_session(body: WidgetSessionIn, request: Request,
                   business_id: uuid.UUID = Depends(partner_business)) -> WidgetSessionOut:
    """A short-lived token for one checkout page: the store, the cart and the hashed customer."""
    with unit_of_work() as session:
        token = widget.start_session(session, business_id=business_id, dispensary_id=body.dispensary_id,
                                     cart=body.cart, customer_ref=body.customer_ref, wanted=body.wanted)
    base = str(request.base_url).rstrip("/")
    return WidgetSessionOut(token=token, expires_in=widget.TOKEN_SECONDS,
                            script=f'<script src="{base}/api/v1/budtender/widget.js" data-token="{token}" async>'
                                   "</script>")


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> Response:
    return Response(Path(WIDGET_SCRIPT).read_text(encoding="utf-8"), media_type="application/javascript",
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"})


@router.get("/widget/recommendations", response_model=WidgetOut, responses=error_responses(401, 404, 422))
def widget_recommendations(token: str = Query(..., max_length=4000), limit: int = Query(4, ge=1, le=12)
                           ) -> Response:
    """For the browser widget: recommendations for its token's store, cart and customer; any origin may ask."""
    try:
        with unit_of_work() as session:
            found = widget.recommendations(session, token=token, limit=limit)
    except NotAuthenticated as exc:  # the widget shows nothing; the page's server asks for a new token
        return Response(json.dumps({"detail": str(exc)}), status_code=401, media_type="application/json",
                        headers=OPEN_CORS)
    return Response(WidgetOut(store=found.store, results=found.results).model_dump_json(),
                    media_type="application/json", headers=OPEN_CORS)


@router.post("/widget/events", status_code=204, responses=error_responses(401, 404, 413, 422),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": WidgetEventIn.model_json_schema()},
                 "text/plain": {"schema": {"type": "string", "description": "The same JSON, sent as text"}}}}})
async def widget_event(request: Request) -> Response:
    """A click or add-to-cart in the widget, or a purchase reported by the POS (with the session's token). The
    browser widget sends its JSON as text/plain, a "simple" cross-origin request that needs no preflight."""
    try:
        body = WidgetEventIn.model_validate_json(await request.body())
    except ValueError as exc:
        raise ValidationFailed(f"Send JSON with token, menu_item_id and kind ({str(exc).splitlines()[0]}).",
                               field="body") from None
    def record() -> None:
        with unit_of_work() as session:
            widget.record_event(session, token=body.token, menu_item_id=body.menu_item_id, kind=body.kind)

    await run_in_threadpool(record)  # the database work off the event loop, as for a plain `def` route
    return Response(status_code=204, headers=OPEN_CORS)


@router.options("/widget/events", include_in_schema=False)
def widget_event_preflight() -> Response:
    """The browser's CORS preflight for the JSON POST above (no credentials are ever sent or allowed)."""
    return Response(status_code=204, headers=OPEN_CORS | {"Access-Control-Allow-Methods": "POST",
                                                          "Access-Control-Allow-Headers": "content-type",
                                                          "Access-Control-Max-Age": "600"})
