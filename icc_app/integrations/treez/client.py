"""Treez (v2.0 dispensary API) adapter: menu from product_list, sales from tickets, customers, and the INVENTORY /
TICKET webhooks.

Protocol, as Treez documents it:
- Auth: one client id per partner and one API key per Treez location (dispensary), exchanged (form-encoded POST
  {base}/{dispensary}/config/api/gettokens with client_id and apikey) for an access token valid 2 hours. Every call
  sends the headers `authorization: <token>` and `client_id: <client id>`. We cache the token and fetch a new one
  shortly BEFORE it expires (5 minutes, or a tenth of its life when shorter); a 401 on a call fetches a new token
  once and repeats the call, and a second 401 is AuthFailed.
- Menu: GET {base}/{dispensary}/product/product_list?page=N&active=all&above_threshold=true (what Treez asks
  integrators to send since 4/30/25), paged; page_size is left out unless set (Treez recommends leaving it out so it
  sends its maximum; the documented maximum is 1000). Changes since a time: .../product_list/lastUpdated/after/{time}
  (metadata changes only: quantities sold do not move last_updated_at, so it never replaces the full list).
- Tickets and customers: .../ticket|customer/lastUpdated/after/{time}/page/{n}/pagesize/{size}.
- 10 requests per second per Treez location: a VendorHttp rate budget shared by every worker.
- The list API caps sellable_quantity (at 30 today); INVENTORY webhooks carry the true quantity. See mapping.py for
  the "_qty_capped_at" marker the engine uses so a list sync never lowers a higher webhook quantity to the cap.
- Webhooks carry no signature and no timestamp: Treez sends a static `Authorization: Bearer <token>` configured per
  client in the Treez portal (our connection's webhook_secret), compared in constant time. Treez sends no event id
  either, so the id is derived from the delivery's content (see `event_id`).
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from icc_app.integrations import normalize
from icc_app.integrations.base import (
    AuthFailed,
    Capability,
    ConnectionConfig,
    CustomerRecord,
    IntegrationError,
    MalformedPayload,
    MenuRecord,
    Progress,
    SaleRecord,
    WebhookMessage,
    WebhookRejected,
    no_progress,
)
from icc_app.integrations.http import VendorHttp
from icc_app.integrations.treez import mapping

TOKEN_LIFETIME_S = 7200  # when Treez does not say
REFRESH_MARGIN_S = 300
MAX_PAGE_SIZE = 1000
EVENT_TYPES = ("INVENTORY", "TICKET")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TICKET_HISTORY = timedelta(days=30)  # how far back Treez's ticket lastUpdated route reaches


class _Shifted(Exception):
    """The vendor's list moved while we paged through it (duplicates, a changed total): read it again."""


