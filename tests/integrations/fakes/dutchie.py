"""A local server speaking the Dutchie POS API (as its OpenAPI document describes it): HTTP Basic with the location key
as user name and an empty password (401 otherwise), /whoami, /products, /inventory, /reporting/inventory,
/reporting/transactions (date filters, mutually exclusive: 400 with a ValidationResult when mixed) and
/customer/customers-paginated (PageNumber / PageSize up to 100, a plain array per page); POST
/products/location-overrides sets a product's price at the location.

Its catalog is built from a real Dutchie-backed menu capture (../shared/data/menus/shopcuzzies_products.json): real
names, brands, categories, sizes, prices, stock, lab cannabinoids (THCA and THC apart, % or mg/g) and terpenes,
turned into Dutchie POS shapes (ProductDetail, ReportingInventoryItem with labResults). `generate_inventory(n, seed)`
makes a catalog of any size from the same material (the benchmark syncs 10,000); setters change stock and prices
between syncs; `fail_page` makes a customers page come back short or repeated.

    with FakeDutchie().load_capture() as fake:
        fake.set_stock(fake.product_ids()[0], 0)
"""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply

CAPTURE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "menus" / "shopcuzzies_products.json"
DEFAULT_KEY = "loc-key-7f3a9c"
BASE_DAY = date(2026, 12, 1)  # fixed, so a catalog built twice is the same

# (Dutchie menu category, subcategory) -> (the store's POS category, its master category): store-defined words, as a
# real Dutchie POS location has them.
STORE_CATEGORIES = {
    ("FLOWER", "DEFAULT"): ("Flower", "Flower"), ("FLOWER", "SHAKE_TRIM"): ("Shake/Trim", "Flower"),
    ("PRE_ROLLS", "SINGLES"): ("Singles", "Pre-Rolls"), ("PRE_ROLLS", "PACKS"): ("Pre-Roll Packs", "Pre-Rolls"),
    ("PRE_ROLLS", "INFUSED"): ("Infused Pre-Rolls", "Pre-Rolls"),
    ("VAPORIZERS", "CARTRIDGES"): ("Cartridges", "Vaporizers"), ("VAPORIZERS", "DISPOSABLES"): ("Disposables",
                                                                                               "Vaporizers"),
    ("CONCENTRATES", "RSO"): ("RSO", "Concentrates"), ("CONCENTRATES", "LIVE_RESIN"): ("Live Resin", "Concentrates"),
    ("EDIBLES", "GUMMIES"): ("Gummies", "Edibles"), ("EDIBLES", "DEFAULT"): ("Edibles", "Edibles"),
    ("EDIBLES", "CHEWS"): ("Chews", "Edibles"), ("EDIBLES", "CHOCOLATES"): ("Chocolates", "Edibles"),
    ("TINCTURES", "FLAVORED"): ("Flavored Tinctures", "Tinctures"), ("TOPICALS", "LOTIONS"): ("Lotions", "Topicals"),
    ("TOPICALS", "BALMS"): ("Balms", "Topicals"), ("TOPICALS", "DEFAULT"): ("Topicals", "Topicals"),
}
STRAIN_TYPES = {"INDICA": "Indica", "SATIVA": "Sativa", "HYBRID": "Hybrid", "INDICA_HYBRID": "Hybrid",
                "SATIVA_HYBRID": "Hybrid", "ONE_TO_ONE": "CBD", "HIGH_CBD": "CBD"}
LAB_NAMES = {"THCA": "THCA", "THC-D9": "THC", "CBD": "CBD", "CBDA": "CBDA", "CBG": "CBG", "CBN": "CBN"}
DOSED = {"EDIBLES", "TINCTURES", "TOPICALS"}
FIRST_NAMES = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Iris", "Omar", "Lena", "Caleb", "Rosa", "Dev"]
LAST_NAMES = ["Garcia", "Nguyen", "Smith", "Okafor", "Kowalski", "Haddad", "Rossi", "Chen", "Patel", "Brooks"]


