"""The small protocols every POS / seed-to-sale adapter implements, and the normalized records they return.

An adapter (one class per vendor, in icc_app/integrations/<vendor>/client.py, exported as `Adapter`) speaks its
vendor's HTTP protocol through integrations.http.VendorHttp and maps the vendor's payloads to the records below
(pure mapping in <vendor>/mapping.py). It never touches the database: the sync engine (integrations.sync) applies
what it returns in one transaction, so a failing page or a bad payload never leaves a menu half-updated.

Capabilities are declared per vendor (`Adapter.capabilities`) and shown in the console; the engine calls only
what an adapter declares.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable


class Capability(enum.StrEnum):
    menu = "menu"  # read the menu / inventory
    sales = "sales"  # read sales transactions (incremental by time)
    customers = "customers"  # read customers
    update_price = "update_price"  # write a product's price back to the POS
    webhooks = "webhooks"  # receive pushed events

    @property
    def label(self) -> str:
        return {"menu": "Menu and inventory", "sales": "Sales transactions", "customers": "Customers",
                "update_price": "Price updates", "webhooks": "Live updates (webhooks)"}[self.value]


# ----------------------------------------------------------------------------------------------- errors


class IntegrationError(Exception):
    """Something about the vendor or its data: the message is shown to the operator as is."""

    kind = "vendor_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AuthFailed(IntegrationError):
    """401/403: the credentials are wrong, expired or lack a permission. Retrying will not help."""

    kind = "auth_failed"


class VendorUnavailable(IntegrationError):
    """5xx, timeouts, connection errors or rate limiting that outlasted our retries."""

    kind = "unavailable"


class MalformedPayload(IntegrationError):
    """The vendor answered something we cannot read (not JSON, wrong shape, a page missing)."""

    kind = "malformed"


class WebhookRejected(IntegrationError):
    """A webhook we refuse: bad or missing signature, stale timestamp, unknown store or event."""

    kind = "webhook_rejected"


class Unsupported(IntegrationError):
    kind = "unsupported"


# ----------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ConnectionConfig:
    """What an adapter needs to talk to one vendor location (credentials already decrypted)."""

    vendor: str
    base_url: str
    credentials: Mapping[str, Any]
    location_id: str | None = None
    webhook_secret: str | None = None
    rate_key: str = ""  # shared rate budget key (the connection id): all workers draw from one budget
    # VendorHttp keyword overrides (timeout_s, max_retries, backoff_s, max_backoff_s, sleep): tests and benchmarks
    # shorten waits with them; production uses each adapter's defaults.
    http_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class InventoryRecord:
    quantity: Decimal
    unit: str = "each"  # each / g / mg / ml
    unit_cost: Decimal | None = None
    expires_on: date | None = None
    batch: str | None = None
    package_label: str | None = None


@dataclass
class MenuRecord:
    """One sellable product. `values` holds maps.MenuItem fields (name, brand, category, strain_name, strain_type,
    thc_min, thc_max, thc_unit, cbd_min, cbd_max, cbd_unit, terpenes, variants, price, in_stock_qty); a partial
    record (from a webhook) holds only the fields it changes, and `partial` is True."""

    external_id: str
    values: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)
    inventory: InventoryRecord | None = None
    partial: bool = False


@dataclass
class SaleLineRecord:
    product_external_id: str
    name: str = ""
    category: str | None = None
    quantity: Decimal = Decimal("0")
    unit: str = "each"
    unit_price: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    unit_cost: Decimal | None = None


@dataclass
class SaleRecord:
    external_id: str
    occurred_at: datetime  # timezone-aware
    customer_external_id: str | None = None
    subtotal: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    currency: str = "USD"
    is_return: bool = False
    is_void: bool = False
    lines: list[SaleLineRecord] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class CustomerRecord:
    external_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    customer_type: str | None = None  # medical / recreational
    email_opt_in: bool | None = None
    sms_opt_in: bool | None = None
    state: str | None = None
    postal_code: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebhookMessage:
    """A verified webhook, mapped: its id (idempotency), type, the vendor location it is about (to find the
    connection) and what it changes."""

    event_id: str
    event_type: str
    location_id: str | None
    payload: dict[str, Any]
    menu: list[MenuRecord] = field(default_factory=list)
    sales: list[SaleRecord] = field(default_factory=list)
    occurred_at: datetime | None = None


Progress = Callable[[str], None]  # "menu: page 3 of 12"


def no_progress(_: str) -> None:
    return None


# ----------------------------------------------------------------------------------------------- protocols


@runtime_checkable
class Adapter(Protocol):
    vendor: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # What the connect form asks for: credential field -> human label ("location_key": "Location API key").
    credential_fields: ClassVar[dict[str, str]]

    def test_connection(self) -> str:
        """A one-line human answer ("Connected to Green Door, location 1234"); raises IntegrationError."""
        ...


class MenuSource(Protocol):
    def fetch_menu(self, progress: Progress = no_progress) -> list[MenuRecord]:
        """The complete current menu. Raises (never returns a partial list) when any page fails."""
        ...


class SalesSource(Protocol):
    def fetch_sales(self, *, since: datetime, until: datetime, progress: Progress = no_progress) -> list[SaleRecord]:
        ...


class CustomerSource(Protocol):
    def fetch_customers(self, *, since: datetime | None, progress: Progress = no_progress) -> list[CustomerRecord]:
        ...


class PriceWriter(Protocol):
    def update_price(self, external_id: str, price: Decimal) -> None:
        ...


class WebhookSource(Protocol):
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> WebhookMessage:
        """Check the signature / token (self.config.webhook_secret) and the timestamp window, then map the event.
        Raises WebhookRejected with the reason."""
        ...


VENDOR_LABELS = {"dutchie": "Dutchie POS", "treez": "Treez", "flowhub": "Flowhub", "jane": "Jane",
                 "metrc": "Metrc"}


def adapter_class(vendor: str) -> type:
    """The vendor's adapter class (icc_app.integrations.<vendor>.client.Adapter)."""
    if vendor not in VENDOR_LABELS:
        raise Unsupported(f"Unknown vendor {vendor!r}: one of {', '.join(VENDOR_LABELS)}.")
    try:
        module = importlib.import_module(f"icc_app.integrations.{vendor}.client")
    except ModuleNotFoundError as exc:
        raise Unsupported(f"{VENDOR_LABELS[vendor]} is not available yet.") from exc
    return module.Adapter


def make_adapter(config: ConnectionConfig):
    return adapter_class(config.vendor)(config)


def available_vendors() -> list[str]:
    found = []
    for vendor in VENDOR_LABELS:
        try:
            adapter_class(vendor)
        except Unsupported:
            continue
        found.append(vendor)
    return found
