"""REST API of the exchange, for IMS and partner integrations: push and list lots, search the marketplace, make
and answer offers, read and update orders. OAuth scopes: exchange:read / exchange:write."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import error_responses
from icc_app.core.openapi import DOCUMENT, IMAGE, PDF_FILE
from icc_app.core.validation import MoneyFilter, PageNumber, Percent, QuantityFilter, SafeText
from icc_app.exchange import lots, offers, orders
from icc_app.exchange.idempotency import MAX_KEY
from icc_app.exchange.lots import LotInput
from icc_app.exchange.models import Lot, Offer, Order
from icc_app.exchange.schemas import (
    AcceptIn,
    ActionIn,
    CounterIn,
    LotIn,
    LotUpdateIn,
    OfferIn,
    PaymentReceivedIn,
    PaymentSentIn,
)
from icc_app.exchange.search import LotFilters, buyer_origin, search
from icc_app.identity.api_auth import requires
from icc_app.identity.schemas import Principal
from icc_app.labs.service import content_disposition

router = APIRouter(tags=["exchange"])
READ, WRITE = requires("exchange:read"), requires("exchange:write")
LIST_ERRORS = error_responses(401, 403, 404, 422)
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)
FILE_ERRORS = error_responses(401, 403, 404, 422)
Side = Annotated[SafeText(10), Query(description="all, selling or buying")]
OrderAction = Literal["confirm", "ship", "receive", "cancel"]
StatusFilter = Annotated[SafeText(20) | None, Query(description="only this status")]
# A retried POST with the same key (per business) returns what the first one made, with the same status code.
IdempotencyKeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=MAX_KEY, pattern=r"^[A-Za-z0-9._~:+/=-]+$",
    description=f"Optional, at most {MAX_KEY} letters, digits or ._~:+/=- (a UUID is a good key): a retry of a "
                "creating request with the same key makes nothing new and returns the first result.")]




class LotOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    seller: str | None = None
    title: str
    status: str
    product_type: str
    strain_name: str
    strain_type: str
    quantity: Decimal
    available_qty: Decimal
    min_order_qty: Decimal
    unit: str
    price_per_unit: Decimal
    currency: str
    metrc_tag: str | None
    thc_pct: float | None
    terpenes_pct: float | None
    safety_passed: bool | None
    cqi_score: float | None
    coa_id: uuid.UUID | None
    listed_at: datetime | None
    distance_miles: float | None = None
    version: int


class SearchOut(BaseModel):
    total: int
    page: int
    pages: int
    lots: list[LotOut]








class OfferOut(BaseModel):
    id: uuid.UUID
    lot_id: uuid.UUID
    buyer_business_id: uuid.UUID
    seller_business_id: uuid.UUID
    status: str
    awaiting: str
    quantity: Decimal
    price_per_unit: Decimal
    expires_at: datetime
    rounds: int


class OrderOut(BaseModel):
    id: uuid.UUID
    reference: str
    lot_id: uuid.UUID
    buyer_business_id: uuid.UUID
    seller_business_id: uuid.UUID
    status: str
    quantity: Decimal
    unit: str
    price_per_unit: Decimal
    total: Decimal
    currency: str
    payment_method: str
    payment_terms: str
    paid: bool
    payment_mismatch: bool
    created_at: datetime








def lot_out(lot: Lot, seller: str | None = None, distance: float | None = None) -> LotOut:
    return LotOut(**{k: getattr(lot, k) for k in LotOut.model_fields if k not in ("seller", "distance_miles")},
                  seller=seller, distance_miles=distance)


def offer_out(offer: Offer) -> OfferOut:
    return OfferOut(**{k: getattr(offer, k) for k in OfferOut.model_fields})


def order_out(order: Order) -> OrderOut:
    return OrderOut(**{k: getattr(order, k) for k in OrderOut.model_fields})


@router.post("/lots", response_model=LotOut, status_code=201, responses=WRITE_ERRORS)
def create_lot(body: LotIn, principal: Principal = Depends(WRITE), idempotency_key: IdempotencyKeyHeader = None) -> LotOut:
    """A draft lot (e.g. pushed from an IMS). Attach its COA with POST /api/v1/coas (lot_id), then publish."""
    data = LotInput(**body.model_dump(exclude={"business_id"}))
    with unit_of_work(tenant=principal) as session:
        return lot_out(lots.create_lot(session, principal=principal, business_id=body.business_id, data=data,
                                       idempotency_key=idempotency_key))




@router.put("/lots/{lot_id}", response_model=LotOut, responses=WRITE_ERRORS)
def update_lot(lot_id: uuid.UUID, body: LotUpdateIn, principal: Principal = Depends(WRITE)) -> LotOut:
    """Replace a lot's terms (not while withdrawn or sold out); the quantity cannot go below what is sold."""
    data = LotInput(**body.model_dump(exclude={"business_id", "version"}))
    with unit_of_work(tenant=principal) as session:
        return lot_out(lots.update_lot(session, principal=principal, lot_id=lot_id, data=data, version=body.version))


