"""Operations suite: demand forecasts, reorder and purchase orders, expirations, pricing: REST API.
OAuth scopes operations:read / operations:write (browser sessions carry every scope). Every path names the
business; another business's id or object is a 404."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from pydantic import BaseModel, Field

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed, error_responses
from icc_app.core.validation import SafeText
from icc_app.identity.api_auth import requires
from icc_app.identity.models import Role
from icc_app.identity.schemas import Principal
from icc_app.operations import data, forecast_service, pricing, purchasing, scoping, sending
from icc_app.operations.models import PurchaseOrderStatus, SuggestionStatus

router = APIRouter(tags=["operations"], prefix="/operations/{business_id}")
READ, WRITE = requires("operations:read"), requires("operations:write")
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)
MAX_UPLOAD = 20 * 1024 * 1024


class ForecastOut(BaseModel):
    id: uuid.UUID
    location_key: str
    level: str
    node_key: str
    name: str
    model: str
    model_version: str
    backtest_mase: float | None
    trust: str  # good / fair / low / unknown, from the backtest error
    history_points: int
    values: list[dict]
    notes: list[str]
    refreshed_at: datetime


def forecast_out(f) -> ForecastOut:
    return ForecastOut(**f.model_dump(include=set(ForecastOut.model_fields) - {"trust"}, warnings=False),
                       trust=forecast_service.trust(f.backtest_mase))


@router.get("/forecasts", response_model=list[ForecastOut], responses=READ_ERRORS)
def list_forecasts(business_id: uuid.UUID, level: Literal["product", "category", "location"] | None = None,
                   principal: Principal = Depends(READ)) -> list[ForecastOut]:
    with unit_of_work(tenant=principal) as session:
        return [forecast_out(f) for f in forecast_service.list_forecasts(
            session, principal=principal, business_id=business_id, level=level)]


@router.get("/forecasts/{forecast_id}", response_model=ForecastOut, responses=READ_ERRORS)
def get_forecast(business_id: uuid.UUID, forecast_id: uuid.UUID, principal: Principal = Depends(READ)) -> ForecastOut:
    with unit_of_work(tenant=principal) as session:
        return forecast_out(forecast_service.get_forecast(session, principal=principal, business_id=business_id,
                                                          forecast_id=forecast_id))


class ImportOut(BaseModel):
    saved: int
    errors: list[dict]


async def _read(file: UploadFile) -> bytes:
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed("The file is larger than 20 MB.", field="file")
    return content


@router.post("/imports/{kind}", response_model=ImportOut, responses=WRITE_ERRORS)
async def import_csv(business_id: uuid.UUID, kind: Literal["sales", "inventory"],
                     file: UploadFile = File(..., description="CSV: sales (date, sku, quantity[, location, category, "
                                                              "revenue]) or inventory (sku, quantity[, location, name, "
                                                              "category, strain, size, unit_cost, price, expires_on, "
                                                              "batch])"),
                     principal: Principal = Depends(WRITE)) -> ImportOut:
    """Valid rows are saved; each bad row comes back with its line number and reason."""
    content = await _read(file)
    with unit_of_work(tenant=principal) as session:
        run = data.import_sales if kind == "sales" else data.import_inventory
        report = run(session, principal=principal, business_id=business_id, data=content)
    return ImportOut(saved=report.saved, errors=report.errors)


class PolicyIn(BaseModel):
    product_key: str = Field(min_length=1, max_length=120)
    location_key: str = Field("main", min_length=1, max_length=120)
    supplier_name: str = Field(min_length=1, max_length=200)
    supplier_business_id: uuid.UUID | None = None
    supplier_email: str | None = Field(None, max_length=254)
    lead_time_days: int = Field(7, ge=0, le=365)
    review_period_days: int = Field(7, ge=1, le=90)
    min_order_qty: Decimal = Field(Decimal("1"), gt=0)
    service_level: float = Field(0.95, ge=0.5, le=0.999)


@router.put("/reorder-policies", responses=WRITE_ERRORS)
def put_policy(business_id: uuid.UUID, body: PolicyIn, principal: Principal = Depends(WRITE)) -> dict:
    with unit_of_work(tenant=principal) as session:
        policy = purchasing.set_policy(session, principal=principal, business_id=business_id, **body.model_dump())
        return {"id": str(policy.id), **body.model_dump(mode="json")}


class PlanLineOut(BaseModel):
    product_key: str
    location_key: str
    name: str
    supplier_name: str
    on_hand: float
    on_order: float
    reorder_point: float
    safety_stock: float
    order_up_to: float
    order_quantity: Decimal
    days_of_supply: float | None
    forecast_model: str | None
    trust: str


@router.get("/reorder-plan", response_model=list[PlanLineOut], responses=READ_ERRORS)
def reorder_plan(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> list[PlanLineOut]:
    with unit_of_work(tenant=principal) as session:
        return [PlanLineOut(product_key=p.policy.product_key, location_key=p.policy.location_key, name=p.name,
                            supplier_name=p.policy.supplier_name, on_hand=p.on_hand, on_order=p.on_order,
                            reorder_point=round(p.reorder_point, 2), safety_stock=round(p.safety_stock, 2),
                            order_up_to=round(p.order_up_to, 2), order_quantity=p.order_quantity,
                            days_of_supply=p.days_of_supply, forecast_model=p.model, trust=p.trust)
                for p in purchasing.reorder_plan(session, principal=principal, business_id=business_id)]


class LineOut(BaseModel):
    id: uuid.UUID
    product_key: str
    name: str
    quantity: Decimal
    unit_cost: Decimal | None
    on_hand: Decimal
    reorder_point: Decimal
    order_up_to: Decimal
    lot_id: uuid.UUID | None
    offer_id: uuid.UUID | None


class PurchaseOrderOut(BaseModel):
    id: uuid.UUID
    number: str
    location_key: str
    supplier_name: str
    supplier_business_id: uuid.UUID | None
    status: str
    total: Decimal
    currency: str
    sent_via: str | None
    created_at: datetime
    lines: list[LineOut] = []
    events: list[dict] = []


def po_out(po, lines=(), events=()) -> PurchaseOrderOut:
    fields = set(PurchaseOrderOut.model_fields) - {"lines", "events"}
    return PurchaseOrderOut(**po.model_dump(include=fields, warnings=False),
                            lines=[LineOut(**line.model_dump(include=set(LineOut.model_fields), warnings=False))
                                   for line in lines],
                            events=[{"from": e.from_status, "to": e.to_status, "reason": e.reason,
                                     "at": e.created_at.isoformat()} for e in events])


@router.post("/purchase-orders/draft", response_model=list[PurchaseOrderOut], responses=WRITE_ERRORS)
def draft_orders(business_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> list[PurchaseOrderOut]:
    """Draft (or top up) purchase orders for every product at its reorder point now (beat does it daily)."""
    with unit_of_work(tenant=principal) as session:
        scoping.member(principal, business_id, min_role=Role.manager)
        return [po_out(po) for po in purchasing.draft_orders(session, business_id=business_id,
                                                             actor_id=principal.user_id)]


@router.get("/purchase-orders", response_model=list[PurchaseOrderOut], responses=READ_ERRORS)
def list_orders(business_id: uuid.UUID, status: PurchaseOrderStatus | None = None,
                principal: Principal = Depends(READ)) -> list[PurchaseOrderOut]:
    with unit_of_work(tenant=principal) as session:
        return [po_out(po) for po in purchasing.list_orders(session, principal=principal, business_id=business_id,
                                                            status=status)]


@router.get("/purchase-orders/{po_id}", response_model=PurchaseOrderOut, responses=READ_ERRORS)
def get_order(business_id: uuid.UUID, po_id: uuid.UUID, principal: Principal = Depends(READ)) -> PurchaseOrderOut:
    with unit_of_work(tenant=principal) as session:
        return po_out(*purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id))


@router.get("/purchase-orders/{po_id}/csv", response_class=Response, responses=READ_ERRORS)
def order_csv(business_id: uuid.UUID, po_id: uuid.UUID, principal: Principal = Depends(READ)) -> Response:
    with unit_of_work(tenant=principal) as session:
        po, lines, _ = purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id)
    return Response(purchasing.order_csv(po, lines), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{po.number}.csv"'})


class LineIn(BaseModel):
    quantity: Decimal = Field(ge=0)


@router.patch("/purchase-orders/{po_id}/lines/{line_id}", response_model=PurchaseOrderOut, responses=WRITE_ERRORS)
def edit_line(business_id: uuid.UUID, po_id: uuid.UUID, line_id: uuid.UUID, body: LineIn,
              principal: Principal = Depends(WRITE)) -> PurchaseOrderOut:
    """Change a draft line's quantity; 0 removes the line."""
    with unit_of_work(tenant=principal) as session:
        purchasing.update_line(session, principal=principal, business_id=business_id, po_id=po_id, line_id=line_id,
                               quantity=body.quantity)
        return po_out(*purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id))


