"""Loyalty and CRM REST API under /api/v1/loyalty: customers and consent, points and rewards, the programme,
segments, churn scores, campaigns; plus the public endpoints the outside world calls (the unsubscribe link in
every email, Twilio's status callbacks and inbound texts, each verified by its X-Twilio-Signature)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import col, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import PermissionDenied, error_responses
from icc_app.core.validation import Offset, SafeText
from icc_app.identity.api_auth import requires
from icc_app.identity.schemas import Principal
from icc_app.loyalty import access, campaigns, customers, points, scoring, segments, sending
from icc_app.loyalty.models import Campaign, Customer, CustomerScore, Program
from icc_app.loyalty.sms import twilio
from icc_app.settings import get_settings

router = APIRouter(tags=["loyalty"])
READ, WRITE = requires("loyalty:read"), requires("loyalty:write")
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


class CustomerOut(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    customer_type: str
    enrollment: str
    email_consent: bool
    sms_consent: bool
    segment: str | None = None
    buy_again_probability: float | None = None
    reasons: list[dict] = []
    points: int = 0


class SignUpIn(BaseModel):
    name: str = Field(max_length=120)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=30)
    birth_date: date
    customer_type: Literal["recreational", "medical"] = "recreational"
    email_consent: bool = False
    sms_consent: bool = False
    timezone: str | None = Field(None, max_length=64)
    source: Literal["counter", "web"] = "counter"


class ConsentIn(BaseModel):
    channel: Literal["email", "sms"]
    granted: bool
    detail: str = Field("", max_length=300)


class RedeemIn(BaseModel):
    points: int = Field(ge=1)
    idempotency_key: str | None = Field(None, max_length=80)


class TierIn(BaseModel):
    name: SafeText(60, min_length=1)
    threshold_points: int = Field(ge=0, le=100_000_000, description="lifetime points earned to reach the tier")
    multiplier: float = Field(1, gt=0, le=10, description="points multiplier while in the tier")
    benefits: SafeText(500) = ""


class BonusDayIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    multiplier: float = Field(gt=0, le=10)


class ProgramIn(BaseModel):
    name: SafeText(120, min_length=1) | None = None
    points_per_dollar: float | None = Field(None, ge=0, le=100)
    category_multipliers: dict[SafeText(60, min_length=1), Annotated[float, Field(gt=0, le=10)]] | None = Field(
        None, max_length=50, description='{"Edibles": 2}: purchases in the category earn this many times the points')
    bonus_days: list[BonusDayIn] | None = Field(None, max_length=7)
    points_per_dollar_off: int | None = Field(None, ge=1, le=100_000)
    min_redeem_points: int | None = Field(None, ge=1, le=1_000_000)
    quiet_start_hour: int | None = Field(None, ge=0, le=23)
    quiet_end_hour: int | None = Field(None, ge=0, le=23)
    max_messages_per_week: int | None = Field(None, ge=0, le=50)
    sms_account_sid: SafeText(64) | None = None
    sms_auth_token: SafeText(200) | None = None
    sms_from: SafeText(40) | None = None
    tiers: list[TierIn] | None = Field(None, max_length=20, description="replaces every tier when given")


class SegmentIn(BaseModel):
    name: str = Field("", max_length=120)
    rules: list[dict]


class CampaignIn(BaseModel):
    name: str = Field(max_length=120)
    channel: Literal["email", "sms"]
    segment_key: str = Field(max_length=60, description='"all", new, regular, high_value, lapsing, lost, '
                                                        'occasional, or "custom:<segment id>"')
    subject: str = Field("", max_length=200)
    body_a: str = Field(max_length=5000)
    body_b: str | None = Field(None, max_length=5000)
    holdout_percent: int = Field(10, ge=0, le=50)
    attribution_days: int = Field(14, ge=1, le=90)


class ScheduleIn(BaseModel):
    send_at: datetime | None = Field(None, description="Timezone-aware; omitted: now.")


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    channel: str
    segment_key: str
    status: str
    scheduled_at: datetime | None
    sent_at: datetime | None
    holdout_percent: int
    ab_test: bool

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        return cls(id=c.id, name=c.name, channel=c.channel, segment_key=c.segment_key, status=c.status,
                   scheduled_at=c.scheduled_at, sent_at=c.sent_at, holdout_percent=c.holdout_percent,
                   ab_test=bool(c.body_b))


def _customer_out(session, c: Customer, score: CustomerScore | None) -> CustomerOut:
    return CustomerOut(id=c.id, name=c.name, email=c.email, phone=c.phone, customer_type=c.customer_type,
                       enrollment=c.enrollment, email_consent=c.email_consent, sms_consent=c.sms_consent,
                       segment=score.segment if score else None,
                       buy_again_probability=score.buy_again_probability if score else None,
                       reasons=score.reasons if score else [],
                       points=points.balance(session, business_id=c.business_id, customer_id=c.id))


@router.get("/loyalty/{business_id}/customers", response_model=list[CustomerOut], responses=ERRORS)
def list_customers(business_id: uuid.UUID, segment: SafeText(60) | None = None, limit: int = Query(50, ge=1, le=500),
                   offset: Offset = 0, principal: Principal = Depends(READ)) -> list[CustomerOut]:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        query = (select(Customer, CustomerScore).join(CustomerScore, col(CustomerScore.customer_id) == Customer.id,
                                                      isouter=True)
                 .where(Customer.business_id == business_id).order_by(col(Customer.created_at).desc()))
        if segment:
            query = query.where(CustomerScore.segment == segment)
        rows = session.exec(query.offset(offset).limit(limit)).all()
        return [_customer_out(session, c, s) for c, s in rows]


@router.post("/loyalty/{business_id}/customers", response_model=CustomerOut, status_code=201, responses=ERRORS)
def sign_up(business_id: uuid.UUID, body: SignUpIn, principal: Principal = Depends(WRITE)) -> CustomerOut:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        c = customers.sign_up(session, business_id=business_id, actor_id=principal.user_id, **body.model_dump())
        return _customer_out(session, c, None)


@router.post("/loyalty/{business_id}/customers/{customer_id}/consent", response_model=CustomerOut, responses=ERRORS)
def set_consent(business_id: uuid.UUID, customer_id: uuid.UUID, body: ConsentIn,
                principal: Principal = Depends(WRITE)) -> CustomerOut:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        c = customers.get(session, business_id=business_id, customer_id=customer_id)
        customers.record_consent(session, customer=c, channel=body.channel, granted=body.granted, source="operator",
                                 detail=body.detail, actor_id=principal.user_id)
        return _customer_out(session, c, None)


@router.post("/loyalty/{business_id}/customers/{customer_id}/redeem", status_code=201, responses=ERRORS)
def redeem(business_id: uuid.UUID, customer_id: uuid.UUID, body: RedeemIn,
           principal: Principal = Depends(WRITE)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        r = points.redeem(session, business_id=business_id, customer_id=customer_id, points=body.points,
                          idempotency_key=body.idempotency_key, actor_id=principal.user_id)
        return {"code": r.code, "points": r.points, "value": str(r.value), "currency": r.currency,
                "status": r.status, "balance": points.balance(session, business_id=business_id,
                                                              customer_id=customer_id)}


@router.post("/loyalty/{business_id}/rewards/{code}/{verb}", responses=ERRORS)
def reward_transition(business_id: uuid.UUID, code: str, verb: Literal["apply", "void"],
                      principal: Principal = Depends(WRITE)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        r = points.transition_redemption(session, business_id=business_id, code=code, verb=verb,
                                         actor_id=principal.user_id)
        return {"code": r.code, "status": r.status}


@router.get("/loyalty/{business_id}/program", responses=ERRORS)
def get_program(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        return _program_out(session, points.program(session, business_id=business_id))


def _program_out(session, p: Program) -> dict:
    out = p.model_dump(exclude={"sms_auth_token", "business_id"})
    out["sms_configured"] = bool(p.sms_account_sid and p.sms_auth_token and p.sms_from)
    out["tiers"] = [{"name": t.name, "threshold_points": t.threshold_points, "multiplier": float(t.multiplier),
                     "benefits": t.benefits} for t in points.tiers(session, business_id=p.business_id)]
    return out


@router.patch("/loyalty/{business_id}/program", responses=ERRORS)
def update_program(business_id: uuid.UUID, body: ProgramIn, principal: Principal = Depends(WRITE)) -> dict:
    access.editor(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        changes = body.model_dump(exclude_none=True, exclude={"tiers"})
        row = points.update_program(session, business_id=business_id, actor_id=principal.user_id, **changes)
        if body.tiers is not None:
            points.set_tiers(session, business_id=business_id, actor_id=principal.user_id,
                             tiers=[t.model_dump() for t in body.tiers])
        return _program_out(session, row)


@router.get("/loyalty/{business_id}/segments", responses=ERRORS)
def list_segments(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        built_in = segments.built_in_counts(session, business_id=business_id)
        return {
            "built_in": [{"key": k, "name": segments.BUILT_IN[k], "count": n,
                          "trend": [[d.isoformat(), c] for d, c in segments.trend(session, business_id=business_id,
                                                                                  segment_key=k)]}
                         for k, n in built_in.items()],
            "custom": [{"key": f"custom:{s.id}", "name": s.name, "count": s.member_count, "rules": s.rules}
                       for s in segments.list_segments(session, business_id=business_id)],
        }


@router.post("/loyalty/{business_id}/segments/preview", responses=ERRORS)
def preview_segment(business_id: uuid.UUID, body: SegmentIn, principal: Principal = Depends(READ)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        return {"count": segments.preview(session, business_id=business_id, rules=body.rules)}


@router.post("/loyalty/{business_id}/segments", status_code=201, responses=ERRORS)
def create_segment(business_id: uuid.UUID, body: SegmentIn, principal: Principal = Depends(WRITE)) -> dict:
    access.editor(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        s = segments.create(session, business_id=business_id, name=body.name, rules=body.rules,
                            actor_id=principal.user_id)
        return {"key": f"custom:{s.id}", "name": s.name, "count": s.member_count}


@router.get("/loyalty/{business_id}/churn", responses=ERRORS)
def churn_list(business_id: uuid.UUID, limit: int = Query(50, ge=1, le=500),
               principal: Principal = Depends(READ)) -> dict:
    """Customers most at risk (lowest chance of buying again) with reasons, and how the model compared with the
    recency rule and RFM on customers it did not learn from."""
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        run = scoring.latest_run(session, business_id=business_id)
        rows = session.exec(select(CustomerScore, Customer).join(Customer, col(Customer.id) == CustomerScore.customer_id)
                            .where(CustomerScore.business_id == business_id,
                                   col(CustomerScore.buy_again_probability).is_not(None))
                            .order_by(col(CustomerScore.buy_again_probability)).limit(limit)).all()
        return {
            "model": run and {"trained_on": run.trained_on, "auc_model": run.auc_model, "auc_recency": run.auc_recency,
                              "auc_rfm": run.auc_rfm, "customers": run.customers, "importance": run.importance,
                              "computed_at": run.created_at.isoformat()},
            "customers": [{"id": str(c.id), "name": c.name, "probability": s.buy_again_probability,
                           "recency_rule": s.recency_rule_probability, "rfm_score": s.rfm_score, "segment": s.segment,
                           "reasons": s.reasons} for s, c in rows],
        }


class TemplateIn(BaseModel):
    name: SafeText(120, min_length=1)
    channel: Literal["email", "sms"]
    subject: SafeText(200) = ""
    body: SafeText(5000, min_length=1) = Field(description="{first_name}, {points}, {business}, {tier} are filled in")


class TemplateOut(BaseModel):
    id: uuid.UUID
    name: str
    channel: str
    subject: str
    body: str


@router.get("/loyalty/{business_id}/templates", response_model=list[TemplateOut], responses=ERRORS)
def list_templates(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> list[TemplateOut]:
    """Saved messages a campaign can start from, by name."""
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        return [TemplateOut(id=t.id, name=t.name, channel=str(t.channel), subject=t.subject, body=t.body)
                for t in campaigns.templates(session, business_id=business_id)]


@router.post("/loyalty/{business_id}/templates", response_model=TemplateOut, status_code=201, responses=ERRORS)
def create_template(business_id: uuid.UUID, body: TemplateIn, principal: Principal = Depends(WRITE)) -> TemplateOut:
    """Health claims are refused and texts must fit with the disclaimer, as for campaigns."""
    access.editor(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        t = campaigns.save_template(session, business_id=business_id, name=body.name, channel=body.channel,
                                    subject=body.subject, body=body.body, actor_id=principal.user_id)
        return TemplateOut(id=t.id, name=t.name, channel=str(t.channel), subject=t.subject, body=t.body)


@router.get("/loyalty/{business_id}/campaigns", response_model=list[CampaignOut], responses=ERRORS)
def list_campaigns(business_id: uuid.UUID, principal: Principal = Depends(READ)) -> list[CampaignOut]:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        return [CampaignOut.of(c) for c in campaigns.list_campaigns(session, business_id=business_id)]


@router.post("/loyalty/{business_id}/campaigns", response_model=CampaignOut, status_code=201, responses=ERRORS)
def create_campaign(business_id: uuid.UUID, body: CampaignIn, principal: Principal = Depends(WRITE)) -> CampaignOut:
    access.editor(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        return CampaignOut.of(campaigns.create(session, business_id=business_id, actor_id=principal.user_id,
                                               **body.model_dump()))


@router.get("/loyalty/{business_id}/campaigns/{campaign_id}", responses=ERRORS)
def campaign_detail(business_id: uuid.UUID, campaign_id: uuid.UUID, principal: Principal = Depends(READ)) -> dict:
    access.reader(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        c = campaigns.get(session, business_id=business_id, campaign_id=campaign_id)
        p = campaigns.preview(session, c)
        return {"campaign": CampaignOut.of(c).model_dump(mode="json"), "audience": p.audience, "preview": p.samples,
                "stats": campaigns.stats(session, business_id=business_id, campaign_id=campaign_id)}


@router.post("/loyalty/{business_id}/campaigns/{campaign_id}/{verb}", response_model=CampaignOut, responses=ERRORS)
def campaign_transition(business_id: uuid.UUID, campaign_id: uuid.UUID,
                        verb: Literal["schedule", "unschedule", "cancel"], body: ScheduleIn | None = None,
                        principal: Principal = Depends(WRITE)) -> CampaignOut:
    access.editor(principal, business_id)
    with unit_of_work(tenant=principal) as session:
        c = campaigns.get(session, business_id=business_id, campaign_id=campaign_id, for_update=True)
        return CampaignOut.of(campaigns.transition(session, c, verb, actor_id=principal.user_id,
                                                   when=body.send_at if body else None))


# --- public endpoints --------------------------------------------------------------------------------------------
UNSUBSCRIBED_PAGE = "<!doctype html><title>Unsubscribed</title><p>You are unsubscribed and will get no more {what}.</p>"


@router.api_route("/loyalty/unsubscribe", methods=["GET", "POST"], response_class=Response,
                  responses={200: {"description": "A page saying the address is unsubscribed",
                                   "content": {"text/html": {}}}, **error_responses(400, 404, 422)})
def unsubscribe(c: uuid.UUID, ch: Literal["email", "sms"], t: str) -> HTMLResponse:
    """The link in every campaign email (GET from the browser, POST from one-click List-Unsubscribe)."""
    with unit_of_work() as session:
        customers.unsubscribe(session, customer_id=c, channel=ch, token=t)
    return HTMLResponse(UNSUBSCRIBED_PAGE.format(what="emails" if ch == "email" else "texts"))


async def _twilio_form(request: Request, business_id: uuid.UUID, kind: str) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    with unit_of_work() as session:
        program = session.exec(select(Program).where(Program.business_id == business_id)).first()
        token = program.sms_auth_token if program else None
    url = f"{get_settings().public_url.rstrip('/')}/api/v1/loyalty/sms/{kind}/{business_id}"
    if not token or not twilio.valid_signature(token, url, form, request.headers.get("X-Twilio-Signature")):
        raise PermissionDenied("Signature does not match.")
    return form


@router.post("/loyalty/sms/status/{business_id}", status_code=204, responses=error_responses(400, 403, 404, 422))
async def sms_status(business_id: uuid.UUID, request: Request) -> Response:
    form = await _twilio_form(request, business_id, "status")
    with unit_of_work() as session:
        sending.handle_status(session, business_id=business_id, params=form)
    return Response(status_code=204)


@router.post("/loyalty/sms/inbound/{business_id}", responses=error_responses(400, 403, 404, 422))
async def sms_inbound(business_id: uuid.UUID, request: Request) -> Response:
    """A text to the business's number: STOP / START handled at once; the reply goes back as TwiML."""
    form = await _twilio_form(request, business_id, "inbound")
    with unit_of_work() as session:
        reply = customers.handle_inbound_sms(session, business_id=business_id, from_phone=form.get("From", ""),
                                             body=form.get("Body", ""))
    body = f"<Message>{reply}</Message>" if reply else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', media_type="application/xml")