def load_capture(path: Path = CAPTURE) -> list[dict]:
    return json.loads(path.read_text())


def _grams(option: str) -> float | None:
    text = (option or "").strip().lower()
    match = re.match(r"^(\d*\.?\d+)\s*g$", text)
    if match:
        return float(match.group(1))
    match = re.match(r"^(\d+)/(\d+)\s*oz$", text)
    if match:
        return round(28 * int(match.group(1)) / int(match.group(2)), 2)
    match = re.match(r"^(\d+)\s*oz$", text)
    return 28.0 * int(match.group(1)) if match else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lab_results(item: dict, rng: random.Random, drift: float) -> list[dict]:
    results = []
    for cannabinoid in item.get("cannabinoids") or []:
        short = LAB_NAMES.get(cannabinoid["name"].split(" ")[0])
        if short and cannabinoid.get("value") is not None:
            value = cannabinoid["value"] + (drift if short == "THCA" else 0.0)
            results.append({"labTest": short, "value": round(max(value, 0.0), 2),
                            "labResultUnitId": 1 if cannabinoid.get("unit") == "%" else 3,
                            "labResultUnit": cannabinoid.get("unit") or "%"})
    for terpene in item.get("terpenes") or []:
        if terpene.get("value") is not None:
            results.append({"labTest": terpene["name"], "value": terpene["value"],
                            "labResultUnitId": 1 if terpene.get("unit") == "%" else 3,
                            "labResultUnit": terpene.get("unit") or "%"})
    if results:
        results.append({"labTest": "Total Aerobic Count", "value": None, "labResultUnitId": 6,
                        "labResultUnit": "Pass/Fail"})
    return results


