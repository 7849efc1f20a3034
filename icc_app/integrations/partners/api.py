"""Partner API: API keys and webhook endpoints (managed by a business's Admins), and what a partner's key reads
(`Authorization: Bearer icc_pk_...`: menu:read, lots:read, orders:read, sales:read). Thin: parse, call the
service in a tenant unit of work, shape the answer. Every operation documents an example answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from icc_app.core.db import unit_of_work
from icc_app.core.errors import error_responses
from icc_app.core.validation import SafeText
from icc_app.identity.api_auth import client_ip, current_principal, requires
from icc_app.identity.schemas import Principal
from icc_app.integrations.partners import keys, reads, webhooks
from icc_app.integrations.partners import schemas as s
from icc_app.integrations.partners.models import ApiKey, WebhookDelivery, WebhookEndpoint

router = APIRouter(tags=["partner API"])
BusinessQuery = Annotated[uuid.UUID | None, Query(description="the business; a partner key's own when left out")]
Limit = Annotated[int, Query(ge=1, le=reads.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
StatusFilter = Annotated[SafeText(20) | None, Query(description="only this status")]


def _answers(example: Any, *codes: int, status: int = 200) -> dict:
    """responses= for a route: its example answer and its documented errors."""
    return {status: {"content": {"application/json": {"example": example}}}, **error_responses(*codes)}


MANAGE = (401, 403, 404, 422)
WITH_BODY = (400, 401, 403, 404, 413, 422)  # routes that read a JSON body: unreadable (400) or too large (413)


def key_out(key: ApiKey) -> s.ApiKeyOut:
    return s.ApiKeyOut(**{f: getattr(key, f) for f in s.ApiKeyOut.model_fields if f != "status"},
                       status=keys.display_status(key))


def endpoint_out(endpoint: WebhookEndpoint) -> s.EndpointOut:
    return s.EndpointOut(**{f: getattr(endpoint, f) for f in s.EndpointOut.model_fields})


def delivery_out(delivery: WebhookDelivery) -> s.DeliveryOut:
    return s.DeliveryOut(**{f: getattr(delivery, f) for f in s.DeliveryOut.model_fields})


# ---- API keys (signed-in Admins) --------------------------------------------------------------------------------


@router.get("/api-keys/scopes", response_model=list[s.ScopeOut],
            responses=_answers([{"scope": "menu:read", "description": keys.PARTNER_SCOPES["menu:read"]}], 401))
def list_scopes(principal: Principal = Depends(current_principal)) -> list[s.ScopeOut]:
    """The scopes a partner key can carry."""
    return [s.ScopeOut(scope=k, description=v) for k, v in keys.KEY_SCOPES.items()]


@router.get("/api-keys", response_model=list[s.ApiKeyOut], responses=_answers([s.KEY_EXAMPLE], *MANAGE))
def list_api_keys(business_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> list[s.ApiKeyOut]:
    """The business's keys with their prefix, scopes, status, expiry and last use (never the keys themselves)."""
    with unit_of_work(tenant=principal) as session:
        return [key_out(k) for k in keys.list_keys(session, principal=principal, business_id=business_id)]


@router.post("/api-keys", response_model=s.ApiKeyCreated, status_code=201,
             responses=_answers(s.ApiKeyCreated.model_config["json_schema_extra"]["examples"][0], *WITH_BODY,
                                status=201))
def create_api_key(body: s.ApiKeyIn, request: Request, principal: Principal = Depends(current_principal)
                   ) -> s.ApiKeyCreated:
    """A new key. The raw key is in this answer only: it is stored hashed and cannot be shown again."""
    with unit_of_work(tenant=principal) as session:
        issued = keys.create_key(session, principal=principal, business_id=body.business_id, name=body.name,
                                 scopes=body.scopes, expires_in_days=body.expires_in_days,
                                 rate_limit_per_minute=body.rate_limit_per_minute, ip=client_ip(request))
        return s.ApiKeyCreated(key=issued.raw, api_key=key_out(issued.key))