class StatusIn(BaseModel):
    status: Literal["approved", "draft", "cancelled", "received"]
    reason: str = Field("", max_length=1000)


@router.post("/purchase-orders/{po_id}/status", response_model=PurchaseOrderOut, responses=WRITE_ERRORS)
def change_status(business_id: uuid.UUID, po_id: uuid.UUID, body: StatusIn,
                  principal: Principal = Depends(WRITE)) -> PurchaseOrderOut:
    with unit_of_work(tenant=principal) as session:
        purchasing.change_status(session, principal=principal, business_id=business_id, po_id=po_id,
                                 to=PurchaseOrderStatus(body.status), reason=body.reason)
        return po_out(*purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id))


@router.get("/purchase-orders/{po_id}/candidate-lots", responses=READ_ERRORS)
def candidate_lots(business_id: uuid.UUID, po_id: uuid.UUID, principal: Principal = Depends(READ)) -> dict:
    """Per line: the CCX supplier's active lots, the line's strain first, with each lot's CQI score."""
    with unit_of_work(tenant=principal) as session:
        found = sending.candidate_lots(session, principal=principal, business_id=business_id, po_id=po_id)
    return {str(line): [lot.__dict__ | {"lot_id": str(lot.lot_id)} for lot in lots] for line, lots in found.items()}