def build_catalog(items: list[dict], *, seed: int = 0, start_id: int = 10_000,
                  name_suffix: str = "") -> tuple[list[dict], list[dict]]:
    """Dutchie POS products and inventory packages from menu-capture products (one product each; about a third get a
    second batch with a different THCA result, so their potency is a range)."""
    rng = random.Random(seed)
    products: list[dict] = []
    packages: list[dict] = []
    for index, item in enumerate(items):
        product_id = start_id + index
        variant = (item.get("variants") or [{}])[0]
        category, master = STORE_CATEGORIES.get((item.get("category"), item.get("subCategory")),
                                                (item.get("category", "Other").title(), "Other"))
        name = item["name"] + name_suffix
        strain = name.split(" | ")[0].strip() if item.get("category") not in DOSED else None
        size = (variant.get("option") or "").strip() or None
        weight = _grams(size or "")
        price = float(variant.get("price") or item.get("lowestPrice") or 0)
        quantity = int(float(variant.get("quantity") or 0))
        dosed = item.get("category") in DOSED
        name_mg = re.search(r"(\d+)\s*mg", name, re.I)
        modified = _iso(datetime(2026, 11, 20, 12, tzinfo=UTC) + timedelta(minutes=index))
        products.append({
            "productId": product_id, "sku": item.get("posId") or f"SKU{product_id}", "internalName": name,
            "productName": name, "description": item.get("description"), "masterCategory": master,
            "category": category, "imageUrl": item.get("primaryImage"), "strain": strain,
            "strainType": STRAIN_TYPES.get(item.get("strainType") or ""), "size": size,
            "netWeight": None if dosed else weight, "netWeightUnit": None if dosed or weight is None else "g",
            "brandName": item.get("brandName"), "isCannabis": item.get("category") != "ACCESSORIES",
            "isActive": True, "isCoupon": False,
            "thcContent": float(item["potencyThcRangeLow"]) if item.get("potencyThcRangeLow") else None,
            "thcContentUnit": item.get("potencyThcUnit"),
            "cbdContent": float(item["potencyCbdRangeLow"]) if item.get("potencyCbdRangeLow") else None,
            "cbdContentUnit": item.get("potencyCbdUnit"), "price": price, "recPrice": price,
            "medPrice": round(price * 0.93, 2), "unitCost": round(price * 0.45, 2), "unitType": "Quantity",
            "defaultUnit": "each", "onlineTitle": None, "onlineAvailable": True, "isMedicalOnly": False,
            "lastModifiedDateUTC": modified,
        })
        batches = 2 if quantity >= 4 and rng.random() < 0.33 else 1
        split = [quantity] if batches == 1 else [quantity - quantity // 3, quantity // 3]
        for batch in range(batches):
            inventory_id = product_id * 10 + batch
            expires = BASE_DAY + timedelta(days=(120 if dosed else 270) + rng.randint(0, 180) + 45 * batch)
            drift = 0.0 if batch == 0 else round(rng.uniform(-2.0, 2.0), 2)
            packages.append({
                "inventoryId": inventory_id, "productId": product_id, "sku": products[-1]["sku"],
                "productName": name, "description": item.get("description"), "category": category,
                "masterCategory": master, "quantityAvailable": float(split[batch]), "quantityUnits": "ea",
                "unitWeight": weight or 0.0, "unitWeightUnit": "g", "flowerEquivalent": weight or 0.0,
                "flowerEquivalentUnits": "g", "batchId": inventory_id,
                "batchName": f"{(strain or name)[:10].upper().replace(' ', '')}-{BASE_DAY:%y%m}{batch + 1:02d}",
                "packageId": f"PKG{inventory_id}", "externalPackageId": f"1A40603000{inventory_id:014d}",
                "packageStatus": "Active", "unitPrice": price, "recUnitPrice": price,
                "medUnitPrice": round(price * 0.93, 2), "unitCost": round(price * rng.uniform(0.38, 0.55), 2),
                "strain": strain, "strainType": products[-1]["strainType"], "size": size,
                "labResults": _lab_results(item, rng, drift), "testedDate": _iso(datetime(2026, 10, 1, tzinfo=UTC)),
                "expirationDate": f"{expires.isoformat()}T00:00:00", "lastModifiedDateUtc": modified,
                "labTestStatus": "Passed", "vendor": item.get("brandName"), "brandName": item.get("brandName"),
                "medicalOnly": False, "producer": item.get("brandName"), "isCannabis": True,
                "effectivePotencyMg": float(name_mg.group(1)) if dosed and name_mg else None,
                "potencyIndicator": None, "pricingTierName": None, "alternateName": None,
            })
    return products, packages


def make_inventory(n: int, seed: int = 0, *, capture: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    """n realistic products (and their packages): the capture's products again and again, each pass a new lot with
    its own ids and name, prices and stock drawn near the real ones."""
    source = capture if capture is not None else load_capture()
    rng = random.Random(seed)
    products: list[dict] = []
    packages: list[dict] = []
    for start in range(0, n, len(source)):
        rounds = start // len(source)
        chunk = source[: min(len(source), n - start)]
        if rounds:
            chunk = [_varied(item, rng) for item in chunk]
        made, stock = build_catalog(chunk, seed=seed + rounds, start_id=10_000 + start,
                                    name_suffix=f" (Lot {rounds + 1})" if rounds else "")
        products.extend(made)
        packages.extend(stock)
    return products, packages


def _varied(item: dict, rng: random.Random) -> dict:
    copy = {**item, "variants": [dict(v) for v in item.get("variants") or []],
            "cannabinoids": [dict(c) for c in item.get("cannabinoids") or []]}  # only what changes is copied
    factor = rng.uniform(0.85, 1.15)
    for variant in copy.get("variants") or []:
        variant["price"] = f"{float(variant.get('price') or 0) * factor:.2f}"
        variant["quantity"] = str(rng.randint(0, 40))
    for cannabinoid in copy.get("cannabinoids") or []:
        if cannabinoid.get("value") is not None:
            cannabinoid["value"] = round(cannabinoid["value"] * rng.uniform(0.9, 1.1), 2)
    return copy


def make_customers(n: int, seed: int = 0, *, start_id: int = 500_000) -> list[dict]:
    rng = random.Random(seed)
    customers = []
    for index in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        medical = rng.random() < 0.2
        born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 13_000))
        customers.append({
            "customerId": start_id + index, "uniqueId": f"u-{start_id + index}", "firstName": first,
            "lastName": last, "name": f"{first} {last}", "address1": f"{rng.randint(1, 999)} Main St",
            "city": "Trenton", "state": "NJ", "postalCode": f"08{rng.randint(100, 999)}",
            "phone": None, "cellPhone": f"609555{rng.randint(1000, 9999)}",
            "emailAddress": f"{first.lower()}.{last.lower()}{index}@example.com", "status": "Active",
            "customerType": "Medical" if medical else "Recreational",
            "mmjidNumber": f"NJ{rng.randint(10**6, 10**7)}" if medical else None,
            "dateOfBirth": f"{born.isoformat()}T00:00:00", "creationDate": _iso(datetime(2025, 1, 1, tzinfo=UTC)
                                                                                 + timedelta(hours=index)),
            "lastModifiedDateUTC": _iso(datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=index)),
            "isAnonymous": False, "optedIntoMarketing": rng.random() < 0.6, "mergedIntoCustomerId": None,
            "isLoyaltyMember": rng.random() < 0.5, "loyaltyTier": None, "discountGroups": [],
        })
    return customers


