"""State of the operations pages (forecasts, reorder and purchase orders, expirations, pricing). Thin: check the
session, call the operations services in a unit of work, keep plain rows (strings) for the pages."""

from __future__ import annotations

import uuid
from decimal import Decimal

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import has_product
from icc_app.identity.ui.state import AuthFormState
from icc_app.operations import data, forecast_service, pricing, purchasing, scoping, sending
from icc_app.operations.models import PurchaseOrderStatus
from icc_app.ui.format import label, local_time, plural

IMPORT_UPLOAD = "ops-import"
TRUST_WORDS = {"good": "Good", "fair": "Fair", "low": "Low", "unknown": "Not enough history"}
TRUST_COLORS = {"good": "green", "fair": "amber", "low": "red", "unknown": "gray"}
EMPTY_POLICY = {"product": "", "supplier_name": "", "supplier_email": "", "lead_time_days": "7",
                "min_order_qty": "1", "service_level": "95"}


def _money(value) -> str:
    return "" if value is None else f"${Decimal(value):,.2f}"


def _qty(value) -> str:
    return f"{float(value):,.1f}".removesuffix(".0")


class OperationsState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    business_name: str = ""
    busy: bool = False
    import_kind: str = "sales"
    import_summary: str = ""
    import_errors: list[str] = []
    forecasts: list[dict[str, str]] = []
    chosen: dict[str, str] = {}
    chart: list[dict] = []
    plan_rows: list[dict[str, str]] = []
    orders: list[dict[str, str]] = []
    order: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    lot_options: dict[str, list[dict[str, str]]] = {}
    lot_choice: dict[str, str] = {}
    line_qty: dict[str, str] = {}
    suggestions: list[dict[str, str]] = []
    alerts: list[dict[str, str]] = []
    products: list[dict[str, str]] = []
    policy: dict[str, str] = dict(EMPTY_POLICY)

    # ---- loading ----------------------------------------------------------------------------------------------
    def _business(self, principal) -> uuid.UUID | None:
        mine = [m for m in principal.memberships if has_product(m, Product.operations)]
        if not mine:
            return None
        chosen = next((m for m in mine if str(m.business_id) == self.business_id), mine[0])
        self.business_id, self.business_name = str(chosen.business_id), chosen.business_name
        return chosen.business_id

    def _refresh(self, principal) -> None:
        business_id = self._business(principal)
        if business_id is None:
            self.business_id = ""
            return
        with unit_of_work(tenant=principal) as session:
            self._load_forecasts(session, principal, business_id)
            self._load_orders(session, principal, business_id)
            self.suggestions = [self._suggestion_row(s) for s in pricing.list_suggestions(
                session, principal=principal, business_id=business_id)]
            self.alerts = [{"name": a.name, "category": label(a.category), "batch": a.batch or "—",
                            "quantity": _qty(a.quantity), "expires": a.expires_on.isoformat(),
                            "days": plural(a.days_left, "day"), "price": _money(a.current_price) or "—",
                            "markdown": _money(a.suggested_price) or "—", "reason": a.reason,
                            "urgent": "yes" if a.days_left <= 7 else ""}
                           for a in pricing.expiring(session, principal=principal, business_id=business_id)]

    def _load_forecasts(self, session, principal, business_id) -> None:
        rows = forecast_service.list_forecasts(session, principal=principal, business_id=business_id)
        self.forecasts = [{"id": str(f.id), "name": f.name if f.level == "product" else label(f.node_key),
                           "level": label(f.level), "model": f.model, "trust": forecast_service.trust(f.backtest_mase),
                           "trust_text": TRUST_WORDS[forecast_service.trust(f.backtest_mase)],
                           "mase": "—" if f.backtest_mase is None else f"{f.backtest_mase:.2f}",
                           "next_week": _qty(sum(v["mean"] for v in f.values[:7])),
                           "refreshed": local_time(f.refreshed_at)} for f in rows]
        if self.chosen.get("id") and not any(r["id"] == self.chosen["id"] for r in self.forecasts):
            self.chosen, self.chart = {}, []

    def _load_orders(self, session, principal, business_id) -> None:
        self.products = [{"value": f"{loc}|{key}", "label": name if loc == "main" else f"{name} ({loc[:8]})"}
                         for loc, key, name in purchasing.products(session, principal=principal,
                                                                   business_id=business_id)]
        self.plan_rows = [{"product": p.name, "supplier": p.policy.supplier_name, "on_hand": _qty(p.on_hand),
                           "on_order": _qty(p.on_order), "reorder_point": _qty(p.reorder_point),
                           "order_up_to": _qty(p.order_up_to), "order": _qty(p.order_quantity),
                           "due": "yes" if p.order_quantity > 0 else "",
                           "cover": "—" if p.days_of_supply is None else plural(round(p.days_of_supply), "day"),
                           "lead": plural(p.policy.lead_time_days, "day"),
                           "trust": TRUST_WORDS[p.trust]}
                          for p in purchasing.reorder_plan(session, principal=principal, business_id=business_id)]
        self.orders = [{"id": str(po.id), "number": po.number, "supplier": po.supplier_name,
                        "status": label(po.status), "total": _money(po.total), "created": local_time(po.created_at),
                        "ccx": "yes" if po.supplier_business_id else ""}
                       for po in purchasing.list_orders(session, principal=principal, business_id=business_id)]
        if self.order.get("id"):
            self._load_order(session, principal, business_id, uuid.UUID(self.order["id"]))

    def _load_order(self, session, principal, business_id, po_id: uuid.UUID) -> None:
        po, lines, events = purchasing.get_order(session, principal=principal, business_id=business_id, po_id=po_id)
        self.order = {"id": str(po.id), "number": po.number, "supplier": po.supplier_name, "status": po.status,
                      "status_text": label(po.status), "total": _money(po.total), "ccx": "yes" if po.supplier_business_id
                      else "", "email": po.supplier_email or ""}
        self.lines = [{"id": str(x.id), "name": x.name, "quantity": _qty(x.quantity), "cost": _money(x.unit_cost) or "—",
                       "on_hand": _qty(x.on_hand), "reorder_point": _qty(x.reorder_point),
                       "offer": "Offer made" if x.offer_id else ""} for x in lines]
        self.line_qty = {x["id"]: x["quantity"] for x in self.lines}
        self.events = [{"text": f"{label(e.from_status) or 'Created'} → {label(e.to_status)}", "reason": e.reason,
                        "at": local_time(e.created_at)} for e in events]
        self.lot_options = {}
        if po.supplier_business_id and PurchaseOrderStatus(po.status) == PurchaseOrderStatus.approved:
            found = sending.candidate_lots(session, principal=principal, business_id=business_id, po_id=po.id)
            self.lot_options = {str(line_id): [{"id": str(c.lot_id), "label": (
                f"{c.title} · {c.available_qty} {c.unit} at ${c.price_per_unit} · CQI "
                f"{'—' if c.cqi_score is None else f'{c.cqi_score:.0f}'}")} for c in lots]
                for line_id, lots in found.items()}
            self.lot_choice = {k: (v[0]["id"] if v else "") for k, v in self.lot_options.items()}

    def _suggestion_row(self, s) -> dict[str, str]:
        change = (s.suggested_price - s.current_price) / s.current_price * 100 if s.current_price else Decimal(0)
        effect = s.expected_revenue_change_pct
        return {"id": str(s.id), "name": s.name, "category": label(s.category),
                "kind": "Markdown" if s.kind == "markdown" else "Price", "current": _money(s.current_price),
                "suggested": _money(s.suggested_price), "floor": _money(s.floor_price), "reason": s.reason,
                "change": f"{change:+.0f}%",
                "details": " · ".join(part for part in (
                    f"Margin floor {_money(s.floor_price)}",
                    plural(s.factors["competitors"], "nearby price") if s.factors.get("competitors")
                    else "no nearby menus to compare",
                    None if effect is None else f"expected revenue {effect:+.1f}%") if part)}

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    # ---- forecasts --------------------------------------------------------------------------------------------
    @rx.event
    def choose_forecast(self, forecast_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        business_id = uuid.UUID(self.business_id)
        with unit_of_work(tenant=principal) as session:
            f = forecast_service.get_forecast(session, principal=principal, business_id=business_id,
                                              forecast_id=uuid.UUID(forecast_id))
            past = forecast_service.history(session, business_id, f.location_key, f.level, f.node_key, days=42)
        self.chosen = {"id": forecast_id, "name": f.name if f.level == "product" else label(f.node_key),
                       "model": f.model, "trust": forecast_service.trust(f.backtest_mase),
                       "trust_text": TRUST_WORDS[forecast_service.trust(f.backtest_mase)],
                       "notes": "; ".join(f.notes) or "—",
                       "mase": "—" if f.backtest_mase is None else f"{f.backtest_mase:.2f}"}
        # Every point carries every key (None where it has no value), so the chart's lines break only where
        # they should: sales up to yesterday, the forecast and its bands from today.
        self.chart = [{"date": d.isoformat()[5:], "actual": round(v, 2), "forecast": None, "band80": None,
                       "band95": None} for d, v in past] + [
            {"date": v["date"][5:], "actual": None, "forecast": round(v["mean"], 2),
             "band80": [round(v["lo_80"], 2), round(v["hi_80"], 2)],
             "band95": [round(v["lo_95"], 2), round(v["hi_95"], 2)]} for v in f.values]

    @rx.event
    def close_chart(self):
        self.chosen, self.chart = {}, []

    @rx.event
    def refresh_forecasts(self):
        def run(session, principal):
            scoping.member(principal, uuid.UUID(self.business_id), min_role=Role.manager)
            return forecast_service.refresh_forecasts(session, business_id=uuid.UUID(self.business_id))
        return self._perform(run, "Forecasts refreshed.")

    @rx.event
    def set_import_kind(self, value: str):
        self.import_kind = value if value in ("sales", "inventory") else "sales"

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files:
            return
        self.busy = True
        yield
        content = await files[0].read()
        run = data.import_sales if self.import_kind == "sales" else data.import_inventory
        try:
            with unit_of_work(tenant=principal) as session:
                report = run(session, principal=principal, business_id=uuid.UUID(self.business_id), data=content)
        except DomainError as exc:
            self.busy, self.import_summary, self.import_errors = False, "", []
            yield rx.toast.error(exc.message)
            return
        self.busy = False
        self.import_summary = f"{plural(report.saved, 'row')} saved, {plural(len(report.errors), 'row')} refused."
        self.import_errors = [f"Line {e['line']}: {e['message']}" for e in report.errors]
        self._refresh(principal)
        yield rx.toast.success(self.import_summary)

    # ---- reorder policies and purchase orders --------------------------------------------------------------------------------------
    @rx.event
    def set_policy_field(self, name: str, value: str):
        self.policy = {**self.policy, name: value}

    @rx.event
    def save_policy(self):
        form = dict(self.policy)
        if "|" not in form["product"]:
            self.errors = {**self.errors, "product": "Choose a product."}
            return None

        def save(session, principal):
            location, product = form["product"].split("|", 1)
            try:
                lead, level = int(form["lead_time_days"] or "0"), float(form["service_level"] or "0") / 100
            except ValueError:
                raise DomainError("Lead time and service level are numbers.", field="lead_time_days") from None
            return purchasing.set_policy(
                session, principal=principal, business_id=uuid.UUID(self.business_id), product_key=product,
                location_key=location, supplier_name=form["supplier_name"], supplier_email=form["supplier_email"],
                lead_time_days=lead, min_order_qty=form["min_order_qty"] or "1", service_level=level)

        def cleared(_policy):
            self.policy = dict(EMPTY_POLICY)

        return self._perform(save, "Reorder policy saved.", then=cleared)

    @rx.event
    def draft_orders(self):
        def run(session, principal):
            scoping.member(principal, uuid.UUID(self.business_id), min_role=Role.manager)
            return purchasing.draft_orders(session, business_id=uuid.UUID(self.business_id),
                                           actor_id=principal.user_id)
        return self._perform(run, "Purchase orders drafted for everything at its reorder point.")

    @rx.event
    def open_order(self, po_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work(tenant=principal) as session:
            self._load_order(session, principal, uuid.UUID(self.business_id), uuid.UUID(po_id))

    @rx.event
    def close_order(self):
        self.order, self.lines, self.events, self.lot_options = {}, [], [], {}

    @rx.event
    def set_line_qty(self, line_id: str, value: str):
        self.line_qty = {**self.line_qty, line_id: value}

    @rx.event
    def save_line(self, line_id: str):
        return self._perform(lambda s, p: purchasing.update_line(
            s, principal=p, business_id=uuid.UUID(self.business_id), po_id=uuid.UUID(self.order["id"]),
            line_id=uuid.UUID(line_id), quantity=self.line_qty.get(line_id, "0") or "0"), "Quantity saved.")

    @rx.event
    def set_lot_choice(self, line_id: str, lot_id: str):
        self.lot_choice = {**self.lot_choice, line_id: lot_id}

    @rx.event
    def order_status(self, to: str):
        if self.busy:
            return None
        words = {"approved": "Purchase order approved.", "cancelled": "Purchase order cancelled.",
                 "draft": "Back to draft: edit and approve again.", "received": "Marked as received."}
        return self._perform(lambda s, p: purchasing.change_status(
            s, principal=p, business_id=uuid.UUID(self.business_id), po_id=uuid.UUID(self.order["id"]),
            to=PurchaseOrderStatus(to)), words[to])

    @rx.event
    def send_order(self):
        choices = {uuid.UUID(k): uuid.UUID(v) for k, v in self.lot_choice.items() if v}
        return self._perform(lambda s, p: sending.send_order(
            s, principal=p, business_id=uuid.UUID(self.business_id), po_id=uuid.UUID(self.order["id"]),
            lot_choices=choices), "Sent: offers on CCX" if choices else "Sent to the supplier by email.")

    # ---- pricing ----------------------------------------------------------------------------------------------
    @rx.event
    def refresh_prices(self):
        def run(session, principal):
            scoping.member(principal, uuid.UUID(self.business_id), min_role=Role.manager)
            return pricing.suggest_prices(session, business_id=uuid.UUID(self.business_id))
        return self._perform(run, "Price suggestions refreshed.")

    @rx.event
    def decide(self, suggestion_id: str, approve: bool):
        if self.busy:
            return None
        return self._perform(lambda s, p: pricing.decide(s, principal=p, business_id=uuid.UUID(self.business_id),
                                                         suggestion_id=uuid.UUID(suggestion_id), approve=approve),
                             "Price approved." if approve else "Suggestion dismissed.")

    @rx.var
    def csv_href(self) -> str:
        return f"/api/v1/operations/{self.business_id}/approved-prices.csv" if self.business_id else ""

