"""The seller's lots: create one, attach its COA (parsed by the worker) and photos, then list, pause or
withdraw it. Every action goes through exchange.lots and is audited."""

from __future__ import annotations

import uuid
from datetime import date

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.exchange import lots
from icc_app.exchange.lots import LotInput
from icc_app.exchange.models import ProductType, StrainType, Unit
from icc_app.exchange.read_models import CoaRow, LotEditor, OwnLotRow, coa_row, lot_editor, own_lot_row
from icc_app.exchange.ui.common import LOT_COLORS, choice, options, status_badge, submit_button, trading_business
from icc_app.identity.ui.state import AuthFormState
from icc_app.labs import service as labs
from icc_app.labs.models import CoaStatus
from icc_app.ui.components import card, empty_state, field_error, form_alert, labelled_input, page_header
from icc_app.ui.layout import app_page

SELL = "/exchange/sell"
COA_UPLOAD, PHOTO_UPLOAD = "lot-coa", "lot-photo"


class SellState(AuthFormState):
    loaded: bool = False
    can_sell: bool = True
    my_lots: list[OwnLotRow] = []
    selected: LotEditor = LotEditor()
    coas: list[CoaRow] = []
    parsing: bool = False
    uploading: bool = False
    saving: bool = False  # "Save draft" is running: the button is disabled
    form_key: str = ""  # one per render of the new-lot form: a double click saves one draft
    product_type: str = "flower"
    strain_type: str = "hybrid"
    unit: str = "lb"
    require_pof: bool = False

    def _business(self, principal):
        return trading_business(principal)

    def _refresh(self, principal) -> None:
        business_id = self._business(principal)
        self.can_sell = business_id is not None
        if business_id is None:
            return
        wanted = self.router.url.query_parameters.get("lot", "") or self.selected.id
        with unit_of_work(tenant=principal) as session:
            rows = lots.list_own(session, principal=principal, business_id=business_id)
            self.my_lots = [own_lot_row(lot) for lot in rows]
            chosen = next((lot for lot in rows if str(lot.id) == wanted), None)
            if chosen is not None:
                docs = lots.lot_coas(session, principal=principal, lot_id=chosen.id)
                self.coas = [coa_row(d) for d in docs]
                self.parsing = any(not CoaStatus(d.status).finished for d in docs)
                self.selected = lot_editor(chosen, lots.strain_check(chosen, lots.parsed_coa(session, chosen)))
            else:
                self.selected, self.coas, self.parsing = LotEditor(), [], False

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.selected, self.saving, self.form_key = LotEditor(), False, uuid.uuid4().hex
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def tick(self, _now: str = ""):
        if self.parsing:
            principal = self.principal()
            if principal is not None:
                self._refresh(principal)

    @rx.event
    def select(self, lot_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self.selected = LotEditor(id=lot_id)
        self._refresh(principal)

    @rx.event
    def set_product_type(self, value: str):
        self.product_type = value

    @rx.event
    def set_strain_type(self, value: str):
        self.strain_type = value

    @rx.event
    def set_unit(self, value: str):
        self.unit = value

    @rx.event
    def set_require_pof(self, value: bool):
        self.require_pof = value

    @rx.event
    def create(self, form: dict):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if self.saving:
            return
        self._reset_errors()
        try:
            harvest = date.fromisoformat(form["harvest_date"]) if form.get("harvest_date") else None
        except ValueError:
            self.errors = {"harvest_date": "Enter a date like 2026-09-30."}
            return
        data = LotInput(title=form.get("title", ""), product_type=self.product_type, strain_name=form.get("strain_name", ""),
                        strain_type=self.strain_type, quantity=form.get("quantity"), unit=self.unit,
                        min_order_qty=form.get("min_order_qty"), price_per_unit=form.get("price_per_unit"),
                        harvest_date=harvest, metrc_tag=form.get("metrc_tag"), description=form.get("description", ""),
                        delivery_terms=form.get("delivery_terms", ""), require_proof_of_funds=self.require_pof)
        self.saving = True
        yield
        try:
            # The key comes with the form (rendered into it), so both submissions of a double click carry the same.
            with unit_of_work(tenant=principal) as session:
                lot = lots.create_lot(session, principal=principal, business_id=self._business(principal), data=data,
                                      idempotency_key=form.get("form_key") or None)
        except DomainError as exc:
            self._fail(exc)
            return
        finally:
            self.saving = False
        if self.selected.id == str(lot.id):
            return  # the second submission of a double click: the draft is already shown
        self.selected, self.form_key = LotEditor(id=str(lot.id)), uuid.uuid4().hex
        self._refresh(principal)
        yield [rx.toast.success("Draft saved. Attach its COA to list it."),
               rx.call_script("document.getElementById('create-lot-form').reset()")]

    @rx.event
    async def upload_coa(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files or not self.selected.id:
            return
        self.uploading = True
        yield
        try:
            data = await files[0].read()
            with unit_of_work() as session:
                labs.upload_coa(session, principal, business_id=self._business(principal), data=data,
                                filename=files[0].name or "coa.pdf", lot_id=uuid.UUID(self.selected.id))
        except DomainError as exc:
            self.errors = {"coa": exc.message}
            return
        finally:
            self.uploading = False
        self._refresh(principal)
        yield rx.toast.info("COA uploaded: it is being read.")

    @rx.event
    async def upload_photo(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files or not self.selected.id:
            return
        try:
            for file in files[:6]:
                data = await file.read()
                with unit_of_work(tenant=principal) as session:
                    lots.add_photo(session, principal=principal, lot_id=uuid.UUID(self.selected.id), data=data,
                                   filename=file.name or "photo")
        except DomainError as exc:
            self.errors = {"photo": exc.message}
            return
        yield rx.toast.success("Photo added.")

    def _lot_action(self, action, success: str, seen: str = ""):
        """One of the manage panel's buttons: they are disabled while it runs, and a click made on a panel that
        showed another version or status of the lot (a double click) does nothing."""
        if self.saving or not self.selected.id or (seen and seen != self.selected.version + self.selected.status):
            return
        lot_id = uuid.UUID(self.selected.id)
        self.saving = True
        yield
        try:
            outcome = self._perform(lambda session, principal: action(session, principal, lot_id), success)
        finally:
            self.saving = False
        yield outcome

    @rx.event
    def save_terms(self, form: dict):
        """Edit the price, quantity, minimum order and description; the version guards against a concurrent edit."""
        def action(session, principal, lot_id):
            lot = lots.own_lot(session, principal, lot_id)
            data = LotInput(title=lot.title, product_type=str(lot.product_type), strain_name=lot.strain_name,
                            strain_type=str(lot.strain_type), quantity=form.get("edit_quantity"), unit=str(lot.unit),
                            min_order_qty=form.get("edit_min_order"), price_per_unit=form.get("edit_price"),
                            harvest_date=lot.harvest_date, package_date=lot.package_date, metrc_tag=lot.metrc_tag,
                            description=form.get("edit_description", ""), delivery_terms=lot.delivery_terms,
                            require_proof_of_funds=lot.require_proof_of_funds)
            return lots.update_lot(session, principal=principal, lot_id=lot_id, data=data,
                                   version=int(self.selected.version or "0"))

        return self._lot_action(action, "Lot updated.", form.get("seen", ""))

    @rx.event
    def publish(self, seen: str):
        return self._lot_action(lambda s, p, i: lots.publish(s, principal=p, lot_id=i), "Listed on the marketplace.",
                                seen)

    @rx.event
    def pause(self, seen: str):
        return self._lot_action(lambda s, p, i: lots.pause(s, principal=p, lot_id=i), "Listing paused.", seen)

    @rx.event
    def withdraw(self, seen: str):
        return self._lot_action(lambda s, p, i: lots.withdraw(s, principal=p, lot_id=i), "Lot withdrawn.", seen)


def _create_form() -> rx.Component:
    err = SellState.errors
    return card(rx.form(rx.vstack(
        rx.heading("New lot", size="4", as_="h2"),
        form_alert(SellState.form_error),
        rx.grid(
            labelled_input("Title", "title", err.get("title", ""), placeholder="e.g. GDP indoor flower, 2026 harvest"),
            labelled_input("Strain", "strain_name", err.get("strain_name", "")),
            choice("Product type", options(ProductType), SellState.product_type, SellState.set_product_type,
                   "product_type"),
            choice("Strain type", options(StrainType), SellState.strain_type, SellState.set_strain_type,
                   "strain_type"),
            labelled_input("Quantity", "quantity", err.get("quantity", ""), input_mode="decimal"),
            choice("Unit", options(Unit), SellState.unit, SellState.set_unit, "unit"),
            labelled_input("Minimum order", "min_order_qty", err.get("min_order_qty", ""), input_mode="decimal"),
            labelled_input("Asking price per unit ($)", "price_per_unit", err.get("price_per_unit", ""),
                           input_mode="decimal"),
            labelled_input("Harvest date", "harvest_date", err.get("harvest_date", ""), type="date"),
            labelled_input("Metrc package tag", "metrc_tag", err.get("metrc_tag", ""), placeholder="24 characters"),
            labelled_input("Delivery / pickup terms", "delivery_terms", err.get("delivery_terms", "")),
            labelled_input("Description", "description", err.get("description", "")),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        rx.checkbox("Require proof of funds before I accept an offer", checked=SellState.require_pof,
                    on_change=SellState.set_require_pof),
        rx.el.input(type="hidden", name="form_key", value=SellState.form_key),
        submit_button("Save draft", SellState.saving, id="save-lot"),
        spacing="3", width="100%", align="start",
    ), on_submit=SellState.create, reset_on_submit=False, id="create-lot-form"))


def _manage() -> rx.Component:
    sel = SellState.selected
    seen = sel.version + sel.status  # which state of the lot the buttons were shown for
    return card(rx.vstack(
        rx.hstack(rx.heading(sel.title, size="4", as_="h2"), status_badge(sel.status, sel.status_label, LOT_COLORS),
                  rx.spacer(), rx.link("View as buyers see it", href="/exchange/lots/" + sel.id, size="2"),
                  width="100%", align="center"),
        rx.cond(sel.reason != "", rx.text(sel.reason, size="2", color_scheme="amber")),
        rx.heading("Certificate of Analysis", size="3"),
        rx.cond(sel.coa_sample != "", rx.text("Sample name on the COA: ", rx.text.strong(sel.coa_sample), size="2")),
        rx.cond(sel.strain_mismatch, rx.callout("The COA's sample name does not match this lot's strain: buyers are "
                                                "shown a warning. Check that you attached the right COA.",
                                                icon="triangle-alert", color_scheme="red", size="1",
                                                id="seller-strain-mismatch")),
        rx.foreach(SellState.coas, lambda c: rx.hstack(
            rx.icon("file-text", size=16), rx.link(c.filename, href="/coas/" + c.id),
            rx.badge(c.status_label), rx.text("THC " + c.thc, size="2"), rx.text(c.reason, size="1", color_scheme="gray"),
            align="center", class_name="lot-coa-row")),
        rx.cond(SellState.parsing, rx.hstack(rx.spinner(), rx.text("Reading the COA…", size="2"),
                                             rx.moment(interval=1500, on_change=SellState.tick, display="none"))),
        rx.upload(rx.vstack(rx.icon("file-up", size=22), rx.text("Drop the lab's COA PDF here"), align="center"),
                  id=COA_UPLOAD, max_files=1, accept={"application/pdf": [".pdf"]},
                  on_drop=SellState.upload_coa(rx.upload_files(upload_id=COA_UPLOAD)),
                  border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1em", width="100%",
                  class_name="lot-coa-dropzone"),
        rx.cond(SellState.uploading, rx.hstack(rx.spinner(), rx.text("Uploading…"))),
        field_error(SellState.errors.get("coa", "")),
        rx.heading("Photos", size="3"),
        rx.upload(rx.text("Drop photos (JPEG, PNG, WebP)"), id=PHOTO_UPLOAD, max_files=6,
                  accept={"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]},
                  on_drop=SellState.upload_photo(rx.upload_files(upload_id=PHOTO_UPLOAD)),
                  border=f"1px dashed {rx.color('gray', 7)}", border_radius="12px", padding="0.8em", width="100%"),
        field_error(SellState.errors.get("photo", "")),
        rx.cond((sel.status != "withdrawn") & (sel.status != "sold_out"), rx.form(rx.vstack(
            rx.heading("Terms", size="3"),
            rx.grid(labelled_input("Price per unit ($)", "edit_price", SellState.errors.get("price_per_unit", ""),
                                   default_value=sel.price),
                    labelled_input("Quantity (" + sel.unit + ")", "edit_quantity",
                                   SellState.errors.get("quantity", ""), default_value=sel.quantity),
                    labelled_input("Minimum order", "edit_min_order", SellState.errors.get("min_order_qty", ""),
                                   default_value=sel.min_order),
                    columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%"),
            labelled_input("Description", "edit_description", SellState.errors.get("description", ""),
                           default_value=sel.description),
            rx.el.input(type="hidden", name="seen", value=seen),
            submit_button("Save terms", SellState.saving, variant="soft", id="save-terms"),
            width="100%", align="start"), on_submit=SellState.save_terms, reset_on_submit=False, key=sel.version,
            width="100%")),
        form_alert(SellState.form_error),
        rx.hstack(
            rx.cond((sel.status != "active") & (sel.status != "withdrawn") &
                    (sel.status != "sold_out"),
                    rx.button("List on the marketplace", on_click=SellState.publish(seen), id="publish-lot",
                              loading=SellState.saving, disabled=SellState.parsing | SellState.saving)),
            rx.cond(sel.status == "active", rx.button("Pause", variant="soft", on_click=SellState.pause(seen),
                                                      disabled=SellState.saving)),
            rx.cond(sel.status != "withdrawn",
                    rx.button("Withdraw", variant="soft", color_scheme="red", on_click=SellState.withdraw(seen),
                              disabled=SellState.saving)),
            spacing="2",
        ),
        spacing="3", width="100%", align="start",
    ))


def _lot_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.button(row.title, variant="ghost", on_click=SellState.select(row.id))),
        rx.table.cell(status_badge(row.status, row.status_label, LOT_COLORS)), rx.table.cell(row.price),
        rx.table.cell(row.available), rx.table.cell(row.thc),
    )


@app_page
def sell_page() -> rx.Component:
    return rx.vstack(
        page_header("My lots", "Create lots, attach their COAs and list them on the marketplace."),
        rx.cond(~SellState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            ~SellState.can_sell,
            empty_state("lock", "No exchange access", "Ask your business's Admin for access to the exchange."),
            rx.vstack(
                rx.cond(SellState.selected.id != "", _manage()),
                rx.cond(SellState.my_lots.length() > 0,
                        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                                     ("Lot", "Status", "Price", "Available", "THC")])),
                                      rx.table.body(rx.foreach(SellState.my_lots, _lot_row)), width="100%",
                                      variant="surface"),
                        empty_state("package", "No lots yet", "Create your first lot below.")),
                _create_form(),
                spacing="4", width="100%",
            ),
        )),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(sell_page, route=SELL, title="My lots | ICC", on_load=SellState.load)