def make_transactions(products: list[dict], customers: list[dict], *, n: int, start: datetime, end: datetime,
                      seed: int = 0, start_id: int = 9_000_000, tax_rate: float = 0.06625) -> list[dict]:
    """n retail transactions spread over [start, end): lines from the catalog, some discounted; about 1 in 25 is a
    return (negative amounts, pointing at an earlier sale) and 1 in 30 is voided later."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    priced = [p for p in products if p.get("price")]
    transactions: list[dict] = []
    for index in range(n):
        when = start + timedelta(seconds=span * (index + rng.random()) / n)
        is_return = index > 5 and rng.random() < 0.04
        sign = -1 if is_return else 1
        items = []
        for line in range(rng.randint(1, 4)):
            product = rng.choice(priced)
            quantity = rng.choice([1, 1, 1, 2])
            unit_price = float(product["price"])
            discount = round(unit_price * quantity * 0.1, 2) if rng.random() < 0.25 else 0.0
            gross = round(unit_price * quantity - discount, 2)
            line_tax = round(gross * tax_rate, 2)
            items.append({
                "transactionId": start_id + index, "productId": product["productId"], "totalPrice": sign * gross,
                "quantity": sign * quantity, "unitPrice": unit_price, "unitCost": product.get("unitCost"),
                "packageId": f"PKG{product['productId'] * 10}", "totalDiscount": sign * discount,
                "inventoryId": product["productId"] * 10, "unitId": 1, "unitWeight": product.get("netWeight"),
                "unitWeightUnit": "g", "discounts": ([{"discountId": 11, "discountName": "10% off", "amount":
                                                       sign * discount, "transactionItemId": line + 1}]
                                                     if discount else []),
                "taxes": [{"rateName": "NJ Sales Tax", "rate": tax_rate, "amount": sign * line_tax,
                           "transactionItemId": line + 1}],
                "returnDate": None, "isReturned": False, "returnedByTransactionId": None, "returnReason": None,
                "batchName": None, "transactionItemId": line + 1, "vendor": product.get("brandName"),
                "isCoupon": False})
        subtotal = round(sum(abs(i["unitPrice"] * i["quantity"]) for i in items), 2)
        discount = round(sum(abs(i["totalDiscount"]) for i in items), 2)
        tax = round(sum(abs(t["amount"]) for i in items for t in i["taxes"]), 2)
        total = round(subtotal - discount + tax, 2)
        customer = rng.choice(customers)["customerId"] if customers and rng.random() < 0.8 else 0
        voided = not is_return and rng.random() < 1 / 30
        modified = when + timedelta(hours=2) if voided else when
        transactions.append({
            "transactionId": start_id + index, "customerId": customer, "employeeId": 77,
            "transactionDate": _iso(when), "voidDate": _iso(modified) if voided else None, "isVoid": voided,
            "subtotal": sign * subtotal, "totalDiscount": sign * discount, "totalBeforeTax": sign * (subtotal - discount),
            "tax": sign * tax, "tipAmount": None, "total": sign * total, "paid": sign * total, "changeDue": 0.0,
            "totalItems": len(items), "terminalName": "Register 1", "isTaxInclusive": False,
            "transactionType": "Retail", "items": items, "discounts": [], "lastModifiedDateUTC": _iso(modified),
            "taxSummary": [{"rateName": "NJ Sales Tax", "amount": sign * tax}],
            "returnOnTransactionId": start_id + index - 3 if is_return else None, "isReturn": is_return,
            "customerTypeId": 2, "isMedical": False, "totalCredit": 0.0, "transactionDateLocalTime": _iso(when),
        })
    return transactions


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _true(value: str | None) -> bool:
    return (value or "").lower() == "true"


class FakeDutchie(FakeVendorServer):
    def __init__(self, *, location_key: str = DEFAULT_KEY, products: list[dict] | None = None,
                 packages: list[dict] | None = None, transactions: list[dict] | None = None,
                 customers: list[dict] | None = None, customer_first_page: int = 1, max_page_size: int = 100,
                 page_zero: str = "first"):
        super().__init__()
        self.location_key = location_key
        self.location = {"locationId": 4417, "lspId": 310, "locationName": "Cuzzies Trenton", "lspName": "Cuzzies LLC",
                         "address": "1 Market St", "city": "Trenton", "state": "NJ", "postalCode": "08608",
                         "licenseNumber": "RE000123", "shareCustomerProfiles": False,
                         "locationGlobalId": "5d0c8f4e-6a39-4d0e-9a1f-2c7b1a9e4417"}
        self.products: dict[int, dict] = {p["productId"]: p for p in products or []}
        self.packages: dict[int, dict] = {p["inventoryId"]: p for p in packages or []}
        self.transactions: dict[int, dict] = {t["transactionId"]: t for t in transactions or []}
        self.customers: list[dict] = list(customers or [])
        self.customer_first_page = customer_first_page
        self.max_page_size = max_page_size
        # What a list numbered from 1 answers for PageNumber=0: "first" (its first page), "empty" or "error" (400).
        self.page_zero = page_zero
        self.overrides: list[dict] = []  # every location override posted, in order
        self.reporting_forbidden = False  # a key without the reporting role: /reporting/* answers 403
        self._page_faults: dict[int, list[str]] = {}

    # --- catalog builders and setters ------------------------------------------------------------------
    def load_capture(self, seed: int = 0) -> FakeDutchie:
        products, packages = build_catalog(load_capture(), seed=seed)
        return self._set_catalog(products, packages)

    def generate_inventory(self, n: int, seed: int = 0) -> FakeDutchie:
        return self._set_catalog(*make_inventory(n, seed))

    def generate_customers(self, n: int, seed: int = 0) -> FakeDutchie:
        self.customers = make_customers(n, seed)
        return self

    def generate_transactions(self, n: int, *, start: datetime, end: datetime, seed: int = 0) -> FakeDutchie:
        made = make_transactions(list(self.products.values()), self.customers, n=n, start=start, end=end, seed=seed)
        self.transactions = {t["transactionId"]: t for t in made}
        return self

    def _set_catalog(self, products: list[dict], packages: list[dict]) -> FakeDutchie:
        with self._lock:
            self.products = {p["productId"]: p for p in products}
            self.packages = {p["inventoryId"]: p for p in packages}
        return self

    def product_ids(self) -> list[int]:
        return list(self.products)

    def packages_of(self, product_id: int) -> list[dict]:
        return [p for p in self.packages.values() if p["productId"] == product_id]

    def set_stock(self, product_id: int, quantity: float) -> None:
        """The product's whole stock becomes `quantity`, in its first package (the others are sold out)."""
        with self._lock:
            for index, package in enumerate(sorted(self.packages_of(product_id), key=lambda p: p["inventoryId"])):
                package["quantityAvailable"] = float(quantity) if index == 0 else 0.0
                package["lastModifiedDateUtc"] = _iso(datetime.now(UTC))

    def set_price(self, product_id: int, price: float) -> None:
        with self._lock:
            product = self.products[product_id]
            product.update(price=price, recPrice=price, lastModifiedDateUTC=_iso(datetime.now(UTC)))
            for package in self.packages_of(product_id):
                package.update(unitPrice=price, recUnitPrice=price)

    def remove_product(self, product_id: int) -> None:
        """Gone from the POS (deactivated, its packages sold or moved)."""
        with self._lock:
            self.products.pop(product_id, None)
            for package in self.packages_of(product_id):
                self.packages.pop(package["inventoryId"], None)

    def add_transaction(self, transaction: dict) -> None:
        with self._lock:
            self.transactions[transaction["transactionId"]] = transaction

    def fail_page(self, page: int, kind: str, *, times: int = 1) -> None:
        """The next `times` reads of customers page `page` come back wrong: "truncate" (half of it) or "repeat"
        (the previous page's customers again, as when pages arrive out of order)."""
        with self._lock:
            self._page_faults.setdefault(page, []).extend([kind] * times)

    # --- protocol -------------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.location_key and password == ""

    def handle(self, request: Request) -> Reply:
        if not self._authorized(request):
            return json_reply({"Message": "Invalid API Key", "TraceId": "0HN7FAKE:00000001"}, 401)
        path = request.path.rstrip("/").lower()
        if request.method == "POST" and path == "/products/location-overrides":
            with self._lock:
                return self._overrides(request)
        if request.method != "GET":
            return json_reply({"Message": "Method not allowed"}, 405)
        if path.startswith("/reporting") and self.reporting_forbidden:
            return json_reply({"Message": "Account not authorized"}, 403)
        routes = {"/whoami": self._whoami, "/products": self._products, "/inventory": self._inventory,
                  "/reporting/inventory": self._reporting_inventory, "/reporting/transactions": self._transactions,
                  "/customer/customers-paginated": self._customers}
        route = routes.get(path)
        if route is None:
            return json_reply({"Message": "Not found"}, 404)
        with self._lock:
            return route(request)

    def _overrides(self, request: Request) -> Reply:
        """Sparse location overrides: a field sent sets it, a field left out keeps it."""
        try:
            overrides = request.json()
        except ValueError:
            return json_reply({"message": "The request body is not JSON", "propertyErrors": None}, 400)
        unknown = [o.get("productId") for o in overrides if o.get("productId") not in self.products]
        if unknown:
            return json_reply({"message": "Validation failed", "propertyErrors": [
                {"propertyName": "ProductId", "errorMessage": f"Product {pid} does not exist"} for pid in unknown]}, 400)
        for override in overrides:
            product = self.products[override["productId"]]
            fields = {k: override[k] for k in ("price", "recPrice") if k in override}
            product.update(fields, lastModifiedDateUTC=_iso(datetime.now(UTC)))
            for package in self.packages_of(product["productId"]):
                if "price" in fields:
                    package["unitPrice"] = fields["price"]
                if "recPrice" in fields:
                    package["recUnitPrice"] = fields["recPrice"]
        self.overrides.extend(overrides)
        return Reply(200)

    def _whoami(self, request: Request) -> Reply:
        return json_reply(dict(self.location))

    def _products(self, request: Request) -> Reply:
        rows = list(self.products.values())
        if request.query.get("isActive") is not None:
            wanted = _true(request.query["isActive"])
            rows = [p for p in rows if bool(p.get("isActive")) == wanted]
        since = _time(request.query.get("fromLastModifiedDateUTC"))
        if since:
            rows = [p for p in rows if (_time(p.get("lastModifiedDateUTC")) or since) >= since]
        return json_reply(rows)

    def _package_rows(self, request: Request, *, with_cost: bool, only_in_stock: bool) -> list[dict]:
        rows = []
        for package in self.packages.values():
            if only_in_stock and package.get("quantityAvailable", 0) <= 0:
                continue
            row = dict(package)
            if not with_cost:
                row.pop("unitCost", None)
            if not _true(request.query.get("includeLabResults")):
                row["labResults"] = None
            rows.append(row)
        return rows

    def _inventory(self, request: Request) -> Reply:
        return json_reply(self._package_rows(request, with_cost=False, only_in_stock=True))

    def _reporting_inventory(self, request: Request) -> Reply:
        return json_reply(self._package_rows(request, with_cost=True, only_in_stock=True))

    def _transactions(self, request: Request) -> Reply:
        query = request.query
        filters = [name for name, keys in (("TransactionId", ("TransactionId",)),
                                          ("LastModifiedDate", ("FromLastModifiedDateUTC", "ToLastModifiedDateUTC")),
                                          ("TransactionDate", ("FromDateUTC", "ToDateUTC")))
                   if any(query.get(k) for k in keys)]
        if len(filters) > 1:
            return json_reply({"isValid": False, "ruleSetsExecuted": ["default"], "errors": [{
                "propertyName": filters[1], "errorMessage": "The use of transactionId, to/from transaction date, and "
                "to/from last modified date are mutually exclusive.", "severity": 0, "errorCode": "PredicateValidator"}]},
                400)
        rows = list(self.transactions.values())
        if query.get("TransactionId"):
            rows = [t for t in rows if str(t["transactionId"]) == query["TransactionId"]]
        for field, low, high in (("lastModifiedDateUTC", "FromLastModifiedDateUTC", "ToLastModifiedDateUTC"),
                                 ("transactionDate", "FromDateUTC", "ToDateUTC")):
            start, end = _time(query.get(low)), _time(query.get(high))
            if start:
                rows = [t for t in rows if _time(t[field]) >= start]
            if end:
                rows = [t for t in rows if _time(t[field]) <= end]
        out = []
        for transaction in sorted(rows, key=lambda t: t["transactionId"]):
            row = dict(transaction)
            if not _true(query.get("IncludeDetail")):
                row["items"] = None
            elif not _true(query.get("IncludeTaxes")):
                row["items"] = [{**item, "taxes": None} for item in row.get("items") or []]
            out.append(row)
        return json_reply(out)

    def _customers(self, request: Request) -> Reply:
        query = request.query
        try:
            number = int(query.get("PageNumber", self.customer_first_page))
            size = int(query.get("PageSize", self.max_page_size))
        except ValueError:
            return json_reply({"Message": "PageNumber and PageSize must be integers"}, 400)
        if size > self.max_page_size or size < 1:
            return json_reply({"Message": "Validation failed", "errors": [{
                "propertyName": "PageSize", "errorMessage": f"PageSize must be between 1 and {self.max_page_size}"}]},
                400)
        if number < self.customer_first_page and self.page_zero == "error":
            return json_reply({"Message": "Validation failed", "errors": [{
                "propertyName": "PageNumber", "errorMessage": "PageNumber must be greater than 0"}]}, 400)
        if number < self.customer_first_page and self.page_zero == "empty":
            return json_reply([])
        rows = sorted(self.customers, key=lambda c: c["customerId"])
        since = _time(query.get("fromLastModifiedDateUTC"))
        if since:
            rows = [c for c in rows if (_time(c.get("lastModifiedDateUTC")) or since) >= since]
        if query.get("includeAnonymous", "true").lower() == "false":
            rows = [c for c in rows if not c.get("isAnonymous")]
        index = max(number, self.customer_first_page) - self.customer_first_page  # page 0 of a 1-based list = 1
        page = rows[index * size:(index + 1) * size]
        faults = self._page_faults.get(number)
        if faults:
            fault = faults.pop(0)
            if fault == "truncate":
                page = page[: len(page) // 2]
            elif fault == "repeat":
                page = rows[max(index - 1, 0) * size:index * size] or page
        return json_reply(page)
