"""Flowhub adapter: the public Flowhub API with `clientId` and `key` headers.

- test_connection: GET /v0/clientsLocations, and the configured location must be one of them.
- fetch_menu: GET /v0/locations/{locationId}/InventoryAnalyticsByRooms (every room, with its forSale flag); only
  For Sale stock reaches the menu.
- fetch_customers: GET /v1/customers/ paged (page, page_size, updated_after as YYYY-MM-DD).
- fetch_sales: GET /v1/orders/findByLocationId/{importId} paged, bounded by created_after / created_before (store
  local dates, YYYY-MM-DD; we widen the window by a day each side and filter on the exact completion time).

Every page must arrive: a short, missing or inconsistent page raises MalformedPayload and nothing is returned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from icc_app.integrations.base import (AuthFailed, Capability, ConnectionConfig, CustomerRecord, IntegrationError,
                                       MalformedPayload, MenuRecord, Progress, SaleRecord, no_progress)
from icc_app.integrations.flowhub import mapping
from icc_app.integrations.http import VendorHttp

PAGE_SIZE = 100
MAX_PAGES = 10_000


class Adapter:
    vendor: ClassVar[str] = "flowhub"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.menu, Capability.sales,
                                                               Capability.customers})
    # The location is the connection's location ID (Flowhub's locationId or importId); with none, an account with a
    # single location uses it.
    credential_fields: ClassVar[dict[str, str]] = {"client_id": "Client ID", "api_key": "API key"}

    def __init__(self, config: ConnectionConfig, *, page_size: int = PAGE_SIZE):
        self.config = config
        creds = config.credentials or {}
        self.client_id = str(creds.get("client_id") or "").strip()
        self.api_key = str(creds.get("api_key") or "").strip()
        self.location_id = str(config.location_id or "").strip() or None
        self.page_size = int(page_size)
        options = {"rate_limit": (40, 1), "rate_key": config.rate_key or f"{config.base_url}#{self.client_id}",
                   **dict(config.http_options or {})}
        self.http = VendorHttp(config.base_url, vendor="flowhub",
                               headers={"clientId": self.client_id, "key": self.api_key}, **options)
        self._location: dict | None = None

    def _check_credentials(self) -> None:
        missing = [label for value, label in ((self.client_id, "client ID"), (self.api_key, "API key")) if not value]
        if missing:
            raise AuthFailed(f"Flowhub needs the {' and the '.join(missing)}.")

    def close(self) -> None:
        self.http.close()

    # --- connection -------------------------------------------------------------------------------
    def location(self) -> dict:
        """The configured location from /v0/clientsLocations (the only one when none is configured)."""
        if self._location is not None:
            return self._location
        self._check_credentials()
        locations = self._data(self.http.get("/v0/clientsLocations"), "locations")
        if self.location_id is None:
            if len(locations) != 1:
                names = ", ".join(f"{loc.get('locationName')} ({loc.get('locationId')})" for loc in locations[:10])
                raise IntegrationError(f"This Flowhub account has {len(locations)} locations: choose one of "
                                       f"{names or 'none'} as the location ID.")
            self._location = locations[0]
        else:
            match = [loc for loc in locations if self.location_id in (str(loc.get("locationId")),
                                                                       str(loc.get("importId")))]
            if not match:
                raise IntegrationError(f"Flowhub location {self.location_id} is not in this account "
                                       f"({len(locations)} locations found): check the location ID.")
            self._location = match[0]
        self.location_id = str(self._location.get("locationId"))
        return self._location

    def test_connection(self) -> str:
        location = self.location()
        return (f"Connected to {location.get('clientName') or 'Flowhub'}, location "
                f"{location.get('locationName') or location.get('locationId')}")

    # --- menu ---------------------------------------------------------------------------------------
    def fetch_menu(self, progress: Progress = no_progress) -> list[MenuRecord]:
        location_id = self.location()["locationId"]
        progress("reading inventory")
        payload = self.http.get(f"/v0/locations/{location_id}/InventoryAnalyticsByRooms",
                                params={"includesNotForSaleQuantity": "true"})
        rows = self._data(payload, "inventory")
        records = mapping.menu_records(rows)
        progress(f"{len(records)} products for sale ({len(rows)} inventory rows)")
        return records

    # --- customers ----------------------------------------------------------------------------------
    def fetch_customers(self, *, since: datetime | None, progress: Progress = no_progress) -> list[CustomerRecord]:
        params: dict[str, Any] = {}
        if since is not None:
            params["updated_after"] = since.date().isoformat()
        rows = self._pages("/v1/customers/", "customers", params, progress)
        return [mapping.customer_record(row) for row in rows]

    # --- sales --------------------------------------------------------------------------------------
    def fetch_sales(self, *, since: datetime, until: datetime, progress: Progress = no_progress) -> list[SaleRecord]:
        location = self.location()
        import_id = location.get("importId") or location.get("locationId")
        params = {"created_after": (since - timedelta(days=1)).date().isoformat(),
                  "created_before": (until + timedelta(days=1)).date().isoformat(), "order_by": "asc"}
        rows = self._pages(f"/v1/orders/findByLocationId/{import_id}", "orders", params, progress)
        sales = []
        for row in rows:
            if not isinstance(row, dict):
                raise MalformedPayload("Flowhub orders: an order is not an object.")
            if not mapping.is_sale(row):
                continue
            if since <= mapping.sale_occurred_at(row) < until:
                sales.append(mapping.sale_record(row))
        sales.sort(key=lambda s: (s.occurred_at, s.external_id))
        return sales

    # --- paging -------------------------------------------------------------------------------------
    def _pages(self, path: str, key: str, params: dict[str, Any], progress: Progress) -> list[dict]:
        """Every row of a paged list, by id (a row repeated across pages counts once). Raises when a page is
        missing or short before the announced total, or the answer has no list."""
        by_id: dict[str, dict] = {}
        total: int | None = None
        for page in range(1, MAX_PAGES + 1):
            payload = self.http.get(path, params={**params, "page": page, "page_size": self.page_size})
            rows = self._data(payload, key)
            if isinstance(payload, dict) and isinstance(payload.get("total"), int):
                total = payload["total"]
            for row in rows:
                if not isinstance(row, dict) or not row.get("id"):
                    raise MalformedPayload(f"Flowhub {key}: a row without an id on page {page}.")
                by_id[str(row["id"])] = row
            progress(f"page {page}" + (f", {len(by_id)} of {total}" if total is not None else ""))
            if total is not None:
                if len(by_id) >= total:
                    return list(by_id.values())
                if len(rows) < self.page_size:
                    raise MalformedPayload(f"Flowhub {key}: page {page} ended after {len(by_id)} of {total} rows "
                                           "(a page is missing or short); nothing was applied.")
            elif len(rows) < self.page_size:
                return list(by_id.values())
        raise MalformedPayload(f"Flowhub {key}: more than {MAX_PAGES} pages.")

    @staticmethod
    def _data(payload: Any, key: str) -> list:
        if isinstance(payload, list):
            return payload
        if isinstance(payload, dict):
            for name in (key, "data"):
                if isinstance(payload.get(name), list):
                    return payload[name]
        raise MalformedPayload(f"Flowhub answered without a {key} list.")
