"""A local server speaking Treez's v2.0 dispensary API (as Treez documents it; see icc_app/integrations/treez/client.py):
the token exchange, product_list with its filters and paging, lastUpdated routes, tickets and customers, token checks
(401 on an expired or wrong token), the sellable quantity cap, plus builders of INVENTORY / TICKET webhook deliveries.

    with FakeTreez(products=FakeTreez.generate_products(120, seed=1), default_page_size=50) as server:
        server.token_ttl_s = 60                     # tokens expire sooner
        server.set_stock(pid, 75)                   # the true quantity (the list shows min(75, cap))
        headers, body = server.inventory_webhook(pid, available=75)

Without page_size, Treez sends its maximum (1000 on most instances): so does the fake (`default_page_size`).
Products are built in Treez's shapes with names, brands, categories, potencies and prices drawn from the real menu
captures in ../shared/data/menus (when present; a small made-up catalog otherwise).
"""

from __future__ import annotations

import functools
import json
import random
import re
import secrets
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply

PACIFIC = timezone(timedelta(hours=-8))
MENUS = Path(__file__).resolve().parents[4] / "shared" / "data" / "menus"
SELLABLE_CAP = 30
THCA_TO_THC = 0.877

_CATEGORY_TYPES = {"FLOWER": "FLOWER", "PRE_ROLLS": "PREROLL", "VAPORIZERS": "CARTRIDGE", "CONCENTRATES": "EXTRACT",
                   "EDIBLES": "EDIBLE", "TINCTURES": "TINCTURE", "TOPICALS": "TOPICAL", "ACCESSORIES": "MERCH"}
_CLASSIFICATIONS = {"INDICA": "INDICA", "INDICA_HYBRID": "HYBRID", "HYBRID": "HYBRID", "SATIVA_HYBRID": "HYBRID",
                    "SATIVA": "SATIVA", "ONE_TO_ONE": "CBD", "HIGH_CBD": "CBD"}
_FALLBACK = [  # used only when the menu captures are absent
    {"name": "House Indica Flower", "brand": "House", "category": "FLOWER", "strain": "INDICA", "thc": 21.0,
     "unit": "%", "price": 35.0, "option": "1/8oz"},
    {"name": "Citrus Sativa Pre-Roll", "brand": "House", "category": "PRE_ROLLS", "strain": "SATIVA", "thc": 18.5,
     "unit": "%", "price": 12.0, "option": "1g"},
    {"name": "Berry Gummies 100mg", "brand": "Sample Edibles", "category": "EDIBLES", "strain": "HYBRID", "thc": 100.0,
     "unit": "mg", "price": 20.0, "option": "10pk"},
    {"name": "Mango Cartridge", "brand": "Sample Vapes", "category": "VAPORIZERS", "strain": "HYBRID", "thc": 84.0,
     "unit": "%", "price": 40.0, "option": ".5g"},
]


def treez_time(value: datetime) -> str:
    """Treez's timestamp style: 2019-06-25T02:43:08.000-08:00."""
    local = value.astimezone(PACIFIC)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}-08:00"


def parse_treez_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@functools.cache
def _catalog() -> tuple[dict, ...]:
    """Menu entries from the Dutchie-backed real capture: name, brand, category, strain, THC, price, size."""
    path = MENUS / "shopcuzzies_products.json"
    if not path.exists():
        return tuple(_FALLBACK)
    entries = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        variants = item.get("variants") or [{}]
        try:
            price = float(variants[0].get("price") or item.get("lowestPrice") or 0)
            thc = float(item.get("potencyThcRangeHigh") or 0)
        except (TypeError, ValueError):
            continue
        if item.get("category") not in _CATEGORY_TYPES or price <= 0:
            continue
        cbd = item.get("potencyCbdRangeHigh")
        brand = str(item.get("brandName") or "")
        parts = [part.strip() for part in str(item.get("name") or "").split(" | ") if part.strip()]
        named = [part for part in parts if part.lower() != brand.lower() and not re.match(r"^\d+\s*mg\b", part, re.I)]
        entries.append({"name": (named or parts or [""])[0],
                        "brand": item.get("brandName") or "", "category": item["category"],
                        "strain": item.get("strainType") or "", "thc": thc,
                        "unit": "mg" if str(item.get("potencyThcUnit") or "%").lower().startswith("mg") else "%",
                        "cbd": float(cbd) if cbd not in (None, "") else None, "price": price,
                        "option": variants[0].get("option") or "",
                        "terpenes": [(t.get("name"), t.get("value")) for t in item.get("terpenes") or []
                                     if t.get("name") and t.get("value")]})
    return tuple(e for e in entries if e["name"]) or tuple(_FALLBACK)


