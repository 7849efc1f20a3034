"""FakeJane: builds Jane webhook deliveries the way Jane signs them (X-Jane-Signature = hex HMAC-SHA256 of
"timestamp:raw body", X-Jane-Request-Timestamp, Authorization: Bearer token), good and broken, and serves the
(assumed) partner product feed.

    jane = JaneDeliveries(secret="s3cret", token="tok")
    headers, body = jane.delivery(jane.cart(7469, status="finished"), now=now)
    headers, body = jane.delivery(cart, now=now, bad_signature=True)       # or stale_s=600, future_s=600
    with FakeJane(products=[...], token="feed-tok") as server: ...         # GET /feed?page=&per_page=
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from icc_app.integrations.jane.client import sign
from tests.integrations.fakes.base import FakeVendorServer, Reply, Request, json_reply
from tests.integrations.fakes.flowhub import real_products

_KINDS = {"PackedBud": "flower", "PreRolls": "pre-roll", "Cartridges": "vape", "Concentrate": "extract",
          "Edibles": "edible", "Tinctures": "tincture", "Topicals": "topical", "Accessories": "gear"}


class JaneDeliveries:
    def __init__(self, *, secret: str, token: str | None = None, store_id: int = 68):
        self.secret, self.token, self.store_id = secret, token, store_id

    def cart(self, cart_id: int, *, status: str = "finished", amount: float = 41.8,
             checked_out: str = "2026-12-02 06:41:28", products: list[dict] | None = None, **extra: Any) -> dict:
        """A cart in the documented shape (plus our assumed `products` lines)."""
        cart = {"amount": amount, "assigned_employee_id": None, "assigned_employee_name": None,
                "checked_out_time": checked_out, "checkout_message": "", "customer_phone_number": "+1112223333",
                "customer_email_address": "johnsmith@example.com", "customer_name": "John Smith",
                "created_at": "2026-12-02 06:41:20", "id": cart_id, "pos_order_id": None, "promo_code": None,
                "queue_number": "G19", "rating": 0, "reservation_mode": "pickup",
                "reservation_start_window": "2026-12-02 07:45:00", "status": status, "store_id": self.store_id,
                "store_name": "Jane's Shop", "tags": {}, "user_id": 9001, "external_user_id": "12345",
                "external_user_source": "foo",
                "products": products if products is not None else [
                    {"product_id": 555, "name": "Blue Dream 1/8", "brand": "Rocky Mountain", "kind": "flower",
                     "count": 1, "price_id": "eighth_ounce", "unit_price": 35.0},
                    {"product_id": 556, "name": "Chewy Gummies 100mg", "kind": "edible", "count": 1,
                     "price_id": "each", "unit_price": 6.8}]}
        cart.update(extra)
        return cart

    def delivery(self, cart: dict, *, now: datetime, stale_s: float = 0, future_s: float = 0,
                 bad_signature: bool = False, token: str | None = None, unsigned: bool = False,
                 raw_body: bytes | None = None) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) of one delivery as Jane sends it, optionally broken."""
        body = raw_body if raw_body is not None else json.dumps({"cart": cart}).encode()
        stamp = str(int((now - timedelta(seconds=stale_s) + timedelta(seconds=future_s)).astimezone(UTC).timestamp()))
        signature = sign(self.secret, stamp, body)
        if bad_signature:
            signature = sign(self.secret + "-wrong", stamp, body)
        headers = {"Content-Type": "application/json", "X-Jane-Request-Timestamp": stamp,
                   "X-Jane-Signature": signature}
        if unsigned:
            headers.pop("X-Jane-Signature")
        bearer = token if token is not None else self.token
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers, body


    def post(self, url: str, cart: dict, *, now: datetime | None = None, **broken: Any):
        """Deliver one cart to a webhook endpoint over HTTP (browser tests, staging); returns the httpx response."""
        import httpx

        headers, body = self.delivery(cart, now=now or datetime.now(UTC), **broken)
        return httpx.post(url, content=body, headers=headers, timeout=10)


def feed_product(product_id: int, *, name: str, kind: str = "flower", brand: str | None = "Brand",
                 category: str | None = "hybrid", percent_thc: float | None = 20.0,
                 percent_thca: float | None = None, percent_cbd: float | None = None, quantity: int = 10,
                 prices: dict[str, float] | None = None, **extra: Any) -> dict:
    """One product in the assumed partner feed shape."""
    product = {"product_id": product_id, "name": name, "brand": brand, "kind": kind, "kind_subtype": None,
               "category": category, "percent_thc": percent_thc, "percent_thca": percent_thca,
               "percent_cbd": percent_cbd, "quantity": quantity, "store_id": 68}
    for key, value in (prices if prices is not None else {"eighth_ounce": 35.0}).items():
        product[f"price_{key}"] = value
    product.update(extra)
    return product


def generate_feed(n: int, seed: int = 0) -> list[dict]:
    """n feed products with names, brands and potencies from the real menu capture."""
    rng = random.Random(seed)
    pool = real_products()
    products = []
    for index in range(n):
        base = pool[index % len(pool)]
        kind = _KINDS.get(base["category"], "gear")
        price = base["price"] or 20.0
        prices = {"gram": round(price / 3, 2), "eighth_ounce": price} if kind == "flower" else {"each": price}
        dosed = kind in ("edible", "tincture")
        products.append(feed_product(
            10_000 + index, name=base["name"] if index < len(pool) else f"{base['name']} #{index // len(pool) + 1}",
            kind=kind, brand=base["brand"], category=(base["species"] or "").lower() or None,
            percent_thc=None if dosed or base["unit"] == "mg" else base["thc_high"],
            quantity=rng.randint(0, 40), prices=prices, **({"dosage": "100mg"} if dosed else {})))
    return products


class FakeJane(FakeVendorServer):
    """The partner product feed: GET /feed?page=N&per_page=M with a Bearer token."""

    def __init__(self, *, products: list[dict] | None = None, token: str | None = "feed-token"):
        super().__init__()
        self.products = list(products or [])
        self.token = token
        self.drop_page: int | None = None  # this page answers no products while the total stays

    def handle(self, request: Request) -> Reply:
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return json_reply({"error": "unauthorized"}, 401)
        if request.path != "/feed":
            return json_reply({"error": "not found"}, 404)
        page = max(1, int(request.query.get("page") or 1))
        per_page = max(1, int(request.query.get("per_page") or 50))
        chunk = [] if page == self.drop_page else self.products[(page - 1) * per_page: page * per_page]
        pages = max(1, -(-len(self.products) // per_page))
        return json_reply({"products": chunk, "meta": {"page": page, "per_page": per_page,
                                                       "total": len(self.products), "total_pages": pages}})

    @property
    def feed_url(self) -> str:
        return f"{self.url}/feed"