@router.post("/lots/{lot_id}/publish", response_model=LotOut, responses=WRITE_ERRORS)
def publish_lot(lot_id: uuid.UUID, principal: Principal = Depends(WRITE)) -> LotOut:
    with unit_of_work(tenant=principal) as session:
        return lot_out(lots.publish(session, principal=principal, lot_id=lot_id))


@router.post("/lots/{lot_id}/pause", response_model=LotOut, responses=WRITE_ERRORS)
def pause_lot(lot_id: uuid.UUID, body: ActionIn | None = None, principal: Principal = Depends(WRITE)) -> LotOut:
    with unit_of_work(tenant=principal) as session:
        return lot_out(lots.pause(session, principal=principal, lot_id=lot_id, note=(body.note if body else "")))


@router.get("/lots", response_model=SearchOut, responses=LIST_ERRORS)
def search_lots(
    principal: Principal = Depends(READ),
    q: SafeText(200) = "", product_type: SafeText(20) = "", strain_type: SafeText(10) = "",
    thc_min: Percent | None = None, thc_max: Percent | None = None, terpenes_min: Percent | None = None,
    terpenes_max: Percent | None = None, safety_passed: bool = False, cqi_min: Percent | None = None,
    cqi_max: Percent | None = None, price_min: MoneyFilter | None = None, price_max: MoneyFilter | None = None,
    max_distance_miles: float | None = Query(None, gt=0, le=3000), min_available: QuantityFilter | None = None,
    buyer_business_id: uuid.UUID | None = Query(None, description="whose premises distances are measured from"),
    sort: SafeText(20) = "newest", page: PageNumber = 1, per_page: int = Query(24, ge=1, le=60),
) -> SearchOut:
    """The marketplace: active lots with filters, sort (newest, price_asc, price_desc, cqi, thc, distance) and pages."""
    with unit_of_work(tenant=principal) as session:
        origin = None
        if buyer_business_id is not None and principal.membership(buyer_business_id) is not None:
            origin = buyer_origin(session, buyer_business_id)
        result = search(session, LotFilters(
            q=q, product_type=product_type, strain_type=strain_type, thc_min=thc_min, thc_max=thc_max,
            terpenes_min=terpenes_min, terpenes_max=terpenes_max, safety_passed=safety_passed, cqi_min=cqi_min,
            cqi_max=cqi_max, price_min=price_min, price_max=price_max, max_distance_miles=max_distance_miles,
            min_available=min_available, sort=sort, page=page, per_page=per_page, origin=origin))
        return SearchOut(total=result.total, page=result.page, pages=result.pages,
                         lots=[lot_out(lot, seller, distance) for lot, seller, distance in result.rows])


@router.get("/lots/{lot_id}", response_model=LotOut, responses=READ_ERRORS)
def get_lot(lot_id: uuid.UUID, principal: Principal = Depends(READ)) -> LotOut:
    with unit_of_work(tenant=principal) as session:
        return lot_out(lots.visible_lot(session, principal, lot_id))


@router.get("/lots/{lot_id}/coa", response_class=Response,
            responses={200: PDF_FILE, **FILE_ERRORS})
def lot_coa(lot_id: uuid.UUID, principal: Principal = Depends(READ)) -> Response:
    """The lot's COA as the lab issued it (PDF)."""
    with unit_of_work(tenant=principal) as session:
        data, filename = lots.coa_file(session, principal, lot_id)
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": content_disposition(filename)})


