"""The checkout widget for dispensary POS systems.

Flow (no raw key or PII in a browser): the POS server calls `POST /api/v1/budtender/widget/sessions` with its
partner API key (scope "widget"), the store, the cart (menu item ids or POS external ids) and optionally the
customer as `customer_ref` = sha256_hex(salt + POS customer id), the salt being its business's (GET
/widget/settings). ICC answers a short-lived signed widget token; the page embeds
`<script src="/api/v1/budtender/widget.js" data-token="...">`, and the script fetches recommendations with that
token alone. A customer_ref that is not a 64-hex digest (an email, a phone number, a raw id) is refused, so raw PII
cannot be sent by mistake; nothing personal is ever answered (product names, prices and reasons only).

The partner-key check is one function, `authenticate_partner`, over integrations.partners.keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from icc_app.budtender import strains, training
from icc_app.budtender.models import FeedbackKind, WidgetEvent, WidgetSettings
from icc_app.budtender.ranking import Profile, rank
from icc_app.budtender.reference import strain_key
from icc_app.budtender.schemas import RecommendationRead
from icc_app.budtender.service import _decorate, candidates_at, reads
from icc_app.core.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from icc_app.core.security import constant_time_equal
from icc_app.maps.models import Dispensary, MenuItem
from icc_app.settings import get_settings

WIDGET_SCOPE = "widget"
TOKEN_SECONDS = 30 * 60
HASHED_ID = re.compile(r"^[0-9a-f]{64}$")
MAX_CART = 50


def authenticate_partner(session: Session, raw_key: str, *, ip: str | None = None) -> uuid.UUID:
    """The business behind a partner API key carrying the widget scope (401/403/429 otherwise)."""
    from icc_app.integrations.partners.keys import authenticate_api_key

    business, _key = authenticate_api_key(session, raw_key, scope=WIDGET_SCOPE, ip=ip)
    return business.id


def customer_ref(salt: str, customer_id: str) -> str:
    """What the POS sends instead of its customer id: sha256 hex of the business's salt and the id."""
    return hashlib.sha256(f"{salt}{customer_id}".encode()).hexdigest()