@router.post("/api-keys/{key_id}/rotate", response_model=s.RotatedOut,
             responses=_answers(s.RotatedOut.model_config["json_schema_extra"]["examples"][0], *WITH_BODY))
def rotate_api_key(key_id: uuid.UUID, request: Request, body: s.RotateIn | None = None,
                   principal: Principal = Depends(current_principal)) -> s.RotatedOut:
    """A new key (shown once) replacing this one, which keeps working for `grace_minutes`, then is refused."""
    body = body or s.RotateIn()
    with unit_of_work(tenant=principal) as session:
        issued = keys.rotate_key(session, principal=principal, key_id=key_id, grace_minutes=body.grace_minutes,
                                 ip=client_ip(request))
        previous = session.get(ApiKey, key_id)
        return s.RotatedOut(key=issued.raw, api_key=key_out(issued.key), previous=key_out(previous))


@router.post("/api-keys/{key_id}/revoke", response_model=s.ApiKeyOut,
             responses=_answers(s.KEY_EXAMPLE | {"status": "revoked", "revoked_at": s.WHEN}, *WITH_BODY))
def revoke_api_key(key_id: uuid.UUID, request: Request, body: s.RevokeIn | None = None,
                   principal: Principal = Depends(current_principal)) -> s.ApiKeyOut:
    """Refused from now on."""
    with unit_of_work(tenant=principal) as session:
        return key_out(keys.revoke_key(session, principal=principal, key_id=key_id,
                                       reason=body.reason if body else "", ip=client_ip(request)))


# ---- webhook endpoints (Admins, or a key with webhooks:manage) ---------------------------------------------------


@router.get("/webhook-events", response_model=list[s.EventTypeOut],
            responses=_answers([{"type": "order.created", "description": webhooks.EVENT_TYPES["order.created"]}],
                               401))
def list_event_types(principal: Principal = Depends(current_principal)) -> list[s.EventTypeOut]:
    """The events an endpoint can subscribe to."""
    return [s.EventTypeOut(type=k, description=v) for k, v in webhooks.EVENT_TYPES.items()]


@router.get("/webhook-endpoints", response_model=list[s.EndpointOut],
            responses=_answers([s.ENDPOINT_EXAMPLE], *MANAGE))
def list_endpoints(business_id: BusinessQuery = None, principal: Principal = Depends(current_principal)
                   ) -> list[s.EndpointOut]:
    with unit_of_work(tenant=principal) as session:
        business = reads.acting_business(principal, business_id)
        return [endpoint_out(e) for e in webhooks.list_endpoints(session, principal=principal, business_id=business)]


@router.post("/webhook-endpoints", response_model=s.EndpointCreated, status_code=201,
             responses=_answers(s.EndpointCreated.model_config["json_schema_extra"]["examples"][0], *WITH_BODY,
                                status=201))
def create_endpoint(body: s.EndpointIn, request: Request, principal: Principal = Depends(current_principal)
                    ) -> s.EndpointCreated:
    """A partner's HTTPS address and the events it wants. The signing secret is in this answer only."""
    with unit_of_work(tenant=principal) as session:
        made = webhooks.create_endpoint(session, principal=principal, business_id=body.business_id, url=body.url,
                                        events=body.events, description=body.description, ip=client_ip(request))
        return s.EndpointCreated(secret=made.secret, endpoint=endpoint_out(made.endpoint))


@router.patch("/webhook-endpoints/{endpoint_id}", response_model=s.EndpointOut,
              responses=_answers(s.ENDPOINT_EXAMPLE | {"events": ["*"], "enabled": False}, *WITH_BODY))
def update_endpoint(endpoint_id: uuid.UUID, body: s.EndpointUpdateIn, request: Request,
                    principal: Principal = Depends(current_principal)) -> s.EndpointOut:
    """Change the address, the events, the description, or pause it (enabled false: nothing is sent)."""
    with unit_of_work(tenant=principal) as session:
        return endpoint_out(webhooks.update_endpoint(session, principal=principal, endpoint_id=endpoint_id,
                                                     ip=client_ip(request), **body.model_dump(exclude_unset=True)))


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=s.EndpointCreated,
             responses=_answers(s.EndpointCreated.model_config["json_schema_extra"]["examples"][0], *MANAGE))
