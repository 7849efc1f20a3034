"""Platform admins edit the CQI without a deploy: draft new weights and parameters (validated), preview how
current scores would move, then activate (which rescores every active lot)."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.ui.admin import AdminState
from icc_app.quality import pricing, service
from icc_app.quality.models import ConfigStatus
from icc_app.quality.schemas import (
    ConfigRead,
    PreviewRead,
    PriceModelRead,
    config_read,
    preview_read,
    price_model_read,
)
from icc_app.quality.scoring import COMPONENTS
from icc_app.ui.components import card, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page


class CqiAdminState(AdminState):
    configs: list[ConfigRead] = []
    active: dict[str, str] = {}  # the active config's values as the form's defaults (field name -> text)
    draft_id: str = ""
    preview: PreviewRead = PreviewRead()
    models: list[PriceModelRead] = []
    pending: bool = False  # a slow action (preview, training) is running

    def _refresh(self) -> None:
        with unit_of_work() as session:
            current = service.active_config(session)
            self.active = {**{f"w_{k}": f"{v:g}" for k, v in current.weights.items()},
                           "half_life": str(current.params["freshness_half_life_days"]),
                           "safety_cap": str(current.params["safety_cap"]), "version": str(current.version)}
            minimum = int(current.params.get("model_min_samples", pricing.DEFAULT_MIN_SAMPLES))
            self.models = [price_model_read(m, pricing.can_promote(m, minimum)) for m in pricing.list_models(session)]
            self.configs = [config_read(c) for c in service.list_configs(session)]

    @rx.event
    def load(self):
        self.draft_id, self.preview, self.pending = "", PreviewRead(), False
        return self._open()

    @rx.event
    def draft(self, form: dict):
        principal, redirect = self._admin()
        if redirect:
            yield redirect
            return
        if self.pending:
            return
        self._reset_errors()
        try:
            weights = {name: float(form.get(f"w_{name}") or 0) for name in COMPONENTS}
            params = {"freshness_half_life_days": float(form.get("half_life") or 0),
                      "safety_cap": float(form.get("safety_cap") or -1)}
        except ValueError:
            self.form_error = "Weights and parameters are numbers."
            return
        self.pending = True
        yield
        try:
            with unit_of_work() as session:
                config = service.create_draft(session, admin=principal, weights=weights, params=params,
                                              note=form.get("note", ""))
                result = service.preview(session, admin=principal, config_id=config.id)
        except DomainError as exc:
            self._fail(exc)
            return
        finally:
            self.pending = False
        self.draft_id = str(config.id)
        self.preview = preview_read(config.version, result)
        self._refresh()

    @rx.event
    def train(self):
        principal, redirect = self._admin()
        if redirect:
            yield redirect
            return
        if self.pending:
            return
        self._reset_errors()
        self.pending = True
        yield
        try:
            with unit_of_work() as session:
                model = pricing.train(session)
        except DomainError as exc:
            self._fail(exc)
            return
        finally:
            self.pending = False
        self._refresh()
        yield rx.toast.success(f"Model v{model.version} trained; it scores in shadow mode.")

    @rx.event
    def promote(self, model_id: str):
        principal, redirect = self._admin()
        if redirect:
            return redirect
        self._reset_errors()
        try:
            with unit_of_work() as session:
                model = pricing.promote(session, admin=principal, model_id=uuid.UUID(model_id))
        except DomainError as exc:
            self._fail(exc)
            return
        self._refresh()
        return rx.toast.success(f"Model v{model.version} promoted.")

    @rx.event
    def activate(self):
        principal, redirect = self._admin()
        if redirect:
            return redirect
        try:
            with unit_of_work() as session:
                config = service.activate(session, admin=principal, config_id=uuid.UUID(self.draft_id))
        except DomainError as exc:
            self._fail(exc)
            return
        self.draft_id, self.preview = "", PreviewRead()
        self._refresh()
        return rx.toast.success(f"Version {config.version} is active; every active lot is being rescored.")


@app_page
def cqi_admin_page() -> rx.Component:
    err, active = CqiAdminState.errors, CqiAdminState.active
    return rx.vstack(
        page_header("CQI scoring", "Weights and parameters of the Cannabis Quality Index, versioned."),
        form_alert(CqiAdminState.form_error),
        card(rx.form(rx.vstack(
            rx.heading("New version (starts from version ", active.get("version", ""), ")", size="4", as_="h2"),
            rx.grid(*[labelled_input(f"{name.title()} weight", f"w_{name}", err.get(f"weight_{name}", ""),
                                     default_value=active.get(f"w_{name}", ""), input_mode="decimal")
                      for name in COMPONENTS], columns=rx.breakpoints(initial="2", md="6"), spacing="3", width="100%"),
            rx.box(rx.text(err.get("weights", ""), color_scheme="red", size="2", role="alert")),
            rx.grid(labelled_input("Freshness half-life (days)", "half_life", err.get("freshness_half_life_days", ""),
                                   default_value=active.get("half_life", "")),
                    labelled_input("Cap when a safety panel fails", "safety_cap", err.get("safety_cap", ""),
                                   default_value=active.get("safety_cap", "")),
                    labelled_input("Note", "note", err.get("note", "")), columns=rx.breakpoints(initial="1", md="3"), spacing="3",
                    width="100%"),
            rx.button("Save draft and preview", type="submit", id="cqi-preview", loading=CqiAdminState.pending,
                      disabled=CqiAdminState.pending),
            spacing="3", width="100%", align="start",
        ), on_submit=CqiAdminState.draft, reset_on_submit=False, key=active.get("version", ""))),
        rx.cond(CqiAdminState.draft_id != "", card(rx.vstack(
            rx.heading("Preview of version ", CqiAdminState.preview.version, size="4", as_="h2"),
            rx.text(CqiAdminState.preview.lots, " active lots: mean ", CqiAdminState.preview.before,
                    " → ", CqiAdminState.preview.after, "; ", CqiAdminState.preview.up, " up, ",
                    CqiAdminState.preview.down, " down.", id="cqi-preview-summary"),
            rx.foreach(CqiAdminState.preview.moves, lambda m: rx.text(
                rx.link(m.title, href="/exchange/lots/" + m.lot_id), ": ", m.before, " → ", m.after, size="2",
                class_name="cqi-move")),
            rx.button("Activate and rescore", on_click=CqiAdminState.activate, id="cqi-activate"),
            spacing="2", align="start"))),
        card(rx.vstack(
            rx.hstack(rx.heading("Price model (phase 3, shadow)", size="4", as_="h2"), rx.spacer(),
                      rx.button("Train on the trades so far", variant="soft", on_click=CqiAdminState.train,
                                loading=CqiAdminState.pending, disabled=CqiAdminState.pending, id="cqi-train"),
                      width="100%"),
            rx.text("LightGBM on the clearing prices of accepted offers; validated on the newest 20% of trades. It scores "
                    "beside the rules and is promoted only with enough trades and a lower error than the baseline "
                    "(median price of the product type).", size="2", color_scheme="gray"),
            rx.cond(CqiAdminState.models.length() == 0,
                    rx.text("No model yet: train one once the exchange has trades.", size="2", color_scheme="gray")),
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Model", "Status", "Trades (train + validation)", "Error", "Baseline error", "Trained", "Promotion")])),
                rx.table.body(rx.foreach(CqiAdminState.models, lambda m: rx.table.row(
                    rx.table.cell("v" + m.version), rx.table.cell(rx.badge(m.status_label)), rx.table.cell(m.trades),
                    rx.table.cell(m.mae), rx.table.cell(m.baseline), rx.table.cell(m.trained),
                    rx.table.cell(rx.cond((m.gate == "ready") & (m.status == "shadow"),
                                          rx.button("Promote", size="1", on_click=CqiAdminState.promote(m.id)),
                                          rx.text(m.gate, size="1")))))),
                width="100%"),
            spacing="3", width="100%", align="start")),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                     ("Version", "Status", "Weights", "Note")])),
                      rx.table.body(rx.foreach(CqiAdminState.configs, lambda c: rx.table.row(
                          rx.table.cell(c.version),
                          rx.table.cell(rx.badge(c.status_label, color_scheme=rx.match(
                              c.status, (ConfigStatus.active.value, "green"), (ConfigStatus.draft.value, "amber"),
                              "gray"))),
                          rx.table.cell(rx.text(c.weights, size="1")), rx.table.cell(c.note)))),
                      width="100%", variant="surface"),
        width="100%", align="start", spacing="4",
    )


def register(app: rx.App) -> None:
    app.add_page(cqi_admin_page, route="/admin/cqi", title="CQI scoring | ICC", on_load=CqiAdminState.load)