def settings_for(session: Session, business_id: uuid.UUID) -> WidgetSettings:
    """The business's widget settings, created with a fresh salt on first use."""
    row = session.exec(select(WidgetSettings).where(WidgetSettings.business_id == business_id)).first()
    if row is None:
        row = WidgetSettings(business_id=business_id, customer_salt=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row


def _check_ref(ref: str | None) -> str | None:
    if ref in (None, ""):
        return None
    if not HASHED_ID.match(ref):
        raise ValidationFailed("customer_ref must be the 64-character sha256 hex of your salt and the customer's id; "
                               "never send a raw id, email or phone number.", field="customer_ref")
    return ref


def _own_dispensary(session: Session, business_id: uuid.UUID, dispensary_id: uuid.UUID) -> Dispensary:
    place = session.get(Dispensary, dispensary_id)
    if place is None or not place.is_active or place.claimed_by_business_id != business_id:
        raise NotFound("Dispensary not found for this key's business.")
    return place


def _sign(payload: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(get_settings().secret_key.encode(), f"ivb-widget.{body}".encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_token(token: str) -> dict:
    try:
        body, mac = (token or "").rsplit(".", 1)
    except ValueError:
        raise NotAuthenticated("This widget token is not valid.") from None
    good = hmac.new(get_settings().secret_key.encode(), f"ivb-widget.{body}".encode(), hashlib.sha256).hexdigest()
    if not constant_time_equal(good, mac):
        raise NotAuthenticated("This widget token is not valid.")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if payload.get("exp", 0) < time.time():
        raise NotAuthenticated("This widget token expired: the page asks its server for a new one.")
    return payload


def _cart_items(session: Session, dispensary_id: uuid.UUID, cart: list[str]) -> list[MenuItem]:
    if len(cart) > MAX_CART:
        raise ValidationFailed(f"A cart has at most {MAX_CART} items.", field="cart")
    ids, externals = [], []
    for entry in cart:
        try:
            ids.append(uuid.UUID(str(entry)))
        except ValueError:
            externals.append(str(entry)[:120])
    found = []
    if ids:
        found += session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary_id, col(MenuItem.id).in_(ids)))
    if externals:
        found += session.exec(select(MenuItem).where(MenuItem.dispensary_id == dispensary_id,
                                                     col(MenuItem.external_id).in_(externals)))
    return list(found)


def start_session(session: Session, *, business_id: uuid.UUID, dispensary_id: uuid.UUID, cart: list[str],
                  customer_ref: str | None = None, wanted: list[str] = ()) -> str:
    """A signed token (TOKEN_SECONDS) naming the store, the cart's item ids and the hashed customer."""
    settings = settings_for(session, business_id)
    if not settings.enabled:
        raise PermissionDenied("The checkout widget is turned off for this business.")
    _own_dispensary(session, business_id, dispensary_id)
    items = _cart_items(session, dispensary_id, cart)
    payload = {"b": str(business_id), "d": str(dispensary_id), "c": [str(i.id) for i in items],
               "r": _check_ref(customer_ref), "w": [w for w in wanted if isinstance(w, str)][:4],
               "exp": int(time.time()) + TOKEN_SECONDS}
    return _sign(payload)


@dataclass(frozen=True)
class WidgetResult:
    store: str
    results: list[RecommendationRead]


def recommendations(session: Session, *, token: str, limit: int = 4) -> WidgetResult:
    """In-stock items of the token's store for its cart and customer (never the cart's own items)."""
    payload = read_token(token)
    business_id, dispensary_id = uuid.UUID(payload["b"]), uuid.UUID(payload["d"])
    place = _own_dispensary(session, business_id, dispensary_id)
    cart = [session.get(MenuItem, uuid.UUID(i)) for i in payload["c"]]
    history = [strain_key(i.strain_name) for i in cart if i is not None and i.strain_name]
    ref = payload.get("r")
    if ref:
        bought = session.exec(select(WidgetEvent.strain_key).where(
            WidgetEvent.business_id == business_id, WidgetEvent.customer_ref == ref,
            col(WidgetEvent.kind).in_([FeedbackKind.purchase.value, FeedbackKind.add_to_cart.value]),
            WidgetEvent.strain_key != "").order_by(col(WidgetEvent.created_at)))
        history = [k for k in bought] + history
    in_cart = {i for i in payload["c"]}
    pool = [c for c in candidates_at(session, dispensary_id=dispensary_id) if c.item_id not in in_cart]
    serving = training.serving_model(session)
    ranked = rank(pool, book=strains.book(session), profile=Profile(wanted=list(payload.get("w") or [])),
                  model=serving.model if serving else None, history=history, limit=limit)
    results = reads(ranked)
    _decorate(session, results)
    for r in results:
        session.add(WidgetEvent(business_id=business_id, dispensary_id=dispensary_id, customer_ref=ref,
                                menu_item_id=uuid.UUID(r.menu_item_id), strain_key=strain_key(r.strain),
                                kind=FeedbackKind.shown))
    session.flush()
    return WidgetResult(store=place.dba or place.name, results=results)


def record_event(session: Session, *, token: str, menu_item_id: uuid.UUID, kind: str) -> WidgetEvent:
    """A click or add-to-cart in the widget (from the browser, with its token), or a purchase from the POS."""
    payload = read_token(token)
    try:
        kind = FeedbackKind(kind)
    except ValueError:
        raise ValidationFailed("kind is click, add_to_cart or purchase.", field="kind") from None
    if kind not in (FeedbackKind.click, FeedbackKind.add_to_cart, FeedbackKind.purchase):
        raise ValidationFailed("kind is click, add_to_cart or purchase.", field="kind")
    item = session.get(MenuItem, menu_item_id)
    if item is None or str(item.dispensary_id) != payload["d"]:
        raise NotFound("Product not found at this store.")
    row = WidgetEvent(business_id=uuid.UUID(payload["b"]), dispensary_id=item.dispensary_id,
                      customer_ref=payload.get("r"), menu_item_id=item.id, strain_key=strain_key(item.strain_name),
                      kind=kind)
    session.add(row)
    session.flush()
    return row