@router.get("/lot-photos/{photo_id}", response_class=Response, responses={200: IMAGE, **FILE_ERRORS})
def lot_photo(photo_id: uuid.UUID, thumbnail: bool = False, principal: Principal = Depends(READ)) -> Response:
    with unit_of_work(tenant=principal) as session:
        data, _ = lots.photo_file(session, principal, photo_id, thumbnail=thumbnail)
    from icc_app.core.storage import sniff_content_type

    return Response(data, media_type=sniff_content_type(data),
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/offers/{offer_id}/proof-of-funds", response_class=Response, responses={200: DOCUMENT, **FILE_ERRORS})
def proof_of_funds(offer_id: uuid.UUID, principal: Principal = Depends(READ)) -> Response:
    """The buyer's proof of funds; only the two parties of the offer can read it."""
    with unit_of_work(tenant=principal) as session:
        data, filename = offers.read_proof_of_funds(session, principal=principal, offer_id=offer_id)
    from icc_app.core.storage import sniff_content_type

    return Response(data, media_type=sniff_content_type(data),
                    headers={"Content-Disposition": content_disposition(filename, default="proof-of-funds")})


@router.post("/offers", response_model=OfferOut, status_code=201, responses=WRITE_ERRORS)
def make_offer(body: OfferIn, principal: Principal = Depends(WRITE),
               idempotency_key: IdempotencyKeyHeader = None) -> OfferOut:
    with unit_of_work(tenant=principal) as session:
        return offer_out(offers.make_offer(session, principal=principal, idempotency_key=idempotency_key,
                                           **body.model_dump()))


@router.get("/offers", response_model=list[OfferOut], responses=LIST_ERRORS)
def list_offers(business_id: uuid.UUID, side: Side = "all", status: StatusFilter = None,
                principal: Principal = Depends(READ)) -> list[OfferOut]:
    with unit_of_work(tenant=principal) as session:
        return [offer_out(o) for o, _ in offers.list_offers(session, principal=principal, business_id=business_id,
                                                            side=side, status=status)]


@router.post("/offers/{offer_id}/counter", response_model=OfferOut, responses=WRITE_ERRORS)
def counter_offer(offer_id: uuid.UUID, body: CounterIn, principal: Principal = Depends(WRITE)) -> OfferOut:
    with unit_of_work(tenant=principal) as session:
        return offer_out(offers.counter(session, principal=principal, offer_id=offer_id, **body.model_dump()))


@router.post("/offers/{offer_id}/accept", response_model=OrderOut, responses=WRITE_ERRORS)
def accept_offer(offer_id: uuid.UUID, body: AcceptIn | None = None, principal: Principal = Depends(WRITE)) -> OrderOut:
    body = body or AcceptIn()
    with unit_of_work(tenant=principal) as session:
        return order_out(offers.accept(session, principal=principal, offer_id=offer_id, **body.model_dump()))


@router.post("/offers/{offer_id}/reject", response_model=OfferOut, responses=WRITE_ERRORS)
def reject_offer(offer_id: uuid.UUID, body: ActionIn | None = None, principal: Principal = Depends(WRITE)) -> OfferOut:
    with unit_of_work(tenant=principal) as session:
        return offer_out(offers.reject(session, principal=principal, offer_id=offer_id, message=body.note if body else ""))


@router.post("/offers/{offer_id}/withdraw", response_model=OfferOut, responses=WRITE_ERRORS)
def withdraw_offer(offer_id: uuid.UUID, body: ActionIn | None = None, principal: Principal = Depends(WRITE)) -> OfferOut:
    with unit_of_work(tenant=principal) as session:
        return offer_out(offers.withdraw(session, principal=principal, offer_id=offer_id,
                                         message=body.note if body else ""))


@router.get("/orders", response_model=list[OrderOut], responses=LIST_ERRORS)
def list_orders(business_id: uuid.UUID, side: Side = "all", status: StatusFilter = None,
                principal: Principal = Depends(READ)) -> list[OrderOut]:
    with unit_of_work(tenant=principal) as session:
        return [order_out(o) for o, _ in orders.list_orders(session, principal=principal, business_id=business_id,
                                                            side=side, status=status)]


@router.get("/orders/{order_id}", response_model=OrderOut, responses=READ_ERRORS)
def get_order(order_id: uuid.UUID, principal: Principal = Depends(READ)) -> OrderOut:
    with unit_of_work(tenant=principal) as session:
        return order_out(orders.load(session, principal, order_id)[0])


@router.post("/orders/{order_id}/payment-sent", response_model=OrderOut, responses=WRITE_ERRORS)
def payment_sent(order_id: uuid.UUID, body: PaymentSentIn, principal: Principal = Depends(WRITE)) -> OrderOut:
    with unit_of_work(tenant=principal) as session:
        return order_out(orders.mark_payment_sent(session, principal=principal, order_id=order_id, reference=body.reference,
                                                  amount=body.amount, sent_on=body.sent_on))


@router.post("/orders/{order_id}/payment-received", response_model=OrderOut, responses=WRITE_ERRORS)
def payment_received(order_id: uuid.UUID, body: PaymentReceivedIn, principal: Principal = Depends(WRITE)) -> OrderOut:
    with unit_of_work(tenant=principal) as session:
        return order_out(orders.mark_payment_received(session, principal=principal, order_id=order_id,
                                                      amount=body.amount))


@router.post("/orders/{order_id}/{action}", response_model=OrderOut, responses=WRITE_ERRORS)
def order_action(order_id: uuid.UUID, action: Annotated[OrderAction, Path(description="confirm, ship, receive or cancel")], body: ActionIn | None = None,
                 principal: Principal = Depends(WRITE)) -> OrderOut:
    """action: confirm (seller), ship (seller), receive (buyer), cancel (either, before shipping)."""
    with unit_of_work(tenant=principal) as session:
        return order_out(orders.act(session, principal=principal, order_id=order_id, verb=action,
                                    note=body.note if body else ""))