class SendIn(BaseModel):
    lot_choices: dict[uuid.UUID, uuid.UUID] = Field(default_factory=dict, description="line id -> CCX lot id")


@router.post("/purchase-orders/{po_id}/send", response_model=PurchaseOrderOut, responses=WRITE_ERRORS)
def send_order(business_id: uuid.UUID, po_id: uuid.UUID, body: SendIn,
               principal: Principal = Depends(WRITE)) -> PurchaseOrderOut:
    """Offers on the chosen CCX lots; the other lines go to the supplier by email as CSV."""
    with unit_of_work(tenant=principal) as session:
        sending.send_order(session, principal=principal, business_id=business_id, po_id=po_id,
                           lot_choices=body.lot_choices)
        return po_out(*purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id))


class RuleIn(BaseModel):
    min_margin_pct: Decimal = Field(Decimal("30"), ge=0, le=95)
    max_discount_pct: Decimal = Field(Decimal("25"), ge=0, le=90)
    max_change_pct_per_day: Decimal = Field(Decimal("10"), ge=0, le=100)
    radius_miles: float = Field(10.0, ge=0.5, le=100)
    expiry_alert_days: int = Field(30, ge=1, le=365)


class RuleOut(RuleIn):
    category: str
    saved: bool = Field(description="false: the category has no rules of its own and these defaults apply")