def rotate_endpoint_secret(endpoint_id: uuid.UUID, request: Request,
                           principal: Principal = Depends(current_principal)) -> s.EndpointCreated:
    """A new signing secret (shown once), used from the next attempt on."""
    with unit_of_work(tenant=principal) as session:
        made = webhooks.rotate_secret(session, principal=principal, endpoint_id=endpoint_id, ip=client_ip(request))
        return s.EndpointCreated(secret=made.secret, endpoint=endpoint_out(made.endpoint))


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204, response_class=Response,
               responses={204: {"description": "Removed, with its delivery log"}, **error_responses(*MANAGE)})
def delete_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)
                    ) -> Response:
    with unit_of_work(tenant=principal) as session:
        webhooks.delete_endpoint(session, principal=principal, endpoint_id=endpoint_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/webhook-endpoints/{endpoint_id}/test", response_model=s.DeliveryOut, status_code=202,
             responses=_answers(s.DELIVERY_EXAMPLE | {"event_type": "ping", "status": "pending", "attempts": 0},
                                *MANAGE, status=202))
def send_test_event(endpoint_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> s.DeliveryOut:
    """Send a "ping" event now, to check the partner's receiver and signature verification."""
    with unit_of_work(tenant=principal) as session:
        return delivery_out(webhooks.send_test_event(session, principal=principal, endpoint_id=endpoint_id))


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response_model=list[s.DeliveryOut],
            responses=_answers([s.DELIVERY_EXAMPLE], *MANAGE))
def list_deliveries(endpoint_id: uuid.UUID, status: Annotated[str | None, Query(
        description="pending, retrying, delivered or failed")] = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
        principal: Principal = Depends(current_principal)) -> list[s.DeliveryOut]:
    """The delivery log, newest first: status, attempts, the last answer or error, timing."""
    with unit_of_work(tenant=principal) as session:
        return [delivery_out(d) for d in webhooks.deliveries(session, principal=principal, endpoint_id=endpoint_id,
                                                             status=status, limit=limit)]


@router.get("/webhook-deliveries/{delivery_id}", response_model=s.DeliveryDetail,
            responses=_answers(s.DeliveryDetail.model_config["json_schema_extra"]["examples"][0], *MANAGE))
def get_delivery(delivery_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> s.DeliveryDetail:
    """One delivery with the body that was signed and every attempt."""
    with unit_of_work(tenant=principal) as session:
        delivery = webhooks.own_delivery(session, principal, delivery_id)
        attempts = webhooks.attempts_of(session, principal=principal, delivery_id=delivery_id)
        return s.DeliveryDetail(**delivery_out(delivery).model_dump(), payload=delivery.payload,
                                attempt_log=[s.AttemptOut(**{f: getattr(a, f) for f in s.AttemptOut.model_fields})
                                             for a in attempts])


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response_model=s.DeliveryOut, status_code=202,
             responses=_answers(s.DELIVERY_EXAMPLE | {"status": "pending", "attempts": 0,
                                                      "redelivery_of": s.DELIVERY_ID}, *MANAGE, status=202))
def redeliver(delivery_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)
              ) -> s.DeliveryOut:
    """Send the event again (same event id and body, a fresh signature) as a new delivery."""
    with unit_of_work(tenant=principal) as session:
        return delivery_out(webhooks.redeliver(session, principal=principal, delivery_id=delivery_id,
                                               ip=client_ip(request)))


# ---- what partner keys read -------------------------------------------------------------------------------------

READS = (401, 403, 404, 422, 429)


@router.get("/partner/whoami", response_model=s.WhoAmIOut,
            responses=_answers(s.WhoAmIOut.model_config["json_schema_extra"]["examples"][0], 401, 429))
