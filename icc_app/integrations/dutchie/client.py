"""Dutchie POS API adapter: one store location, HTTP Basic with the location's API key as the user name and an empty
password. Reads the menu (/products + /reporting/inventory), sales (/reporting/transactions, incremental by last
modified time) and customers (/customer/customers-paginated); writes a product's price back as a location override
(/products/location-overrides: a sparse update, unlike /products/product, which blanks the fields it is not sent).
Never touches the database: each fetch returns the complete result or raises an IntegrationError (never a partial
list).

Rate limits are per endpoint and per key (Dutchie's rate-limit guide: 120/min baseline, 200/min for /inventory and
/whoami, 60/min for reporting; /reporting/transactions documents 600/min), so each endpoint draws from its own
budget, shared by every worker through VendorHttp's rate budget.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

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
    no_progress,
)
from icc_app.integrations.dutchie import pos_mapping, pos_sales
from icc_app.integrations.http import VendorHttp, parse_time

# endpoint bucket -> (calls, per seconds)
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "whoami": (200, 60), "inventory": (200, 60), "products": (120, 60), "customers": (120, 60),
    "reporting_inventory": (60, 60), "transactions": (600, 60),
}
CUSTOMERS_PATH = "/customer/customers-paginated"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    value = _utc(value)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


class Adapter:
    vendor: ClassVar[str] = "dutchie"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.menu, Capability.sales,
                                                               Capability.customers, Capability.update_price})
    credential_fields: ClassVar[dict[str, str]] = {"location_key": "Location API key"}

    SALES_WINDOW: ClassVar[timedelta] = timedelta(days=1)  # one /reporting/transactions call per day of history
    CUSTOMER_PAGE_SIZE: ClassVar[int] = 100  # the pagination guide's maximum
    DEFAULT_TIMEOUT_S: ClassVar[float] = 60.0  # full inventory and product lists of a big store are large

    def __init__(self, config: ConnectionConfig):
        self.config = config
        self._clients: dict[str, VendorHttp] = {}
        self._products: dict[str, dict] | None = None  # from the last fetch_menu: names and categories for sales
        self.location: dict | None = None

    # --- plumbing -----------------------------------------------------------------------------------------
    def _http(self, bucket: str) -> VendorHttp:
        client = self._clients.get(bucket)
        if client is None:
            key = str(self.config.credentials.get("location_key") or "").strip()
            if not key:
                raise AuthFailed("No Dutchie location API key was given: paste the key of this store's location.")
            password = str(self.config.credentials.get("integrator_key") or "")
            options: dict[str, Any] = {"timeout_s": self.DEFAULT_TIMEOUT_S, **self.config.http_options}
            client = VendorHttp(self.config.base_url, vendor=self.vendor, auth=(key, password),
                                rate_limit=RATE_LIMITS[bucket],
                                rate_key=f"{self.config.rate_key or self.config.base_url}:{bucket}", **options)
            self._clients[bucket] = client
        return client

    @property
    def calls(self) -> int:
        """Requests sent so far (retries included), over every endpoint."""
        return sum(client.calls for client in self._clients.values())

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _list(self, bucket: str, path: str, params: dict[str, str]) -> list[Any]:
        data = self._http(bucket).get(path, params=params)
        if not isinstance(data, list):
            raise MalformedPayload(f"Dutchie {path} answered {type(data).__name__} where a list was expected.")
        return data

    # --- connection ---------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        identity = self._http("whoami").get("/whoami")
        if not isinstance(identity, dict) or identity.get("locationId") is None:
            raise MalformedPayload("Dutchie /whoami answered without a location: is the base URL Dutchie's POS API?")
        self.location = identity
        location_id = str(identity["locationId"])
        name = identity.get("locationName") or identity.get("doingBusinessAs") or "an unnamed location"
        expected = str(self.config.location_id or "").strip()
        if expected and expected != location_id:
            raise AuthFailed(f"This key belongs to Dutchie location {location_id} ({name}), not location {expected}: "
                             "use the key of the location you are connecting.")
        place = ", ".join(part for part in (identity.get("city"), identity.get("state")) if part)
        return f"Connected to {name}{f' ({place})' if place else ''}, Dutchie location {location_id}."

    # --- menu -----------------------------------------------------------------------------------------------
    def fetch_menu(self, progress: Progress = no_progress) -> list[MenuRecord]:
        progress("reading products")
        products = self._list("products", "/products", {"isActive": "true"})
        progress(f"{len(products)} products read; reading inventory")
        try:
            packages = self._list("reporting_inventory", "/reporting/inventory", {"includeLabResults": "true"})
        except AuthFailed:
            # A key without the reporting permission may still read /inventory (no unit costs there). A key that
            # is plain wrong fails again here, with the same clear message.
            packages = self._list("inventory", "/inventory", {"includeLabResults": "true"})
        self._products = {str(p["productId"]): p for p in products
                          if isinstance(p, dict) and p.get("productId") is not None}
        progress(f"mapping {len(products)} products and {len(packages)} packages")
        records = pos_mapping.menu_records(products, packages)
        progress(f"{len(records)} items read")
        return records

    # --- sales ----------------------------------------------------------------------------------------------
    def sales_windows(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The last-modified windows one fetch_sales reads: [since, until] cut into SALES_WINDOW pieces (windows
        touch at their edges; a transaction listed twice is kept once)."""
        start, end = _utc(since), _utc(until)
        windows = []
        while start < end:
            stop = min(start + self.SALES_WINDOW, end)
            windows.append((start, stop))
            start = stop
        return windows

    def fetch_sales(self, *, since: datetime, until: datetime, progress: Progress = no_progress) -> list[SaleRecord]:
        """Transactions created or changed (voided, returned against) in the time range, by Dutchie's last-modified
        filter (its transaction-date, last-modified and id filters are mutually exclusive: we send only the
        last-modified pair)."""
        windows = self.sales_windows(since, until)
        found: dict[str, dict] = {}
        for number, (start, stop) in enumerate(windows, 1):
            progress(f"window {number} of {len(windows)} ({start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M})")
            rows = self._list("transactions", "/reporting/transactions", {
                "FromLastModifiedDateUTC": _iso(start), "ToLastModifiedDateUTC": _iso(stop),
                "IncludeDetail": "true", "IncludeTaxes": "true"})
            for row in rows:
                if not isinstance(row, dict) or row.get("transactionId") is None:
                    raise MalformedPayload("Dutchie /reporting/transactions listed a transaction without an id.")
                key = str(row["transactionId"])
                seen = found.get(key)
                if seen is None or self._modified(row) >= self._modified(seen):
                    found[key] = row  # windows touch at their edges: keep the latest version
        records = [record for row in found.values() if (record := pos_sales.sale_record(row, self._products))]
        records.sort(key=lambda r: (r.occurred_at, r.external_id))
        progress(f"{len(records)} transactions read")
        return records

    @staticmethod
    def _modified(row: dict) -> datetime:
        try:
            return parse_time(row.get("lastModifiedDateUTC")) or datetime.min.replace(tzinfo=UTC)
        except MalformedPayload:
            return datetime.min.replace(tzinfo=UTC)

    # --- customers ------------------------------------------------------------------------------------------
    def _customer_page(self, number: int, params: dict[str, str]) -> list[dict]:
        rows = self._list("customers", CUSTOMERS_PATH, {**params, "PageNumber": str(number)})
        if any(not isinstance(row, dict) or row.get("customerId") is None for row in rows):
            raise MalformedPayload(f"Dutchie customers page {number} has a customer without a customerId.")
        return rows

    @staticmethod
    def _page_problem(rows: list[dict], following: list[dict], seen: dict[str, dict], size: int) -> str | None:
        ids = [str(row["customerId"]) for row in rows]
        if len(set(ids)) < len(ids) or any(key in seen for key in ids):
            return "it repeats customers of an earlier page"
        if len(rows) < size and following:
            return "a short page that is not the last one"
        return None

    def fetch_customers(self, *, since: datetime | None, progress: Progress = no_progress) -> list[CustomerRecord]:
        """Every (non-anonymous) customer, or those changed since `since`. Pages are read until an empty one; a page
        that overlaps an earlier one or comes back short before the end is read once more, then the whole fetch
        fails rather than returning a list with holes or doubles."""
        size = self.CUSTOMER_PAGE_SIZE
        params = {"PageSize": str(size), "includeAnonymous": "false"}
        if since is not None:
            params["fromLastModifiedDateUTC"] = _iso(since)
        # Dutchie's API reference numbers pages from 0, its pagination guide from 1: read both and tell which.
        try:
            zero: list[dict] | None = self._customer_page(0, params)
        except IntegrationError as exc:
            if type(exc) is not IntegrationError:  # auth, unavailable, malformed: real failures
                raise
            zero = None  # page 0 refused (400): numbering starts at 1
        one = self._customer_page(1, params)
        ids = [str(r["customerId"]) for r in zero or []]
        if not zero or ids == [str(r["customerId"]) for r in one]:
            number, rows, following = 1, one, None
        else:
            number, rows, following = 0, zero, one
        first = number
        seen: dict[str, dict] = {}
        while rows:
            size = max(size, len(rows))
            if following is None:
                following = self._customer_page(number + 1, params)
            problem = self._page_problem(rows, following, seen, size)
            if problem:  # read the page and the next once more: a glitch heals, a list changing under us does not
                rows, following = self._customer_page(number, params), self._customer_page(number + 1, params)
                problem = self._page_problem(rows, following, seen, size)
                if problem:
                    raise MalformedPayload(f"Dutchie's customer list was inconsistent at page {number} ({problem}); "
                                           "nothing was saved and the next sync will read it again.")
            for row in rows:
                seen[str(row["customerId"])] = row
            progress(f"page {number - first + 1} read ({len(seen)} customers)")
            number, rows, following = number + 1, following, None
        records = [record for row in seen.values() if (record := pos_sales.customer_record(row))]
        progress(f"{len(records)} customers read")
        return records

    # --- price ----------------------------------------------------------------------------------------------
    def update_price(self, external_id: str, price: Decimal) -> None:
        """Set one product's shelf price at this location (retail and recreational alike). Setting a price is
        idempotent, so a retried request after a 5xx does no harm."""
        if not str(external_id).strip().isdigit():
            raise IntegrationError(f"{external_id!r} is not a Dutchie product id.")
        amount = normalize.money(price, field="price")
        if amount is None or amount <= 0:
            raise IntegrationError("A price must be above zero.")
        self._http("products").post("/products/location-overrides", json_body=[{
            "productId": int(str(external_id).strip()), "price": float(amount), "recPrice": float(amount)}])
