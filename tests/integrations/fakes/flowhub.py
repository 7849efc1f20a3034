"""FakeFlowhub: a local server speaking the Flowhub API shapes the adapter uses (clientId/key headers, locations,
inventory by rooms with the forSale flag, paged customers and orders bounded by YYYY-MM-DD dates).

    with FakeFlowhub(client_id="c", api_key="k") as server:
        server.inventory = server.generate_inventory(200, seed=1)
        server.set_quantity(product_id, 3)     # on the For Sale row
        server.set_price(product_id, 1999)     # cents
        server.short_page = ("orders", 2)      # page 2 of orders comes back empty (total unchanged)

Product names, brands, categories and potencies are drawn from the real menu captures in ../shared/data/menus.
"""

from __future__ import annotations

import functools
import json
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply

MENUS = Path(__file__).resolve().parents[4] / "shared" / "data" / "menus"
CLIENT_ID_DEFAULT = "0d702b0b-0000-4000-8000-00000000c11e"
LOCATION_ID_DEFAULT = "5e746577-0000-4000-8000-0000000010c0"
_CATEGORY = {"FLOWER": "PackedBud", "PRE_ROLLS": "PreRolls", "VAPORIZERS": "Cartridges", "CONCENTRATES": "Concentrate",
             "EDIBLES": "Edibles", "TINCTURES": "Tinctures", "TOPICALS": "Topicals", "ACCESSORIES": "Accessories"}
_SPECIES = {"INDICA": "Indica", "SATIVA": "Sativa", "HYBRID": "Hybrid", "INDICA_HYBRID": "Hybrid",
            "SATIVA_HYBRID": "Hybrid", "HIGH_CBD": "CBD"}


@functools.lru_cache(maxsize=1)
def real_products() -> list[dict]:
    """(name, brand, category, species, thc low/high, unit, weight) drawn from the Dutchie-backed capture; a tiny
    built-in list when the shared data is absent."""
    path = MENUS / "shopcuzzies_products.json"
    pool = []
    if path.exists():
        for product in json.loads(path.read_text()):
            name = (product.get("name") or "").split(" | ")
            if not name[0]:
                continue
            option = ((product.get("variants") or [{}])[0] or {}).get("option") or ""
            pool.append({"name": " ".join(p.strip() for p in name[1:2] or name[:1]) or name[0],
                         "brand": product.get("brandName"), "category": _CATEGORY.get(product.get("category"), "Other"),
                         "species": _SPECIES.get(product.get("strainType") or ""),
                         "thc_low": _float(product.get("potencyThcRangeLow")),
                         "thc_high": _float(product.get("potencyThcRangeHigh")),
                         "unit": "mg" if str(product.get("potencyThcUnit") or "%").upper().startswith("MG") else "%",
                         "option": option, "price": _float(product.get("lowestPrice"))})
    return pool or [{"name": "Blue Dream", "brand": "Rocky Mountain", "category": "PackedBud", "species": "Hybrid",
                     "thc_low": 21.0, "thc_high": 23.0, "unit": "%", "option": "3.5g", "price": 35.0}]