def whoami(principal: Principal = Depends(current_principal)) -> s.WhoAmIOut:
    """The business a key acts for and its scopes: a partner's first call to check its setup."""
    membership = principal.memberships[0] if principal.memberships else None
    key_name = key_prefix = None
    if (key_id := keys.key_id_of(principal)) is not None:
        with unit_of_work() as session:
            key = session.get(ApiKey, key_id)
            key_name, key_prefix = key.name, key.prefix
    return s.WhoAmIOut(business_id=membership.business_id if membership else None,
                       business_name=membership.business_name if membership else "", key_name=key_name,
                       key_prefix=key_prefix, scopes=principal.scopes)


@router.get("/partner/menu", response_model=list[s.MenuItemOut],
            responses=_answers([s.MenuItemOut.model_config["json_schema_extra"]["examples"][0]], *READS))
def partner_menu(business_id: BusinessQuery = None, updated_since: datetime | None = None, limit: Limit = 100,
                 offset: Offset = 0, principal: Principal = Depends(requires("menu:read"))) -> list[s.MenuItemOut]:
    """The menu items of the business's dispensaries (out of stock and removed ones too), oldest change first:
    poll with updated_since, or subscribe to menu.item_changed."""
    with unit_of_work(tenant=principal) as session:
        rows = reads.menu(session, principal=principal, business_id=business_id, updated_since=updated_since,
                          limit=limit, offset=offset)
        return [s.MenuItemOut(**{f: getattr(i, f) for f in s.MenuItemOut.model_fields if f != "sku"},
                              sku=i.external_id) for i in rows]


@router.get("/partner/lots", response_model=list[s.PartnerLotOut],
            responses=_answers([s.PartnerLotOut.model_config["json_schema_extra"]["examples"][0]], *READS))
def partner_lots(business_id: BusinessQuery = None, status: StatusFilter = None, limit: Limit = 100, offset: Offset = 0,
                 principal: Principal = Depends(requires("lots:read"))) -> list[s.PartnerLotOut]:
    """The business's own lots on the exchange, newest first."""
    with unit_of_work(tenant=principal) as session:
        rows = reads.lots(session, principal=principal, business_id=business_id, status=status, limit=limit,
                          offset=offset)
        return [s.PartnerLotOut(**{f: getattr(lot, f) for f in s.PartnerLotOut.model_fields}) for lot in rows]


@router.get("/partner/orders", response_model=list[s.PartnerOrderOut],
            responses=_answers([s.PartnerOrderOut.model_config["json_schema_extra"]["examples"][0]], *READS))
def partner_orders(business_id: BusinessQuery = None, status: StatusFilter = None, limit: Limit = 100,
                   offset: Offset = 0, principal: Principal = Depends(requires("orders:read"))
                   ) -> list[s.PartnerOrderOut]:
    """The business's exchange orders (buying and selling), newest first."""
    with unit_of_work(tenant=principal) as session:
        rows = reads.orders(session, principal=principal, business_id=business_id, status=status, limit=limit,
                            offset=offset)
        return [s.PartnerOrderOut(**{f: getattr(o, f) for f in s.PartnerOrderOut.model_fields if f != "side"},
                                  side=side) for o, side in rows]


@router.get("/partner/sales", response_model=list[s.SaleOut],
            responses=_answers([s.SaleOut.model_config["json_schema_extra"]["examples"][0]], *READS))
def partner_sales(business_id: BusinessQuery = None, since: datetime | None = None, until: datetime | None = None,
                  limit: Limit = 100, offset: Offset = 0, principal: Principal = Depends(requires("sales:read"))
                  ) -> list[s.SaleOut]:
    """The business's point-of-sale transactions (synced from its POS), newest first."""
    with unit_of_work(tenant=principal) as session:
        rows = reads.sales(session, principal=principal, business_id=business_id, since=since, until=until,
                           limit=limit, offset=offset)
        return [s.SaleOut(**{f: getattr(x, f) for f in s.SaleOut.model_fields}) for x in rows]