def treez_time(value: datetime) -> str:
    """A time as Treez's lastUpdated routes want it: yyyy-MM-ddTHH:mm:ss.SSS+00:00 (UTC)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"


def event_id(event_type: str, location: str | None, payload: Any) -> str:
    """Treez sends no event id. The id is a hash of the delivery's content, canonicalised (keys sorted), so a
    redelivery of the same event gets the same id whatever its whitespace or key order. Two distinct events with
    byte-identical content share an id; that is harmless because Treez events carry absolute state (a package's
    quantities, a ticket as it now is), not deltas."""
    return f"{event_type.lower()}:{location or '-'}:{normalize.content_hash(payload)[:48]}"


class Adapter:
    vendor: ClassVar[str] = "treez"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.menu, Capability.sales, Capability.customers, Capability.update_price, Capability.webhooks})
    credential_fields: ClassVar[dict[str, str]] = {
        "client_id": "Client ID (from Treez)",
        "api_key": "Location API key",
        # The dispensary is normally the connection's location ID; here for connections made without one.
        "dispensary": "Dispensary short name, as in <name>.treez.io (optional)",
    }
    rate_limit: ClassVar[tuple[int, int]] = (10, 1)  # 10 TPS per Treez location
    ticket_page_size: ClassVar[int] = 50
    customer_page_size: ClassVar[int] = 50

    def __init__(self, config: ConnectionConfig, *, page_size: int | None = None,
                 quantity_cap: int | None = mapping.QUANTITY_CAP):
        """`page_size`: None leaves it out (Treez then sends its maximum, as it recommends); at most 1000.
        `quantity_cap`: the list API's sellable_quantity cap (None if Treez lifts it)."""
        self.config = config
        credentials = config.credentials or {}
        self.client_id = str(credentials.get("client_id") or "").strip()
        self.api_key = str(credentials.get("api_key") or credentials.get("apikey") or "").strip()
        self.dispensary = str(config.location_id or credentials.get("dispensary") or "").strip()
        self.page_size = min(int(page_size), MAX_PAGE_SIZE) if page_size else None
        self.quantity_cap = quantity_cap
        self.clock: Callable[[], float] = time.time  # tests move it to see a refresh before expiry
        self._token: str | None = None
        self._expires_at = 0.0
        self._margin = REFRESH_MARGIN_S
        self.token_fetches = 0
        options: dict[str, Any] = {"vendor": "treez", "rate_limit": self.rate_limit,
                                   "rate_key": config.rate_key or f"{config.base_url}#{self.dispensary}",
                                   **dict(config.http_options or {})}
        self.auth_http = VendorHttp(config.base_url, **options)
        self.http = VendorHttp(config.base_url, headers=self._headers, **options)
        self._root = f"/{quote(self.dispensary, safe='')}"

    def close(self) -> None:
        self.http.close()
        self.auth_http.close()

    # ------------------------------------------------------------------------------------------- auth

    def _headers(self) -> dict[str, str]:
        return {"authorization": self._token or "", "client_id": self.client_id}

    def _check_credentials(self) -> None:
        missing = [label for value, label in ((self.client_id, "client ID"), (self.api_key, "API key"),
                                              (self.dispensary, "dispensary short name (the connection's location)"))
                   if not value]
        if missing:
            raise AuthFailed(f"Treez needs the {', '.join(missing)} for this connection.")

    def _ensure_token(self, *, force: bool = False) -> None:
        self._check_credentials()
        now = self.clock()
        if not force and self._token and now < self._expires_at - self._margin:
            return
        try:
            body = self.auth_http.post(f"{self._root}/config/api/gettokens",
                                       data={"client_id": self.client_id, "apikey": self.api_key})
        except AuthFailed as exc:
            raise AuthFailed(f"Treez refused the client ID or API key for dispensary {self.dispensary!r}: check both "
                             "and that the key belongs to this location.") from exc
        if not isinstance(body, dict):
            raise MalformedPayload("Treez answered the token request with something other than a JSON object.")
        token = body.get("access_token")
        if str(body.get("resultCode") or "SUCCESS").upper() != "SUCCESS" or not token:
            reason = normalize.text(body.get("resultReason") or body.get("resultDetail") or body.get("message"), 160)
            raise AuthFailed(f"Treez did not issue a token for dispensary {self.dispensary!r}"
                             + (f": {reason}" if reason else "."))
        lifetime = normalize.number(body.get("expires_in")) or TOKEN_LIFETIME_S
        self._token = str(token)
        self._expires_at = now + lifetime
        self._margin = min(REFRESH_MARGIN_S, lifetime / 10)
        self.token_fetches += 1

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        """GET with a valid token; on a 401 (or a token complaint in the body) one fresh token and one more try."""
        self._ensure_token()
        try:
            return self._checked(self.http.get(path, params=params), path)
        except AuthFailed:
            self._ensure_token(force=True)
            try:
                return self._checked(self.http.get(path, params=params), path)
            except AuthFailed as exc:
                raise AuthFailed(f"Treez refused a fresh access token on {path.split('/', 2)[-1]}: the API key may "
                                 "lack access to this data or this location.") from exc

    @staticmethod
    def _checked(body: Any, path: str) -> dict:
        if not isinstance(body, dict):
            raise MalformedPayload(f"Treez answered {path} with something other than a JSON object.")
        code = str(body.get("resultCode") or "SUCCESS").upper()
        if code != "SUCCESS":
            reason = normalize.text(body.get("resultReason") or body.get("resultDetail") or body.get("message"),
                                    160) or code
            if any(word in reason.lower() for word in ("token", "unauthori", "authentic", "expired")):
                raise AuthFailed(f"Treez refused the access token: {reason}")
            raise IntegrationError(f"Treez refused the request: {reason}")
        return body

    # ------------------------------------------------------------------------------------------- connection

    def test_connection(self) -> str:
        self._ensure_token(force=True)
        body = self._get(f"{self._root}/product/product_list",
                         {"page": 1, "page_size": 1, "active": "all", "above_threshold": "true"})
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        total = data.get("total_count")
        count = f"{total} products for sale" if isinstance(total, int) else "products readable"
        return f"Connected to Treez dispensary {self.dispensary}: {count}."

    # ------------------------------------------------------------------------------------------- menu

    def fetch_menu(self, progress: Progress = no_progress) -> list[MenuRecord]:
        """Every product Treez lists as sellable above the display threshold (active and deactivated), mapped.
        A product that drops out of this list has no sellable stock left above the threshold."""
        products = self._products(f"{self._root}/product/product_list",
                                  {"active": "all", "above_threshold": "true"}, progress)
        # A product the retailer hides from its online menu is left out, so the engine takes it off ours like any
        # product Treez stops listing (a skipped record would keep showing what we had).
        shown = [p for p in products if not mapping.hidden_from_menu(p)]
        if hidden := len(products) - len(shown):
            progress(f"{hidden} product{'s' if hidden != 1 else ''} hidden from the menu in Treez left out")
        return [mapping.product_record(p, quantity_cap=self.quantity_cap) for p in shown]

    def fetch_menu_changes(self, *, since: datetime, progress: Progress = no_progress) -> list[MenuRecord]:
        """Products whose metadata (name, price, potency...) changed after `since`: NOT the whole menu (products
        missing from it did not disappear) and not a stock update (sales do not move last_updated_at)."""
        path = f"{self._root}/product/product_list/lastUpdated/after/{quote(treez_time(since), safe='')}"
        products = self._products(path, {"active": "all"}, progress)
        return [mapping.product_record(p, quantity_cap=self.quantity_cap) for p in products]

    def _products(self, path: str, params: dict[str, Any], progress: Progress) -> list[dict]:
        for attempt in range(2):
            try:
                return self._product_pages(path, params, progress)
            except _Shifted as exc:
                if attempt:
                    raise MalformedPayload(f"Treez's product list kept changing while we read it ({exc}); the next "
                                           "sync will try again.") from None
                progress("the product list changed while reading, starting again")
        raise AssertionError("unreachable")

    def _product_pages(self, path: str, params: dict[str, Any], progress: Progress) -> list[dict]:
        seen: dict[str, dict] = {}
        total: int | None = None
        first_page_size = 0
        page = 1
        while True:
            query = {"page": page, **params}
            if self.page_size:
                query["page_size"] = self.page_size
            data = self._get(path, query).get("data")
            if not isinstance(data, dict) or not isinstance(data.get("product_list", []), list):
                raise MalformedPayload(f"Treez's product list page {page} has no data.product_list.")
            items = data.get("product_list") or []
            page_total = data.get("total_count")
            if page_total is not None and (not isinstance(page_total, int) or page_total < 0):
                raise MalformedPayload(f"Treez's product list page {page} has an unreadable total_count.")
            if total is None:
                total = page_total
            elif page_total is not None and page_total != total:
                raise _Shifted(f"the total went from {total} to {page_total} at page {page}")
            for item in items:
                if not isinstance(item, dict) or not item.get("product_id"):
                    raise MalformedPayload(f"Treez's product list page {page} has an item without a product_id.")
                key = str(item["product_id"])
                if key in seen:
                    raise _Shifted(f"product {key[:40]} came twice, again on page {page}")
                seen[key] = item
            first_page_size = first_page_size or len(items)
            if total is not None:
                pages = max(1, math.ceil(total / first_page_size)) if first_page_size else 1
                progress(f"page {page} of {pages} ({len(seen)} of {total} products)")
                if len(seen) >= total:
                    break
                if not items:
                    raise MalformedPayload(f"Treez's product list page {page} came back empty after {len(seen)} of "
                                           f"{total} products: the list is incomplete, nothing was applied.")
                if page > total + 1:
                    raise MalformedPayload("Treez's product list never reached its total.")
            else:
                progress(f"page {page} ({len(seen)} products)")
                expected = self.page_size or first_page_size
                if not items or len(items) < expected:
                    break
                if page >= 100_000:
                    raise MalformedPayload("Treez's product list never ended.")
            page += 1
        if total is not None and len(seen) != total:
            raise MalformedPayload(f"Treez said {total} products but sent {len(seen)}: nothing was applied.")
        return list(seen.values())

    def reconcile_patches(self, records: list[MenuRecord]) -> list[MenuRecord]:
        """An INVENTORY webhook describes ONE package (inventory card); a product can have several, so the package's
        count alone can understate the product (or say 0 while another package still sells). For the worker that
        applies webhook patches (not the receiving endpoint): read those products' list quantities (50 ids a call)
        and return the patches with the best figure: the list's when it is below the cap (then it is exact, every
        package counted), else the larger of the list's (capped) figure and the package's count. A product the list
        does not return keeps the package's count."""
        wanted = list(dict.fromkeys(r.external_id for r in records if r.partial and "in_stock_qty" in r.values))
        listed: dict[str, Any] = {}
        for start in range(0, len(wanted), 50):
            chunk = wanted[start:start + 50]
            data = self._get(f"{self._root}/product/product_list",
                             {"page": 1, "active": "all", "id": ",".join(chunk)}).get("data")
            items = data.get("product_list") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise MalformedPayload("Treez's product list by id has no data.product_list.")
            for item in items:
                if isinstance(item, dict) and str(item.get("product_id")) in chunk:
                    listed[str(item["product_id"])] = mapping.sellable_quantity(item)
        out = []
        for record in records:
            if record.external_id in listed and record.partial and "in_stock_qty" in record.values:
                list_qty = int(listed[record.external_id])
                package_qty = int(normalize.number(record.values["in_stock_qty"]) or 0)
                capped = self.quantity_cap is not None and list_qty >= self.quantity_cap
                quantity = max(list_qty, package_qty) if capped else list_qty
                inventory = (dataclasses.replace(record.inventory, quantity=Decimal(quantity))
                             if record.inventory is not None else None)
                record = dataclasses.replace(record, values={**record.values, "in_stock_qty": quantity},
                                             inventory=inventory)
            out.append(record)
        return out

    # ------------------------------------------------------------------------------------------- price

    def update_price(self, external_id: str, price: Decimal) -> None:
        """Set a product's flat sell price: PUT .../product/update/{id} with the product's type and configurable
        fields as Treez holds them (read first) and the new pricing. Refused for tier-priced products (the tier sets
        the price) and by Treez for locations on Treez Catalog (the Product API is read-only there)."""
        amount = normalize.money(price, field="price")
        if amount is None or amount <= 0:
            raise IntegrationError("A Treez price must be above zero.")
        path = f"{self._root}/product/{quote(str(external_id), safe='')}"
        data = self._get(path).get("data")
        if isinstance(data, dict) and isinstance(data.get("product_list"), list):
            data = data["product_list"][0] if data["product_list"] else None
        if not isinstance(data, dict) or not data.get("product_id"):
            raise MalformedPayload(f"Treez did not return product {str(external_id)[:40]}.")
        pricing = data.get("pricing") if isinstance(data.get("pricing"), dict) else {}
        if str(pricing.get("price_type") or "FLAT").upper() == "TIER":
            raise IntegrationError(f"This product is priced by the tier {pricing.get('tier_name') or ''!s}"
                                   .rstrip() + " in Treez: change the tier there.")
        body = {"category_type": data.get("category_type"),
                "product_configurable_fields": data.get("product_configurable_fields") or {},
                "pricing": {"price_type": "FLAT", "price_sell": float(amount), "tier_name": None}}
        self._ensure_token()
        update = f"{self._root}/product/update/{quote(str(external_id), safe='')}"
        try:
            answer = self.http.put(update, json_body=body)
        except AuthFailed:
            self._ensure_token(force=True)
            answer = self.http.put(update, json_body=body)
        self._checked(answer if answer is not None else {}, update)

    # ------------------------------------------------------------------------------------------- sales, customers

    def fetch_sales(self, *, since: datetime, until: datetime, progress: Progress = no_progress) -> list[SaleRecord]:
        """Completed tickets (and canceled ones, as voids) last updated in [since, until) (at most the last 30 days:
        Treez's limit). Tickets still in progress
        (draft, awaiting processing, packed, out for delivery) are not sales yet; a later run picks them up once
        they complete, because completing a ticket moves its last_updated_at."""
        # Treez answers the ticket lastUpdated route only for the last 30 days: older history is out of reach.
        earliest = datetime.now(UTC) - TICKET_HISTORY + timedelta(minutes=10)
        tickets = self._path_pages("ticket", max(since, earliest), "ticketList", "ticket_id", self.ticket_page_size,
                                   progress)
        records = []
        for ticket in tickets:
            updated = mapping.ticket_updated_at(ticket)
            if updated is not None and not (since <= updated < until):
                continue
            if mapping.is_sale(ticket):
                records.append(mapping.ticket_record(ticket))
        return sorted(records, key=lambda r: (r.occurred_at, r.external_id))

    def fetch_customers(self, *, since: datetime | None, progress: Progress = no_progress) -> list[CustomerRecord]:
        customers = self._path_pages("customer", since or EPOCH, "data", "customer_id", self.customer_page_size,
                                     progress)
        return [mapping.customer_record(c) for c in customers]

    def _path_pages(self, kind: str, since: datetime, key: str, id_key: str, size: int,
                    progress: Progress) -> list[dict]:
        """Pages of /{kind}/lastUpdated/after/{time}/page/{n}/pagesize/{size} until a short page. Treez lists newest
        first, so a record updated while we page shifts the others: a record seen twice means the list moved, and we
        read it again once (then fail rather than risk a record skipped)."""
        # "after" is strict on Treez's side and our windows include `since`: ask from a second earlier (a record
        # exactly at the cursor is not lost); the caller filters to its window.
        stamp = quote(treez_time(since - timedelta(seconds=1)), safe="")
        for attempt in range(2):
            seen: dict[str, dict] = {}
            page = 1
            try:
                while True:
                    body = self._get(f"{self._root}/{kind}/lastUpdated/after/{stamp}/page/{page}/pagesize/{size}")
                    items = body.get(key)
                    if items is None:
                        items = []
                    if not isinstance(items, list):
                        raise MalformedPayload(f"Treez's {kind} page {page} has no {key} list.")
                    for item in items:
                        if not isinstance(item, dict) or item.get(id_key) in (None, ""):
                            raise MalformedPayload(f"Treez's {kind} page {page} has an item without {id_key}.")
                        ident = str(item[id_key])
                        if ident in seen:
                            raise _Shifted(f"{kind} {ident[:40]} came twice")
                        seen[ident] = item
                    progress(f"{kind}s page {page} ({len(seen)} so far)")
                    if len(items) < size:
                        return list(seen.values())
                    page += 1
                    if page > 100_000:
                        raise MalformedPayload(f"Treez's {kind} list never ended.")
            except _Shifted as exc:
                if attempt:
                    raise MalformedPayload(f"Treez's {kind} list kept changing while we read it ({exc}); the next "
                                           "sync will try again.") from None
                progress(f"the {kind} list changed while reading, starting again")
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------------------- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, *, now: datetime) -> WebhookMessage:
        """Check the static bearer token (constant time), then map an INVENTORY or TICKET event. Treez signs nothing
        and sends no timestamp, so there is no time window to check; replays are absorbed by the event id (the same
        content is the same event) and by the events carrying absolute state."""
        secret = self.config.webhook_secret
        if not secret:
            raise WebhookRejected("This Treez connection has no webhook token configured: set one in the connection "
                                  "and the same token in Treez's webhook settings.")
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        given = lowered.get("authorization", "").strip()
        if not given:
            raise WebhookRejected("Treez webhook without an Authorization header.")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise WebhookRejected("Treez webhook Authorization is not 'Bearer <token>'.")
        if not hmac.compare_digest(token.strip().encode(), secret.encode()):
            raise WebhookRejected("Treez webhook token does not match this connection's token.")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRejected("Treez webhook body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookRejected("Treez webhook body is not a JSON object.")
        event_type = str(payload.get("event_type") or "").strip().upper()
        if event_type not in EVENT_TYPES:
            shown = normalize.text(payload.get("event_type"), 40) or "none"
            raise WebhookRejected(f"Unknown Treez event type {shown!r}: only INVENTORY and TICKET are handled.")
        location = normalize.text(payload.get("dispensary_short_name"), 120)
        if location and location.lower() != self.dispensary.lower():
            raise WebhookRejected(f"Treez webhook for dispensary {location!r} reached the connection for "
                                  f"{self.dispensary!r}.")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise WebhookRejected(f"Treez {event_type} webhook without a data object.")
        message = WebhookMessage(event_id=event_id(event_type, location or self.dispensary, payload),
                                 event_type=event_type, location_id=location or self.dispensary, payload=payload)
        try:
            if event_type == "INVENTORY":
                message.menu = [mapping.inventory_record(data)]
            else:
                message.occurred_at = mapping.ticket_updated_at(data)
                if mapping.is_sale(data):
                    message.sales = [mapping.ticket_record(data)]
        except MalformedPayload as exc:
            raise WebhookRejected(f"Treez {event_type} webhook cannot be read: {exc.message}") from None
        return message


__all__ = ["Adapter", "event_id", "treez_time"]