@router.get("/category-rules", response_model=list[RuleOut], responses=READ_ERRORS)
def list_rules(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> list[RuleOut]:
    """Every category the business stocks or has rules for, with the rules its price suggestions follow."""
    with unit_of_work(tenant=principal) as session:
        return [RuleOut(category=r.category, saved=saved, min_margin_pct=r.min_margin_pct,
                        max_discount_pct=r.max_discount_pct, max_change_pct_per_day=r.max_change_pct_per_day,
                        radius_miles=r.radius_miles, expiry_alert_days=r.expiry_alert_days)
                for r, saved in pricing.category_rules(session, principal=principal, business_id=business_id)]


@router.put("/category-rules/{category}", responses=WRITE_ERRORS)
def put_rule(business_id: uuid.UUID, category: SafeText(40, min_length=1), body: RuleIn,
             principal: Principal = Depends(WRITE)) -> dict:
    with unit_of_work(tenant=principal) as session:
        rule = pricing.set_rule(session, principal=principal, business_id=business_id, category=category,
                                **body.model_dump())
        return {"category": rule.category, **body.model_dump(mode="json")}


class SuggestionOut(BaseModel):
    id: uuid.UUID
    location_key: str
    product_key: str
    name: str
    category: str
    kind: str
    current_price: Decimal
    suggested_price: Decimal
    floor_price: Decimal
    currency: str
    reason: str
    factors: dict
    expected_revenue_change_pct: float | None
    status: str
    applied_via: str | None


@router.get("/price-suggestions", response_model=list[SuggestionOut], responses=READ_ERRORS)
def list_suggestions(business_id: uuid.UUID, status: SuggestionStatus | None = SuggestionStatus.suggested,
                     principal: Principal = Depends(READ)) -> list[SuggestionOut]:
    with unit_of_work(tenant=principal) as session:
        return [SuggestionOut(**s.model_dump(include=set(SuggestionOut.model_fields), warnings=False)) for s in
                pricing.list_suggestions(session, principal=principal, business_id=business_id, status=status)]


class DecisionIn(BaseModel):
    approve: bool
    price: Decimal | None = Field(None, gt=0, description="approve at this price instead (never under the floor)")


@router.post("/price-suggestions/{suggestion_id}/decision", response_model=SuggestionOut, responses=WRITE_ERRORS)
def decide(business_id: uuid.UUID, suggestion_id: uuid.UUID, body: DecisionIn,
           principal: Principal = Depends(WRITE)) -> SuggestionOut:
    with unit_of_work(tenant=principal) as session:
        row = pricing.decide(session, principal=principal, business_id=business_id, suggestion_id=suggestion_id,
                             approve=body.approve, price=body.price)
        return SuggestionOut(**row.model_dump(include=set(SuggestionOut.model_fields), warnings=False))


@router.get("/approved-prices.csv", response_class=Response, responses=READ_ERRORS)
def approved_prices(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> Response:
    """Approved prices that no POS took: apply them by hand or import them into the POS."""
    with unit_of_work(tenant=principal) as session:
        body = pricing.approved_prices_csv(session, principal=principal, business_id=business_id)
    return Response(body, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="approved-prices.csv"'})


class ExpiryOut(BaseModel):
    location_key: str
    product_key: str
    name: str
    category: str
    batch: str
    quantity: float
    expires_on: date
    days_left: int
    current_price: Decimal | None
    suggested_price: Decimal | None
    reason: str


@router.get("/expirations", response_model=list[ExpiryOut], responses=READ_ERRORS)
def expirations(business_id: uuid.UUID, principal: Principal = Depends(READ),
                on: date | None = Query(None, description="as of this day (default today)")) -> list[ExpiryOut]:
    with unit_of_work(tenant=principal) as session:
        return [ExpiryOut(**a.__dict__) for a in pricing.expiring(session, principal=principal,
                                                                   business_id=business_id, today=on)]
