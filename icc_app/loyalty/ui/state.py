"""State of the loyalty console: customers and segments (with the segment builder), campaigns (editor, preview,
schedule, delivery stats) and the churn list. Thin: validate, call the loyalty services in a unit of work, keep
plain dicts of strings for the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import reflex as rx

from icc_app.core.db import enqueue, unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Business, Product
from icc_app.identity.permissions import has_product
from icc_app.identity.ui.state import AuthFormState
from icc_app.loyalty import access, campaigns, scoring, segments
from icc_app.loyalty.models import Campaign
from icc_app.ui.format import local_time, plural

CHANNELS = {"email": "Email", "sms": "Text message"}
STATUS_WORDS = {"draft": "Draft", "scheduled": "Scheduled", "sending": "Sending", "sent": "Sent",
                "cancelled": "Cancelled"}
DELIVERY_WORDS = {"queued": "Waiting", "sent": "Sent", "delivered": "Delivered", "failed": "Failed",
                  "held_out": "Held out (control)", "skipped": "Not sent (consent, age or limit)"}
EMPTY_RULE = {"field": "recency_days", "op": ">", "value": ""}
EMPTY_DRAFT = {"name": "", "channel": "email", "segment_key": "lapsing", "subject": "", "body_a": "", "body_b": "",
               "holdout_percent": "10", "send_at": ""}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


class LoyaltyState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    timezone: str = "America/Denver"
    segment_cards: list[dict[str, str]] = []
    custom_segments: list[dict[str, str]] = []
    segment_options: list[dict[str, str]] = []
    rules: list[dict[str, str]] = []
    rule_draft: dict[str, str] = EMPTY_RULE
    segment_name: str = ""
    preview_count: str = ""
    draft: dict[str, str] = EMPTY_DRAFT
    preview_rows: list[dict[str, str]] = []
    preview_audience: str = ""
    campaign_rows: list[dict[str, str]] = []
    selected: str = ""
    stats_rows: list[dict[str, str]] = []
    stats_summary: dict[str, str] = {}
    churn_rows: list[dict[str, str]] = []
    model_summary: dict[str, str] = {}
    pending: bool = False
    template_options: list[dict[str, str]] = []

    def _business(self, principal) -> uuid.UUID | None:
        for m in principal.memberships:
            if has_product(m, Product.operations):
                with unit_of_work() as session:
                    business = session.get(Business, m.business_id)
                    self.timezone = business.timezone if business else "America/Denver"
                return m.business_id
        return None

    def _refresh(self, principal) -> None:
        business_id = self._business(principal)
        self.business_id = str(business_id) if business_id else ""
        if business_id is None:
            return
        with unit_of_work(tenant=principal) as session:
            counts = segments.built_in_counts(session, business_id=business_id)
            cards = []
            for key, name in segments.BUILT_IN.items():
                trend = segments.trend(session, business_id=business_id, segment_key=key, days=30)
                change = trend[-1][1] - trend[0][1] if len(trend) > 1 else 0
                cards.append({"key": key, "name": name, "count": f"{counts[key]:,}",
                              "trend": ("No trend yet" if len(trend) < 2 else
                                        f"{'+' if change >= 0 else ''}{change:,} in {(trend[-1][0] - trend[0][0]).days}"
                                        " days")})
            self.segment_cards = cards
            custom = segments.list_segments(session, business_id=business_id)
            self.custom_segments = [{"key": f"custom:{s.id}", "name": s.name, "count": f"{s.member_count:,}",
                                     "rules": "; ".join(_rule_words(r) for r in s.rules)} for s in custom]
            self.segment_options = ([{"key": "all", "name": "All enrolled customers"}]
                                    + [{"key": k, "name": v} for k, v in segments.BUILT_IN.items()]
                                    + [{"key": s["key"], "name": s["name"]} for s in self.custom_segments])
            self.template_options = [{"id": str(t.id), "name": f"{t.name} ({CHANNELS[str(t.channel)].lower()})"}
                                     for t in campaigns.templates(session, business_id=business_id)]
            self.campaign_rows = [self._campaign_row(c) for c in campaigns.list_campaigns(session,
                                                                                          business_id=business_id)]
            run = scoring.latest_run(session, business_id=business_id)
            self.model_summary = {} if run is None else {
                "trained_on": {"own": "This store's own history", "pooled": "Pooled across stores (too little "
                               "history here yet)", "none": "Not enough history yet"}.get(run.trained_on, run.trained_on),
                "auc_model": _pct(run.auc_model), "auc_recency": _pct(run.auc_recency), "auc_rfm": _pct(run.auc_rfm),
                "customers": f"{run.customers:,}", "when": local_time(run.created_at, zone=self.timezone)}
            self._load_churn(session, business_id)
            if self.selected:
                self._load_stats(session, business_id, uuid.UUID(self.selected))

    def _campaign_row(self, c: Campaign) -> dict[str, str]:
        return {"id": str(c.id), "name": c.name, "channel": CHANNELS[str(c.channel)], "status": str(c.status),
                "status_words": STATUS_WORDS[str(c.status)],
                "segment": next((o["name"] for o in self.segment_options if o["key"] == c.segment_key), "A segment"),
                "when": local_time(c.scheduled_at, zone=self.timezone) if c.scheduled_at else "Not scheduled"}

    def _load_churn(self, session, business_id: uuid.UUID) -> None:
        from sqlmodel import col, select

        from icc_app.loyalty.models import Customer, CustomerScore

        rows = session.exec(select(CustomerScore, Customer).join(Customer, col(Customer.id) == CustomerScore.customer_id)
                            .where(CustomerScore.business_id == business_id, Customer.business_id == business_id,
                                   CustomerScore.frequency > 0)
                            # the model's least likely first; without a model yet, the recency rule's order
                            .order_by(col(CustomerScore.buy_again_probability).asc().nulls_last(),
                                      col(CustomerScore.recency_rule_probability).asc().nulls_last())
                            .limit(25)).all()
        self.churn_rows = [{"name": c.name or "Customer", "probability": _pct(s.buy_again_probability),
                            "recency": _pct(s.recency_rule_probability), "rfm": str(s.rfm_score),
                            "segment": segments.BUILT_IN.get(s.segment, s.segment),
                            "reasons": "; ".join(reason_words(r) for r in s.reasons)} for s, c in rows]

    def _load_stats(self, session, business_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
        stats = campaigns.stats(session, business_id=business_id, campaign_id=campaign_id)
        self.stats_rows = [{"status": DELIVERY_WORDS.get(k, k), "count": f"{v:,}"} for k, v in stats["by_status"].items()]
        self.stats_summary = {"treated": _pct(stats["treated_rate"]), "holdout": _pct(stats["holdout_rate"]),
                              "lift": "–" if stats["lift"] is None else f"{stats['lift'] * 100:+.1f} points",
                              "redemptions": str(stats["redemptions"]),
                              "status": STATUS_WORDS.get(stats["status"], stats["status"])}

    def _as_editor(self, work):
        """`work(session, principal)` for Managers and Admins only (the console hides nothing the API allows)."""
        business_id = uuid.UUID(self.business_id)

        def run(session, principal):
            access.editor(principal, business_id)
            return work(session, principal)
        return run

    def _perform_once(self, work, success: str, *, then=None):
        """An editor's action with the button held while it runs (a second click meanwhile does nothing)."""
        if self.pending:
            return
        self.pending = True
        yield
        try:
            outcome = self._perform(self._as_editor(work), success, then=then)
        finally:
            self.pending = False
        yield outcome

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    # --- segment builder --------------------------------------------------------------------------------------
    @rx.event
    def set_rule_field(self, key: str, value: str):
        self.rule_draft = {**self.rule_draft, key: value}

    @rx.event
    def set_segment_name(self, value: str):
        self.segment_name = value

    @rx.event
    def add_rule(self):
        if self.rule_draft["field"] in segments.FILTER_FIELDS and segments.FILTER_FIELDS[self.rule_draft["field"]][1] \
                == "number" and not self.rule_draft["value"].strip():
            self.errors = {**self.errors, "rules": "Enter a value for the rule."}
            return
        self.rules = [*self.rules, {**self.rule_draft, "words": _rule_words(self.rule_draft)}]
        self.rule_draft = dict(EMPTY_RULE)
        self.errors = {k: v for k, v in self.errors.items() if k != "rules"}
        return LoyaltyState.count_segment

    @rx.event
    def remove_rule(self, index: int):
        self.rules = [r for i, r in enumerate(self.rules) if i != index]
        return LoyaltyState.count_segment

    def _clean_rules(self) -> list[dict]:
        return [{"field": r["field"], "op": r["op"], "value": r["value"]} for r in self.rules]

    @rx.event
    def count_segment(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        if not self.rules:
            self.preview_count = ""
            return
        try:
            with unit_of_work(tenant=principal) as session:
                n = segments.preview(session, business_id=uuid.UUID(self.business_id), rules=self._clean_rules())
        except DomainError as exc:
            self._fail(exc)
            return
        self.preview_count = plural(n, "customer") + " match now"

    @rx.event
    def save_segment(self):
        rules = self._clean_rules()

        def done(_):
            self.rules, self.segment_name, self.preview_count = [], "", ""

        yield from self._perform_once(lambda s, p: segments.create(s, business_id=uuid.UUID(self.business_id),
                                                                   name=self.segment_name, rules=rules,
                                                                   actor_id=p.user_id),
                                      "Segment saved.", then=done)

    @rx.event
    def recompute(self):
        from icc_app.loyalty import customers

        def work(session, principal):
            customers.sync_from_pos(session, business_id=uuid.UUID(self.business_id))
            return scoring.compute(session, business_id=uuid.UUID(self.business_id))

        yield from self._perform_once(work, "Segments and scores recomputed.")

    # --- campaigns ----------------------------------------------------------------------------------------------
    @rx.event
    def set_draft(self, key: str, value: str):
        self.draft = {**self.draft, key: value}
        self.errors = {k: v for k, v in self.errors.items() if k != key}

    @rx.event
    def use_template(self, template_id: str):
        """Start the draft from a saved template: its channel, subject and message."""
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work(tenant=principal) as session:
            chosen = next((t for t in campaigns.templates(session, business_id=uuid.UUID(self.business_id))
                           if str(t.id) == template_id), None)
            if chosen is None:
                return rx.toast.error("That template is gone.")
            self.draft = {**self.draft, "channel": str(chosen.channel), "subject": chosen.subject,
                          "body_a": chosen.body}
        self.preview_rows, self.preview_audience = [], ""
        return None

    @rx.event
    def save_template(self):
        """The draft's message (version A) kept as a template under the draft's name."""
        d = self.draft
        yield from self._perform_once(lambda s, p: campaigns.save_template(
            s, business_id=uuid.UUID(self.business_id), name=d["name"], channel=d["channel"], subject=d["subject"],
            body=d["body_a"], actor_id=p.user_id), f"Template \"{d['name'].strip()}\" saved.")

    def _create(self, session, principal) -> Campaign:
        d = self.draft
        try:
            holdout = int(d["holdout_percent"] or 0)
        except ValueError:
            holdout = -1
        return campaigns.create(session, business_id=uuid.UUID(self.business_id), name=d["name"], channel=d["channel"],
                                segment_key=d["segment_key"], subject=d["subject"], body_a=d["body_a"],
                                body_b=d["body_b"] or None, holdout_percent=holdout, actor_id=principal.user_id)

    @rx.event
    def preview(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        try:
            with unit_of_work(tenant=principal) as session:
                with session.begin_nested() as savepoint:  # a preview saves nothing
                    shown = campaigns.preview(session, self._create(session, principal))
                    savepoint.rollback()
        except DomainError as exc:
            self._fail(exc)
            return
        self.preview_rows = [{"variant": "Version " + s["variant"].upper(), "subject": s["subject"],
                              "body": s["body"]} for s in shown.samples]
        self.preview_audience = f"{plural(shown.audience, 'customer')} in this segment now (consent, age and " \
                                "weekly limits are checked again when it sends)"

    @rx.event
    def save_and_schedule(self):
        send_at = self.draft["send_at"].strip()
        try:
            when = (datetime.fromisoformat(send_at).replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)
                    if send_at else datetime.now(UTC))
        except ValueError:
            self.errors = {**self.errors, "send_at": "Choose a date and time."}
            return

        def work(session, principal):
            campaign = self._create(session, principal)
            campaigns.transition(session, campaign, "schedule", actor_id=principal.user_id, when=when)
            enqueue(session, "loyalty.send_campaign", str(campaign.business_id), str(campaign.id),
                    countdown=max(0.0, (when - datetime.now(UTC)).total_seconds()))
            return campaign

        def done(campaign):
            self.draft, self.preview_rows, self.preview_audience = dict(EMPTY_DRAFT), [], ""
            self.selected = str(campaign.id)

        yield from self._perform_once(work, "Campaign scheduled.", then=done)

    @rx.event
    def select_campaign(self, campaign_id: str):
        self.selected = campaign_id
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work(tenant=principal) as session:
            self._load_stats(session, uuid.UUID(self.business_id), uuid.UUID(campaign_id))

    @rx.event
    def cancel_campaign(self, campaign_id: str):
        def work(session, principal):
            c = campaigns.get(session, business_id=uuid.UUID(self.business_id), campaign_id=uuid.UUID(campaign_id),
                              for_update=True)
            return campaigns.transition(session, c, "cancel", actor_id=principal.user_id)

        yield from self._perform_once(work, "Campaign cancelled.")


DAY_FEATURES = {"recency_days", "age_days", "ipt_mean", "ipt_std", "ipt_last", "ipt_min", "ipt_first"}
MONEY_FEATURES = {"total_spend", "mean_spend", "max_spend", "last_spend", "first_spend", "spend_90d", "spend_180d",
                  "price_per_item", "spend_std"}
SHARE_FEATURES = {"bgnbd_p_alive", "pnbd_p_alive"}


def reason_words(reason: dict) -> str:
    """"days since the last purchase: 35 days (lowers)": the value in its unit, and which way it pushed."""
    name, value = reason["feature"], float(reason["value"])
    if name in DAY_FEATURES:
        shown = f"{value:,.0f} days"
    elif name in MONEY_FEATURES:
        shown = f"${value:,.0f}"
    elif name in SHARE_FEATURES:
        shown = f"{value:.0%}"
    elif name in ("overdue_ratio", "spend_trend"):
        shown = f"{value:.1f}\u00d7"
    else:
        shown = f"{value:,.2g}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{reason['words']}: {shown} ({'raises' if reason['contribution'] > 0 else 'lowers'} the chance)"


def _rule_words(rule: dict) -> str:
    label = segments.FILTER_FIELDS.get(rule["field"], (rule["field"], ""))[0]
    value = rule["value"]
    if isinstance(value, bool) or str(value).lower() in ("true", "false"):
        value = "yes" if str(value).lower() == "true" else "no"
    elif rule["field"] == "segment":
        value = segments.BUILT_IN.get(str(value), value)
    elif isinstance(value, float) or str(value).replace(".", "", 1).isdigit():
        value = f"{float(value):g}"
    return f"{label} {segments.OPERATORS.get(rule['op'], rule['op'])} {value}"