def make_product(*, product_id: str | None = None, name: str = "BLUE DREAM 3.5G", brand: str = "HIGH GRASS FARMS",
                 category_type: str = "FLOWER", price: float | None = 45.0, quantity: float = 12,
                 classification: str | None = "HYBRID", amount: Any = "3.5", uom: str | None = "GRAMS",
                 size: str | None = None, subtype: str | None = None, lab_results: list[dict] | None = None,
                 total_mg_thc: Any = None, total_mg_cbd: Any = None, status: str = "ACTIVE",
                 updated_at: datetime | None = None, price_type: str = "FLAT", tier_name: str | None = None,
                 menu_title: str | None = None, hide_from_menu: bool = False, min_visible: int = 0,
                 inventory_type: str = "ADULT") -> dict:
    """One product in the product_list shape. `quantity` is the TRUE sellable quantity (the server caps it)."""
    pid = product_id or str(uuid.uuid4())
    return {
        "product_id": pid,
        "product_status": status,
        "last_updated_at": treez_time(updated_at or datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        "sellable_quantity": quantity,
        "sellable_quantity_detail": [{"inventory_type": inventory_type, "location": "SALES FLOOR",
                                      "sellable_quantity": quantity}],
        "category_type": category_type,
        "product_configurable_fields": {"name": name, "uom": uom, "brand": brand, "size": size, "amount": amount,
                                        "classification": classification, "total_mg_thc": total_mg_thc,
                                        "total_mg_cbd": total_mg_cbd, "subtype": subtype},
        "pricing": {"price_type": price_type, "price_sell": price, "tier_name": tier_name},
        "attributes": {"general": [], "flavors": [], "effects": [], "ingredients": [], "internal_tags": []},
        "product_barcodes": [{"created_date": treez_time(datetime(2026, 10, 1, tzinfo=UTC)),
                              "sku": pid[:8].upper(), "type": "SKU"}],
        "e_commerce": {"all_images": [], "primary_image": None, "menu_title": menu_title,
                       "product_description": None, "minimum_visible_inventory_level": min_visible,
                       "hide_from_menu": hide_from_menu},
        "autoupdate_lab_results": True,
        "lab_results": lab_results or [],
        "above_threshold": quantity > min_visible,
        "external_references": [],
    }


def lab(result_type: str, low: float, high: float | None = None, amount_type: str = "PERCENTAGE") -> dict:
    return {"result_type": result_type, "amount": {"minimum_value": low, "maximum_value": low if high is None else high},
            "amount_type": amount_type}


def _amount_uom(option: str, category: str) -> tuple[str | None, str | None, str | None]:
    """(amount, uom, size) from a capture's size option like '1/8oz', '.5g', '10pk'."""
    text = option.strip().lower()
    match = re.match(r"^(\d*\.?\d+)\s*g$", text)
    if match:
        return match.group(1), "GRAMS", None
    match = re.match(r"^(\d+)/(\d+)\s*oz$", text)
    if match:
        return f"{28 * int(match.group(1)) / int(match.group(2)):g}", "GRAMS", None
    if category in ("EDIBLES", "TINCTURES", "TOPICALS"):
        return None, "EACH", option.upper() or None
    return None, "EACH", option.upper() or None


class FakeTreez(FakeVendorServer):
    def __init__(self, *, products: list[dict] | None = None, tickets: list[dict] | None = None,
                 customers: list[dict] | None = None, dispensary: str = "partnersandbox2",
                 client_id: str = "partner-client", api_key: str = "location-key", webhook_token: str = "hook-token",
                 token_ttl_s: float = 7200, default_page_size: int = 1000, max_page_size: int = 1000,
                 quantity_cap: int = SELLABLE_CAP):
        super().__init__()
        self.dispensary, self.client_id, self.api_key = dispensary, client_id, api_key
        self.webhook_token = webhook_token
        self.token_ttl_s = token_ttl_s
        self.default_page_size, self.max_page_size = default_page_size, max_page_size
        self.quantity_cap = quantity_cap
        self.products: dict[str, dict] = {}
        self.tickets: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.tokens: dict[str, float] = {}  # token -> expires at (time.time())
        self.tokens_issued = 0
        self._state = threading.RLock()
        # injected paging faults, by page number (product_list only)
        self.misrouted_pages: dict[int, int] = {}  # asked page -> page served instead
        self.truncated_pages: dict[int, int] = {}  # page -> items kept
        self.grow_after_page: int | None = None  # after serving this page, a new product appears (total moves)
        self.read_only = False  # a location on Treez Catalog: the Product API refuses writes
        self.updates: list[dict] = []  # bodies of accepted product updates
        for product in products or []:
            self.products[product["product_id"]] = product
        for ticket in tickets or []:
            self.tickets[ticket["ticket_id"]] = ticket
        for customer in customers or []:
            self.customers[str(customer["customer_id"])] = customer

    def stop(self) -> None:
        """As the base, without waiting out serve_forever's half-second poll: a connection wakes the loop."""
        server = self._server
        if server is None:
            return
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            try:
                socket.create_connection(server.server_address[:2], timeout=0.2).close()
            except OSError:
                pass
            stopper.join(0.02)
        server.server_close()
        self._server = None

    # ------------------------------------------------------------------------------------------- data

    @staticmethod
    def generate_products(n: int, seed: int = 0) -> list[dict]:
        """`n` products in Treez's shapes, deterministic for a seed, from the real menu capture's names, brands,
        categories, potencies and prices. THC is reported the ways Treez locations do: THC only, THC + THCA, a range
        over batches, or total mg for edibles."""
        rng = random.Random(seed)
        catalog = list(_catalog())
        rng.shuffle(catalog)
        products = []
        base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        for index in range(n):
            entry = catalog[index % len(catalog)]
            round_ = index // len(catalog)
            category = _CATEGORY_TYPES[entry["category"]]
            amount, uom, size = _amount_uom(entry["option"], entry["category"])
            name = entry["name"].upper() + (f" #{round_ + 1}" if round_ else "")
            labs: list[dict] = []
            total_mg = None
            thc = entry["thc"]
            if entry["unit"] == "mg" or category in ("EDIBLE", "TINCTURE"):
                found = re.search(r"(\d+)\s*mg", entry["name"], re.I)
                total_mg = float(found.group(1)) if found else (thc if entry["unit"] == "mg" else 100.0)
            elif thc > 0:
                style = rng.choice(("thc", "thca", "range"))
                if style == "thc":
                    labs.append(lab("THC", thc))
                elif style == "thca":  # delta-9 small, most of it as THCA; total = d9 + 0.877 x THCA
                    d9 = round(thc * 0.08, 2)
                    labs += [lab("THC", d9), lab("THCA", round((thc - d9) / THCA_TO_THC, 2))]
                else:
                    labs.append(lab("THC", round(max(0.0, thc - rng.uniform(0.5, 2.5)), 2), thc))
            if entry.get("cbd"):
                labs.append(lab("CBD", entry["cbd"]))
            for terp, value in (entry.get("terpenes") or [])[:4]:
                labs.append(lab(str(terp).upper().replace(" ", "_"), float(value)))
            products.append(make_product(
                product_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), name=name,
                brand=str(entry["brand"]).upper(), category_type=category, price=round(entry["price"], 2),
                quantity=rng.choice((0, 3, 8, 15, 24, 30, 42, 120)) if index % 7 else 60,
                classification=_CLASSIFICATIONS.get(entry["strain"]), amount=amount, uom=uom, size=size,
                lab_results=labs, total_mg_thc=total_mg,
                status="ACTIVE" if index % 23 else "DEACTIVATED",
                updated_at=base + timedelta(minutes=index)))
        return products

    def add_product(self, product: dict) -> dict:
        with self._state:
            self.products[product["product_id"]] = product
        return product

    def _touch(self, product: dict) -> None:
        product["last_updated_at"] = treez_time(datetime.now(UTC))

    def set_stock(self, product_id: str, quantity: float) -> None:
        """The true sellable quantity. Like Treez, a stock change does not move last_updated_at."""
        with self._state:
            product = self.products[product_id]
            product["sellable_quantity"] = quantity
            for detail in product["sellable_quantity_detail"]:
                detail["sellable_quantity"] = quantity
            product["above_threshold"] = quantity > (product["e_commerce"]["minimum_visible_inventory_level"] or 0)

    def set_price(self, product_id: str, price: float | None) -> None:
        with self._state:
            product = self.products[product_id]
            product["pricing"]["price_sell"] = price
            self._touch(product)

    def set_field(self, product_id: str, **fields: Any) -> None:
        """Change product_configurable_fields (name, brand, ...): metadata, so last_updated_at moves."""
        with self._state:
            product = self.products[product_id]
            product["product_configurable_fields"].update(fields)
            self._touch(product)

    def set_status(self, product_id: str, status: str) -> None:
        with self._state:
            self.products[product_id]["product_status"] = status
            self._touch(self.products[product_id])

    def expire_tokens(self) -> None:
        with self._state:
            for token in self.tokens:
                self.tokens[token] = 0.0

    # ------------------------------------------------------------------------------------------- tickets, customers

    def make_ticket(self, items: list[tuple[str, float]], *, status: str = "COMPLETED", customer_id: int | None = 233,
                    ticket_id: str | None = None, when: datetime | None = None, refund_of: str | None = None,
                    discount: float = 0.0, tax_rate: float = 0.15, store: bool = True) -> dict:
        """A ticket over products of this server: items are (product_id, quantity)."""
        when = when or datetime.now(UTC)
        lines = []
        for product_id, quantity in items:
            product = self.products[product_id]
            price = float(product["pricing"]["price_sell"] or 0)
            lines.append({
                "product_id": product_id, "barcodes": [], "inventory_barcodes": [], "location_name": "SALES FLOOR",
                "inventory_type": "ADULT", "inventory_id": str(uuid.uuid4()), "inventory_batch_id": "B1",
                "size_id": str(uuid.uuid4()), "product_size_name": product["product_configurable_fields"]["name"],
                "product_type": product["category_type"], "product_brand": product["product_configurable_fields"]
                ["brand"], "quantity": quantity, "price_total": round(price * quantity, 2), "price_sell": price,
                "product_unit": "EACH", "apply_automatic_discounts": True, "POS_discounts": [], "discounts": [],
                "tax": [{"id": "t1", "rate": tax_rate, "tax_name": "EXCISE", "amount": round(price * quantity * tax_rate,
                                                                                             2)}],
                "price_target": None, "price_target_note": None})
        sub_total = round(sum(line["price_total"] for line in lines), 2)
        tax = round(sub_total * tax_rate, 2)
        completed = status == "COMPLETED"
        ticket = {
            "type": "POS", "ticket_id": ticket_id or str(uuid.uuid4()),
            "order_number": secrets.token_hex(3).upper(), "external_order_number": None, "order_source": "IN_STORE",
            "created_by_employee": {"employee_id": "e1", "name": "Sample Budtender", "role": "employee"},
            "customer_id": customer_id, "ticket_patient_type": "ADULT", "cash_register_id": "r1",
            "order_status": status, "payment_status": "PAID" if completed else "UNPAID",
            "date_created": treez_time(when - timedelta(minutes=4)), "last_updated_at": treez_time(when),
            "date_closed": treez_time(when) if completed else None, "post_tax_pricing": False,
            "sub_total": sub_total, "tax_total": tax, "discount_total": discount,
            "total": round(sub_total + tax - discount, 2), "ticket_note": None,
            "refund_reason": "RETURNED" if refund_of else None, "original_ticket_id": refund_of,
            "delivery_address": None, "scheduled_date": None, "items": lines, "fees": [],
            "payments": [{"payment_id": "p1", "payment_source": "POS", "payment_method": "CASH",
                          "amount_paid": round(sub_total + tax - discount, 2), "payment_date": treez_time(when)}]
            if completed else [],
            "reward_eligible": True, "reward_points_earned": 0, "reward_points_used": 0,
        }
        if store:
            with self._state:
                self.tickets[ticket["ticket_id"]] = ticket
        return ticket

    def add_customer(self, customer_id: str, *, first_name: str = "Alex", last_name: str = "Rivera",
                     email: str | None = "alex@example.com", phone: str | None = "(555) 555-0142",
                     birthday: str | None = "1990-04-20", patient_type: str = "ADULT", opt_out: str | None = None,
                     state: str = "CA", zipcode: str = "94110", updated: datetime | None = None) -> dict:
        customer = {
            "status": "ACTIVE", "verification_status": "VERIFIED", "verification_reasons": [],
            "customer_id": customer_id, "first_name": first_name, "middle_name": None, "nickname": None,
            "last_name": last_name, "birthday": birthday, "drivers_license": "D1234567",
            "drivers_license_expiration": "2030-01-01", "state_medical_id": None, "email": email, "phone": phone,
            "notes": None, "is_caregiver": False, "rewards_balance": 10, "rewards_type": "POINTS", "gender": None,
            "signup_date": treez_time(datetime(2025, 3, 1, tzinfo=UTC)),
            "last_visit_date": treez_time(datetime(2026, 11, 20, tzinfo=UTC)),
            "last_update": treez_time(updated or datetime(2026, 11, 20, tzinfo=UTC)), "opt_out": opt_out,
            "referral_source": None, "banned": False, "warning_1": False, "warning_2": False,
            "addresses": [{"type": "HOME", "street1": "1 Main St", "street2": None, "city": "San Francisco",
                           "state": state, "zipcode": zipcode, "primary": True}],
            "merged_customer_ids": [], "merged_into_customer_id": None, "patient_type": patient_type,
            "imageList": [], "customer_groups": [],
        }
        with self._state:
            self.customers[customer_id] = customer
        return customer

    # ------------------------------------------------------------------------------------------- webhooks

    def _delivery(self, event_type: str, data: dict, token: str | None) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"event_type": event_type, "dispensary_short_name": self.dispensary, "data": data},
                          separators=(",", ":")).encode()
        headers = {"authorization": f"Bearer {self.webhook_token if token is None else token}",
                   "content-type": "application/json", "user-agent": "Apache-HttpClient/4.5.14 (Java/17.0.18)",
                   "content-length": str(len(body))}
        return headers, body

    def inventory_webhook(self, product_id: str, *, available: float, reserved: float = 0.0,
                          package_label: str = "1A4060300003B01000000123", batch: str = "B1",
                          expiration: str | None = "2027-06-30", token: str | None = None,
                          extra_rows: list[dict] | None = None) -> tuple[dict[str, str], bytes]:
        """An INVENTORY delivery (one package) for a product of this server: (headers, raw body)."""
        product = self.products.get(product_id, {})
        fields = product.get("product_configurable_fields", {})
        data = {
            "id": package_label, "packageLabel": package_label, "inventoryType": "ADULT",
            "stateTrackingRetailLicenseNumber": "C10-0000000-LIC", "distributorName": "TREEZ",
            "productId": product_id, "productName": fields.get("name"), "productCategory": product.get("category_type"),
            "productBrand": fields.get("brand"), "invoiceId": 1, "invoiceAcceptedDate": "2026-11-01",
            "distributorLicense": None, "manifestNumber": None, "documents": [], "barcodes": [package_label],
            "receivedDate": "2026-11-01", "expirationDate": expiration, "harvestDate": None, "labResults": [],
            "inventory": [{"id": str(uuid.uuid4()), "batchId": batch, "location": "DISPLAY CASE 1", "sellable": True,
                           "creationDate": "2026-11-01",
                           "quantity": {"available": available, "reserved": reserved, "packedAndReady": 0.0,
                                        "returned": 0.0, "total": available + reserved}}] + (extra_rows or []),
        }
        return self._delivery("INVENTORY", data, token)

    def ticket_webhook(self, ticket: dict, *, token: str | None = None) -> tuple[dict[str, str], bytes]:
        return self._delivery("TICKET", ticket, token)

    # ------------------------------------------------------------------------------------------- HTTP

    def handle(self, request: Request) -> Reply:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if len(parts) < 2 or parts[0] != self.dispensary:
            return json_reply({"resultCode": "FAIL", "resultReason": "Dispensary not found"}, 404)
        route = parts[1:]
        if route == ["config", "api", "gettokens"] and request.method == "POST":
            return self._token(request)
        denied = self._check_token(request)
        if denied is not None:
            return denied
        with self._state:
            if route[:2] == ["product", "product_list"] and request.method == "GET":
                if len(route) == 2:
                    return self._product_list(request, since=None)
                if len(route) == 5 and route[2:4] == ["lastUpdated", "after"]:
                    return self._product_list(request, since=route[4])
            if len(route) == 2 and route[0] == "product" and request.method == "GET":
                product = self.products.get(route[1])
                if product is None:
                    return json_reply({"resultCode": "FAIL", "resultReason": "Product not found"}, 404)
                return json_reply({"resultCode": "SUCCESS", "data": self._served(product)})
            if len(route) == 3 and route[:2] == ["product", "update"] and request.method == "PUT":
                return self._update(route[2], request)
            if (len(route) == 8 and route[0] in ("ticket", "customer") and route[1:3] == ["lastUpdated", "after"]
                    and route[4] == "page" and route[6] == "pagesize"):
                return self._dated_pages(route[0], route[3], int(route[5]), int(route[7]))
        return json_reply({"resultCode": "FAIL", "resultReason": f"No route {request.path}"}, 404)

    def _update(self, product_id: str, request: Request) -> Reply:
        if self.read_only:
            return json_reply({"resultCode": "FAIL", "resultReason": "The Product API is read-only with Treez "
                                                                      "Catalog."}, 400)
        product = self.products.get(product_id)
        if product is None:
            return json_reply({"resultCode": "FAIL", "resultReason": "Product not found"}, 404)
        body = request.json()
        if not isinstance(body, dict) or not body.get("category_type") or not isinstance(
                body.get("product_configurable_fields"), dict):
            return json_reply({"resultCode": "FAIL", "resultReason": "category_type and product_configurable_fields "
                                                                      "are required"}, 400)
        pricing = body.get("pricing") or {}
        if pricing.get("price_type") == "FLAT" and pricing.get("price_sell") is None:
            return json_reply({"resultCode": "FAIL", "resultReason": "price_sell is required for FLAT"}, 400)
        product["category_type"] = body["category_type"]
        product["product_configurable_fields"].update(body["product_configurable_fields"])
        product["pricing"].update(pricing)
        self._touch(product)
        self.updates.append(body)
        return json_reply({"resultCode": "SUCCESS", "data": self._served(product)})

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("apikey") != self.api_key:
            return json_reply({"resultCode": "FAIL", "resultReason": "Invalid client_id or apikey",
                               "access_token": None}, 401)
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self._state:
            self.tokens[token] = now + self.token_ttl_s
            self.tokens_issued += 1
        expires = datetime.fromtimestamp(now + self.token_ttl_s, UTC)
        return json_reply({"resultCode": "SUCCESS", "resultReason": None, "access_token": token,
                           "expires_at": expires.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.000-0800"),
                           "expires_in": str(int(self.token_ttl_s)), "refresh_token": secrets.token_urlsafe(24),
                           "expires": str(int(self.token_ttl_s))})

    def _check_token(self, request: Request) -> Reply | None:
        token = request.headers.get("authorization", "")
        token = token[7:] if token.lower().startswith("bearer ") else token
        with self._state:
            expires = self.tokens.get(token)
        if request.headers.get("client_id") != self.client_id or expires is None or expires <= time.time():
            return json_reply({"resultCode": "FAIL", "resultReason": "The expired or wrong access token is used."},
                              401)
        return None

    def _served(self, product: dict) -> dict:
        """The product as the list API shows it: sellable_quantity capped."""
        served = json.loads(json.dumps(product))
        cap = self.quantity_cap
        served["sellable_quantity"] = min(product["sellable_quantity"], cap)
        for detail in served["sellable_quantity_detail"]:
            detail["sellable_quantity"] = min(detail["sellable_quantity"], cap)
        return served

    def _product_list(self, request: Request, *, since: str | None) -> Reply:
        query = {k.lower(): v for k, v in request.query.items()}
        try:
            page = int(query.get("page", ""))
        except ValueError:
            return json_reply({"resultCode": "FAIL", "resultReason": "page is required"}, 400)
        size = int(query.get("page_size") or self.default_page_size)
        if size > self.max_page_size or size < 1 or page < 1:
            return json_reply({"resultCode": "FAIL", "resultReason": "Response limit is exceeded."}, 400)
        products = list(self.products.values())
        active = (query.get("active") or "true").lower()
        if active == "true":
            products = [p for p in products if p["product_status"] == "ACTIVE"]
        elif active == "false":
            products = [p for p in products if p["product_status"] != "ACTIVE"]
        if "above_threshold" in query and since is None:
            wanted = query["above_threshold"].lower() == "true"
            products = [p for p in products if p["above_threshold"] == wanted]
        category = (query.get("category_type") or "all").upper()
        if category != "ALL":
            products = [p for p in products if p["category_type"] == category]
        if query.get("id"):
            ids = [i.strip() for i in query["id"].split(",") if i.strip()]
            if len(ids) > 50:
                return json_reply({"resultCode": "FAIL", "resultReason": "Up to 50 ids."}, 400)
            products = [p for p in products if p["product_id"] in ids]
        kind = (query.get("sellable_quantity_in_type") or "ALL").upper()
        if kind != "ALL":
            products = [p for p in products if any(d["inventory_type"] == kind and d["sellable_quantity"] > 0
                                                   for d in p["sellable_quantity_detail"])]
        if since is not None:
            after = parse_treez_time(since)
            products = [p for p in products if parse_treez_time(p["last_updated_at"]) > after]
        served_page = self.misrouted_pages.get(page, page)
        chunk = products[(served_page - 1) * size: served_page * size]
        if page in self.truncated_pages:
            chunk = chunk[: self.truncated_pages[page]]
        reply = json_reply({"resultCode": "SUCCESS", "resultReason": None, "resultDetail": None,
                            "data": {"total_count": len(products), "page_count": len(chunk),
                                     "product_list": [self._served(p) for p in chunk]}})
        if self.grow_after_page == page:
            self.grow_after_page = None
            new = make_product(name="LATE ARRIVAL 1G", quantity=5)
            self.products = {new["product_id"]: new, **self.products}
        return reply

    def _dated_pages(self, kind: str, since: str, page: int, size: int) -> Reply:
        after = parse_treez_time(since)
        if kind == "ticket":
            if after < datetime.now(UTC) - timedelta(days=30):  # Treez: the ticket route reaches back 30 days
                return json_reply({"resultCode": "FAIL", "resultReason": "Date range exceeds 30 days"}, 400)
            records = [t for t in self.tickets.values() if parse_treez_time(t["last_updated_at"]) > after]
            records.sort(key=lambda t: parse_treez_time(t["last_updated_at"]), reverse=True)  # newest first
            chunk = records[(page - 1) * size: page * size]
            return json_reply({"resultCode": "SUCCESS", "resultReason": None, "ticketList": chunk})
        records = [c for c in self.customers.values() if parse_treez_time(c["last_update"]) > after]
        records.sort(key=lambda c: parse_treez_time(c["last_update"]), reverse=True)
        chunk = records[(page - 1) * size: page * size]
        return json_reply({"resultCode": "SUCCESS", "resultReason": None, "data": chunk})
