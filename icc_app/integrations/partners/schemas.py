"""What the partner API sends and receives, with the examples its OpenAPI document shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

BUSINESS = "5b0f8a0e-2f61-4c1b-9a43-2d0c4f1e7a10"
KEY_ID = "0b7f4e0e-8f5e-4d7c-b1d4-6a1f3f5e9c21"
ENDPOINT_ID = "9d3c6a2b-1f4e-4b8a-a7c2-3e5d7f9b1c04"
DELIVERY_ID = "3f2a1b0c-9e8d-4c7b-a6f5-e4d3c2b1a098"
WHEN = "2026-12-02T15:04:05Z"


def _example(data: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [data]})


KEY_EXAMPLE = {"id": KEY_ID, "business_id": BUSINESS, "name": "Acme POS bridge", "prefix": "icc_pk_Ab3xYz",
               "scopes": ["menu:read", "orders:read"], "status": "active", "expires_at": "2027-03-02T15:04:05Z",
               "rate_limit_per_minute": 120, "last_used_at": WHEN, "last_used_ip": "203.0.113.7",
               "created_at": WHEN, "rotated_at": None, "grace_until": None, "revoked_at": None,
               "replaced_by_id": None}


class ScopeOut(BaseModel):
    model_config = _example({"scope": "menu:read", "description": "Read your dispensaries' menus"})
    scope: str
    description: str


class ApiKeyIn(BaseModel):
    model_config = _example({"business_id": BUSINESS, "name": "Acme POS bridge",
                             "scopes": ["menu:read", "orders:read"], "expires_in_days": 90,
                             "rate_limit_per_minute": 120})
    business_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1, max_length=20)
    expires_in_days: int | None = Field(90, description="1 to 730; null: never expires")
    rate_limit_per_minute: int = Field(120, ge=1, le=10_000)


class RotateIn(BaseModel):
    model_config = _example({"grace_minutes": 60})
    grace_minutes: int = Field(60, ge=0, le=7 * 24 * 60, description="how long the old key keeps working")


class RevokeIn(BaseModel):
    model_config = _example({"reason": "The partner contract ended"})
    reason: str = Field("", max_length=300)


class ApiKeyOut(BaseModel):
    model_config = _example(KEY_EXAMPLE)
    id: uuid.UUID
    business_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    status: str  # active, expiring (rotated, in its grace period), expired, revoked
    expires_at: datetime | None
    rate_limit_per_minute: int
    last_used_at: datetime | None
    last_used_ip: str | None
    created_at: datetime
    rotated_at: datetime | None
    grace_until: datetime | None
    revoked_at: datetime | None
    replaced_by_id: uuid.UUID | None


class ApiKeyCreated(BaseModel):
    model_config = _example({"key": "icc_pk_Ab3xYz…(shown once)", "api_key": KEY_EXAMPLE})
    key: str = Field(description="The raw key. Shown only in this answer: store it in the partner's secret store.")
    api_key: ApiKeyOut


class RotatedOut(BaseModel):
    model_config = _example({"key": "icc_pk_Q9rT2w…(shown once)", "api_key": KEY_EXAMPLE,
                             "previous": KEY_EXAMPLE | {"status": "expiring", "grace_until": WHEN}})
    key: str
    api_key: ApiKeyOut
    previous: ApiKeyOut


ENDPOINT_EXAMPLE = {"id": ENDPOINT_ID, "business_id": BUSINESS, "url": "https://partner.example.com/icc/webhooks",
                    "description": "Acme order sync", "events": ["order.created", "order.status_changed"],
                    "enabled": True, "secret_hint": "whsec_Zx81", "created_at": WHEN}


class EventTypeOut(BaseModel):
    model_config = _example({"type": "order.created", "description": "An order was placed (you buy or sell)"})
    type: str
    description: str


class EndpointIn(BaseModel):
    model_config = _example({"business_id": BUSINESS, "url": "https://partner.example.com/icc/webhooks",
                             "events": ["order.created", "order.status_changed"], "description": "Acme order sync"})
    business_id: uuid.UUID
    url: str = Field(max_length=500)
    events: list[str] = Field(min_length=1, max_length=20, description="event types, or [\"*\"] for all")
    description: str = Field("", max_length=200)


class EndpointUpdateIn(BaseModel):
    model_config = _example({"events": ["*"], "enabled": False})
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class EndpointOut(BaseModel):
    model_config = _example(ENDPOINT_EXAMPLE)
    id: uuid.UUID
    business_id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    secret_hint: str
    created_at: datetime


class EndpointCreated(BaseModel):
    model_config = _example({"secret": "whsec_Zx81…(shown once)", "endpoint": ENDPOINT_EXAMPLE})
    secret: str = Field(description="The signing secret. Shown only in this answer.")
    endpoint: EndpointOut


DELIVERY_EXAMPLE = {"id": DELIVERY_ID, "endpoint_id": ENDPOINT_ID, "event_id": "evt_4f1c2b9a0d8e4e6f9a7b3c2d1e0f9a8b",
                    "event_type": "order.created", "status": "retrying", "attempts": 2,
                    "next_attempt_at": "2026-12-02T15:06:05Z", "last_attempt_at": WHEN, "delivered_at": None,
                    "response_status": 500, "last_error": "HTTP 500", "duration_ms": 84, "redelivery_of": None,
                    "created_at": WHEN}


class AttemptOut(BaseModel):
    model_config = _example({"number": 1, "status_code": 500, "error": "HTTP 500", "response_excerpt": "oops",
                             "duration_ms": 84, "created_at": WHEN})
    number: int
    status_code: int | None
    error: str | None
    response_excerpt: str
    duration_ms: int
    created_at: datetime


class DeliveryOut(BaseModel):
    model_config = _example(DELIVERY_EXAMPLE)
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    last_error: str | None
    duration_ms: int | None
    redelivery_of: uuid.UUID | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    model_config = _example(DELIVERY_EXAMPLE | {
        "payload": {"id": "evt_4f1c2b9a0d8e4e6f9a7b3c2d1e0f9a8b", "type": "order.created", "created_at": WHEN,
                    "business_id": BUSINESS, "data": {"id": "…", "reference": "CCX-7K2M9Q", "status": "pending"}},
        "attempt_log": [{"number": 1, "status_code": 500, "error": "HTTP 500", "response_excerpt": "oops",
                         "duration_ms": 84, "created_at": WHEN}]})
    payload: dict
    attempt_log: list[AttemptOut]


class WhoAmIOut(BaseModel):
    model_config = _example({"business_id": BUSINESS, "business_name": "Capitol Hill Cannabis",
                             "key_name": "Acme POS bridge", "key_prefix": "icc_pk_Ab3xYz",
                             "scopes": ["menu:read", "orders:read"]})
    business_id: uuid.UUID | None  # None: a signed-in person who belongs to no business
    business_name: str
    key_name: str | None
    key_prefix: str | None
    scopes: list[str] | None


class MenuItemOut(BaseModel):
    model_config = _example({"id": "…", "dispensary_id": "…", "sku": "CCX-CHERRY-PUNCH", "source": "manual",
                             "name": "Cherry Punch 3.5g", "brand": "Evergreen Farms", "category": "flower",
                             "strain_type": "hybrid", "price": "35.00", "currency": "USD", "in_stock_qty": 12,
                             "is_active": True, "thc_min": 24.1, "thc_max": 24.1, "updated_at": WHEN})
    id: uuid.UUID
    dispensary_id: uuid.UUID
    sku: str
    source: str
    name: str
    brand: str | None
    category: str
    strain_type: str | None
    price: Decimal | None
    currency: str
    in_stock_qty: int
    is_active: bool
    thc_min: float | None
    thc_max: float | None
    updated_at: datetime


class PartnerLotOut(BaseModel):
    model_config = _example({"id": "…", "title": "Cherry Punch, indoor", "status": "active", "product_type": "flower",
                             "strain_name": "Cherry Punch", "quantity": "40", "available_qty": "32", "unit": "lb",
                             "price_per_unit": "1700.00", "currency": "USD", "listed_at": WHEN, "updated_at": WHEN})
    id: uuid.UUID
    title: str
    status: str
    product_type: str
    strain_name: str
    quantity: Decimal
    available_qty: Decimal
    unit: str
    price_per_unit: Decimal
    currency: str
    listed_at: datetime | None
    updated_at: datetime


class PartnerOrderOut(BaseModel):
    model_config = _example({"id": "…", "reference": "CCX-7K2M9Q", "side": "selling", "lot_id": "…",
                             "status": "confirmed", "quantity": "1", "unit": "lb", "price_per_unit": "1700.00",
                             "total": "1700.00", "currency": "USD", "paid": False, "created_at": WHEN,
                             "updated_at": WHEN})
    id: uuid.UUID
    reference: str
    side: str  # selling or buying, for the key's business
    lot_id: uuid.UUID
    status: str
    quantity: Decimal
    unit: str
    price_per_unit: Decimal
    total: Decimal
    currency: str
    paid: bool
    created_at: datetime
    updated_at: datetime


class SaleOut(BaseModel):
    model_config = _example({"id": "…", "external_id": "T-100234", "occurred_at": WHEN, "subtotal": "52.00",
                             "discount": "5.00", "tax": "17.39", "total": "64.39", "currency": "USD",
                             "is_return": False, "is_void": False})
    id: uuid.UUID
    external_id: str
    occurred_at: datetime
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    currency: str
    is_return: bool
    is_void: bool