def _float(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def inventory_row(*, product_id: str, name: str, price_cents: int, quantity: float, room: str = "Sales Floor",
                  for_sale: bool = True, category: str = "PackedBud", brand: str | None = None,
                  species: str | None = None, thc: tuple[float, float] | None = None,
                  thca: tuple[float, float] | None = None, cbd: tuple[float, float] | None = None,
                  potency_unit: str = "%", weight: float = 1.0, weight_unit: str = "grams",
                  inventory_unit: str = "each", cost_cents: int | None = 500, expires: str | None = None,
                  location_id: str = LOCATION_ID_DEFAULT, **extra: Any) -> dict:
    """One InventoryAnalyticsByRooms row in Flowhub's shape."""
    cannabinoids = []
    for label, pair in (("thc", thc), ("thc-a", thca), ("cbd", cbd)):
        if pair is not None:
            cannabinoids.append({"name": label, "lowerRange": pair[0], "upperRange": pair[1],
                                 "unitOfMeasure": potency_unit, "unitOfMeasureToGramsMultiplier": None})
    row = {
        "brand": brand, "cannabinoidInformation": cannabinoids, "category": category,
        "clientId": CLIENT_ID_DEFAULT, "costInMinorUnits": cost_cents, "createdAt": "2026-01-05T08:30:00.000000Z",
        "currencyCode": "USD", "customCategoryName": None, "effects": [], "expirationDate": expires,
        "inventoryUnitOfMeasure": inventory_unit, "inventoryUnitOfMeasureToGramsMultiplier": 1,
        "invoiceNumber": None, "isMixAndMatch": None, "isSoldByWeight": False, "isStackable": None,
        "locationId": location_id, "locationName": "Headquarters", "manifestId": None, "nutrients": None,
        "parentProductId": f"parent-{product_id}", "parentProductName": name, "postTaxPriceInPennies": price_cents,
        "preTaxPriceInPennies": price_cents, "priceInMinorUnits": price_cents, "priceProfileName": "Default",
        "productDescription": "", "productId": product_id, "productName": name, "productPictureURL": None,
        "productUnitOfMeasure": weight_unit, "productUnitOfMeasureToGramsMultiplier": 1 if weight_unit == "grams"
        else None, "productUpdatedAt": "2026-01-05T08:30:00.000000Z", "productWeight": weight,
        "purchaseCategory": "rec", "quantity": quantity, "regulatoryId": f"1A40403000{product_id[-8:].upper()}",
        "sku": product_id[:10], "speciesName": species,
        "strainName": name if species and category in ("PackedBud", "PreRolls", "Cartridges") else None,
        "supplierName": brand, "tags": [], "terpenes": [], "type": None, "variantId": f"v-{product_id}",
        "variantName": "", "weightTierInformation": None, "roomId": room.lower().replace(" ", "-"), "roomName": room,
        "upc": None, "forSale": for_sale, "supplierLicense": None,
    }
    row.update(extra)
    return row


class FakeFlowhub(FakeVendorServer):
    def __init__(self, *, client_id: str = "client-1", api_key: str = "key-1",
                 location_id: str = LOCATION_ID_DEFAULT, import_id: str | None = None,
                 client_name: str = "Blazed and Infused", location_name: str = "Headquarters",
                 inventory: list[dict] | None = None, customers: list[dict] | None = None,
                 orders: list[dict] | None = None):
        super().__init__()
        self.client_id, self.api_key = client_id, api_key
        self.location_id, self.import_id = location_id, import_id or location_id
        self.client_name, self.location_name = client_name, location_name
        self.inventory: list[dict] = list(inventory or [])
        self.customers: list[dict] = list(customers or [])
        self.orders: list[dict] = list(orders or [])
        self.short_page: tuple[str, int] | None = None  # (list, page) answered empty while total stays
        self.repeat_page: tuple[str, int] | None = None  # (list, page) answered with the previous page's rows

    # --- protocol -----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        if request.headers.get("clientid") != self.client_id or request.headers.get("key") != self.api_key:
            return json_reply({"message": "Unauthorized"}, 401)
        path = request.path
        if path == "/v0/clientsLocations":
            return json_reply({"status": 200, "data": [self._location()]})
        match = re.fullmatch(r"/v0/locations/([^/]+)/InventoryAnalyticsByRooms", path)
        if match:
            if match.group(1) != self.location_id:
                return json_reply({"message": "Location not found"}, 404)
            return json_reply({"status": 200, "data": list(self.inventory)})
        if path in ("/v1/customers/", "/v1/customers"):
            rows = self.customers
            after = request.query.get("updated_after")
            if after:
                if not _is_day(after):
                    return json_reply({"message": "updated_after must be in format yyyy-mm-dd"}, 404)
                rows = [c for c in rows if str(c.get("updatedAt", ""))[:10] >= after]
            return self._page("customers", rows, request)
        match = re.fullmatch(r"/v1/orders/findByLocationId/([^/]+)", path)
        if match:
            if match.group(1) != self.import_id:
                return json_reply({"message": "Location not found"}, 404)
            rows = self.orders
            for name in ("created_after", "created_before"):
                value = request.query.get(name)
                if value and not _is_day(value):
                    return json_reply({"message": f"{name} must be in format yyyy-mm-dd"}, 404)
            if request.query.get("created_after"):
                rows = [o for o in rows if o["createdAt"][:10] >= request.query["created_after"]]
            if request.query.get("created_before"):
                rows = [o for o in rows if o["createdAt"][:10] <= request.query["created_before"]]
            rows = sorted(rows, key=lambda o: o["createdAt"], reverse=request.query.get("order_by") == "desc")
            return self._page("orders", rows, request)
        return json_reply({"message": f"No route {request.method} {path}"}, 404)

    def _location(self) -> dict:
        return {"address": {"city": "Denver", "country": "", "county": None, "state": "Colorado",
                            "streetAddress1": "123 Main Street", "streetAddress2": None, "zip": "80014"},
                "clientId": CLIENT_ID_DEFAULT, "clientName": self.client_name, "email": "info@example.com",
                "hoursOfOperation": None, "importId": self.import_id, "licenseType": ["rec", "med"],
                "locationId": self.location_id, "locationLogoURL": None, "locationName": self.location_name,
                "phoneNumber": "(420) 555-4200", "timeZone": "US/Mountain", "website": "www.example.com"}

    def _page(self, key: str, rows: list[dict], request: Request) -> Reply:
        page = max(1, int(request.query.get("page") or 1))
        size = max(1, int(request.query.get("page_size") or 100))
        chunk = rows[(page - 1) * size: page * size]
        if self.short_page == (key, page):
            chunk = []
        if self.repeat_page == (key, page) and page > 1:
            chunk = rows[(page - 2) * size: (page - 1) * size]
        return json_reply({"total": len(rows), key: chunk})

    # --- data -----------------------------------------------------------------------------------------
    def generate_inventory(self, n: int, seed: int = 0, *, back_stock_share: float = 0.2) -> list[dict]:
        """n products on the For Sale floor drawn from the real menu; about `back_stock_share` of them also hold
        stock in the vault (not for sale), and a few products exist only in the vault."""
        rng = random.Random(seed)
        pool = real_products()
        rows = []
        for index in range(n):
            base = pool[index % len(pool)]
            product_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            name = base["name"] if index < len(pool) else f"{base['name']} #{index // len(pool) + 1}"
            weight = _grams(base["option"]) if base["category"] in ("PackedBud", "PreRolls", "Cartridges",
                                                                   "Concentrate") else None
            low, high = base["thc_low"], base["thc_high"]
            common = dict(product_id=product_id, name=name, brand=base["brand"], category=base["category"],
                          species=base["species"], price_cents=int(round((base["price"] or 20.0) * 100)),
                          thc=(low, high) if low is not None else None, potency_unit=base["unit"],
                          weight=weight or 1.0, weight_unit="grams" if weight else "each",
                          cost_cents=int(round((base["price"] or 20.0) * 45)),
                          expires=(date(2027, 1, 1) + timedelta(days=rng.randint(0, 300))).isoformat())
            rows.append(inventory_row(quantity=rng.randint(0, 60), **common))
            if rng.random() < back_stock_share:
                rows.append(inventory_row(quantity=rng.randint(10, 200), room="Vault", for_sale=False, **common))
        for index in range(max(1, n // 50)):
            rows.append(inventory_row(product_id=f"vault-only-{seed}-{index}", name=f"Vault only {index}",
                                      price_cents=1500, quantity=40, room="Vault", for_sale=False))
        return rows

    def for_sale_row(self, product_id: str) -> dict:
        return next(r for r in self.inventory if r["productId"] == product_id and r["forSale"])

    def set_quantity(self, product_id: str, quantity: float) -> None:
        with self._lock:
            self.for_sale_row(product_id)["quantity"] = quantity

    def set_price(self, product_id: str, cents: int) -> None:
        with self._lock:
            for row in self.inventory:
                if row["productId"] == product_id:
                    row.update(priceInMinorUnits=cents, preTaxPriceInPennies=cents, postTaxPriceInPennies=cents)

    def remove_product(self, product_id: str) -> None:
        with self._lock:
            self.inventory = [r for r in self.inventory if r["productId"] != product_id]

    def add_customer(self, customer_id: str, *, name: str = "Jane Doe", updated: str = "2026-05-01T10:00:00Z",
                     **extra: Any) -> dict:
        row = {"id": customer_id, "createdAt": updated, "updatedAt": updated, "type": "recCustomer", "name": name,
               "state": "CO", "birthDate": "1990-05-15", "isLoyal": True, "loyaltyPoints": 120,
               "phone": "(555) 123-4567", "email": f"{customer_id}@example.com", "streetAddress1": "123 Main St",
               "streetAddress2": "", "city": "Denver", "zip": "80202", "country": "US",
               "consentsToPromotionalEmail": True, "consentsToPromotionalSMS": False, "groups": []}
        row.update(extra)
        self.customers.append(row)
        return row

    def add_order(self, order_id: str, *, created: datetime, status: str = "sold", voided: bool = False,
                  lines: list[tuple[str, int, int]] | None = None, customer_id: str | None = "cust-1",
                  completed: datetime | None = None, **extra: Any) -> dict:
        """An order; lines are (productId, quantity, unit price in cents). Tax is 15% of the subtotal."""
        lines = lines or [("prod-001", 1, 3500)]
        items = [{"id": f"{order_id}-{i}", "category": "PackedBud", "itemDiscounts": [], "parentProductId": f"p-{pid}",
                  "productId": pid, "productName": f"Product {pid}", "quantity": qty, "strainName": "",
                  "sku": pid[:8], "tax": [], "title1": f"Product {pid}", "title2": "", "totalCost": qty * price // 2,
                  "totalPrice": qty * price, "unitOfWeight": "Each", "unitPrice": price, "unitCost": price // 2,
                  "variantId": f"v-{pid}", "brand": "Brand", "type": "PackedBud"} for i, (pid, qty, price)
                 in enumerate(lines)]
        subtotal = sum(i["totalPrice"] for i in items)
        taxes = round(subtotal * 0.15)
        when = created.astimezone(UTC)
        row = {"id": order_id, "budtender": "Alice", "clientId": CLIENT_ID_DEFAULT,
               "createdAt": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "completedOn": (completed or when + timedelta(minutes=5)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "currentPoints": 0, "customerId": customer_id or "", "customerType": "recCustomer", "fulfilledBy": "",
               "fulfilledById": "", "fullName": "Jane Doe", "integratorId": "", "itemsInCart": items,
               "locationId": self.location_id, "name": "Jane Doe", "orderId": f"o-{order_id}", "orderStatus": status,
               "orderType": "walk-in", "originalSaleId": "", "payments": [], "sentToFulfillmentBy": "",
               "sentToFulfillmentById": "",
               "totals": {"FinalTotal": subtotal + taxes, "SubTotal": subtotal, "TotalDiscounts": 0, "TotalFees": 0,
                          "TotalTaxes": taxes}, "voided": voided}
        row.update(extra)
        self.orders.append(row)
        return row


def _is_day(value: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))


def _grams(option: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*g\b", option or "", re.I)
    if match:
        return float(match.group(1))
    match = re.search(r"1/(\d)\s*oz", option or "", re.I)
    return round(28 / int(match.group(1)), 2) if match else None


if __name__ == "__main__":  # a local Flowhub for staging and manual checks: python -m tests.integrations.fakes.flowhub 200
    import sys
    import time

    items = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    fake = FakeFlowhub(client_id="client-1", api_key="key-1").start()
    fake.inventory = fake.generate_inventory(items, seed=1)
    now = datetime.now(UTC)
    for number in range(20):
        fake.add_customer(f"cust-{number}", updated=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        fake.add_order(f"sale-{number}", created=now - timedelta(hours=3 * number + 1), customer_id=f"cust-{number}")
    print(f"Flowhub at {fake.url}  location {fake.location_id}  credentials "
          '{"client_id": "client-1", "api_key": "key-1"}', flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
