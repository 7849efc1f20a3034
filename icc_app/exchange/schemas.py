"""Request bodies of the exchange API. Every number and text uses the shared types of core/validation.py, so a
price of 1e30, a zero quantity or a NUL character is a 422 naming the field before any service runs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from icc_app.core.validation import Money, Quantity, SafeText
from icc_app.exchange.models import PaymentMethod, PaymentTerms

Message = SafeText(2000)
Note = SafeText(500)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LotIn(_Body):
    business_id: uuid.UUID
    title: SafeText(200, min_length=1)
    product_type: SafeText(20) = Field(description="flower, pre_roll, concentrate, vape, edible, tincture, topical, trim, ...")
    strain_name: SafeText(120, min_length=1)
    strain_type: SafeText(10) = Field(description="indica, sativa, hybrid or cbd")
    quantity: Quantity
    unit: SafeText(10) = Field(description="g, lb or units")
    min_order_qty: Quantity
    price_per_unit: Money
    harvest_date: date | None = None
    package_date: date | None = None
    metrc_tag: SafeText(24) | None = None
    description: SafeText(5000) = ""
    delivery_terms: SafeText(500) = ""
    require_proof_of_funds: bool = False


class LotUpdateIn(LotIn):
    version: int = Field(ge=1, le=2**31 - 1, description="the version you read: a concurrent change makes this a 409")


class OfferIn(_Body):
    buyer_business_id: uuid.UUID
    lot_id: uuid.UUID
    quantity: Quantity
    price_per_unit: Money
    expires_at: datetime | None = None
    message: Message = ""


class CounterIn(_Body):
    quantity: Quantity
    price_per_unit: Money
    expires_at: datetime | None = None
    message: Message = ""


class AcceptIn(_Body):
    payment_method: PaymentMethod = PaymentMethod.wire
    payment_terms: PaymentTerms = PaymentTerms.prepay
    message: Message = ""


class ActionIn(_Body):
    note: Note = ""


class PaymentSentIn(_Body):
    reference: SafeText(120, min_length=1)
    amount: Money
    sent_on: date | None = None


class PaymentReceivedIn(_Body):
    amount: Money
