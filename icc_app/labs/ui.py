"""COA pages: the list with upload (/coas) and the viewer (/coas/[coa_id]): parsed panels beside the
original PDF, authenticity flags, parse progress, and the hand-correction form.

The viewer never says a document lacks something the parser did not find: a missing value is "not read", the
page lists what could not be read, and a value the parser was unsure of carries a "check this" badge."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Product
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.labs import service
from icc_app.labs.models import CORRECTABLE_FIELDS, STATUS_FIELDS, CoaDocument, CoaStatus
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, field_error, page_header, stat
from icc_app.ui.layout import app_page
from icc_app.ui.state import SessionState
from icc_app.ui.format import label, local_time, plural

UPLOAD_ID = "coa_upload"
PANEL_LABELS = {
    "pesticides_status": "Pesticides", "heavy_metals_status": "Heavy metals", "microbials_status": "Microbials",
    "mycotoxins_status": "Mycotoxins", "residual_solvents_status": "Residual solvents",
    "foreign_matter_status": "Foreign matter",
}
FIELD_LABELS = {f: f.replace("_pct", " %").replace("_aw", " (aw)").replace("_", " ").capitalize()
                for f in CORRECTABLE_FIELDS}
NOT_READ = "not read"
# What the viewer lists as "could not be read" when the parser found nothing for it.
KEY_FIELDS = ("total_thc_pct", "total_cbd_pct", "date_tested", "lab_name", "lab_license", "sample_name",
              *STATUS_FIELDS)
STATUS_COLORS = {"parsed": "green", "queued": "gray", "parsing": "blue", "needs review": "amber",
                 "rejected": "red", "failed": "red"}


def _exchange_business(principal: Principal) -> uuid.UUID | None:
    membership = next((m for m in principal.memberships if has_product(m, Product.exchange)), None)
    return membership.business_id if membership else None


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row(doc: CoaDocument) -> dict[str, str]:
    status = CoaStatus(doc.status).value
    critical = sum(1 for f in doc.flags or [] if f.get("severity") == "critical")
    return {"id": str(doc.id), "filename": doc.filename, "status": label(status),
            "color": STATUS_COLORS.get(status, "gray"),
            "lab": doc.lab_name or "—", "thc": _fmt(doc.total_thc_pct), "tested": _fmt(doc.date_tested),
            "flags": plural(len(doc.flags or []), "flag") if doc.flags else "None", "critical": str(critical),
            "uploaded": local_time(doc.created_at)}


class CoaListState(SessionState):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    uploading: bool = False
    can_upload: bool = False
    claimed_thc: str = ""
    upload_error: str = ""

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        business_id = _exchange_business(principal)
        self.can_upload = business_id is not None
        if business_id:
            with unit_of_work() as session:
                self.rows = [_row(d) for d in service.list_documents(session, principal, business_id)]
        else:
            self.rows = []
        self.loaded = True

    @rx.event
    def set_claimed_thc(self, value: str):
        self.claimed_thc = value
        self.upload_error = ""

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        business_id = _exchange_business(principal)
        if business_id is None or not files:
            return
        claimed = None
        if self.claimed_thc.strip():
            try:
                claimed = float(self.claimed_thc.strip().rstrip("%"))
            except ValueError:
                self.upload_error = "Claimed total THC must be a number, e.g. 24.5"
                return
        self.uploading = True
        yield
        try:
            file = files[0]
            data = await file.read()
            with unit_of_work() as session:
                doc = service.upload_coa(session, principal, business_id=business_id, data=data,
                                         filename=file.name or "coa.pdf", claimed_total_thc_pct=claimed)
        except DomainError as exc:
            self.uploading = False
            self.upload_error = exc.message
            return
        self.uploading = False
        self.claimed_thc = ""
        yield rx.redirect(f"/coas/{doc.id}")


class CoaViewState(SessionState):
    doc: dict[str, str] = {}
    values: dict[str, str] = {}
    panels: list[dict[str, str]] = []
    flags: list[dict[str, str]] = []
    cannabinoids: list[dict[str, str]] = []
    terpenes: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    unread: list[str] = []  # labels of key values the parser could not read
    unsure: dict[str, str] = {}  # field -> where the parser read it (page and text), for "check this"
    missing: bool = False
    field: str = "total_thc_pct"
    value: str = ""
    reason: str = ""
    errors: dict[str, str] = {}

    def _document_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(self.router.page.params.get("coa_id", "")))
        except ValueError:
            return None

    def _refresh(self, principal: Principal, document_id: uuid.UUID) -> bool:
        """Load the document; True while it is still queued or being parsed."""
        try:
            with unit_of_work() as session:
                doc = service.get_document(session, principal, document_id)
                status = CoaStatus(doc.status)
                analytes = service.analytes(session, principal, document_id) if status.finished else []
                corrections = service.corrections(session, principal, document_id)
        except DomainError:
            self.missing, self.doc = True, {}
            return False
        self.missing = False
        self.doc = {"id": str(doc.id), "filename": doc.filename, "status": label(status),
                    "color": STATUS_COLORS.get(status.value, "gray"), "reason": doc.status_reason or "",
                    "parser": doc.parser or "", "pages": _fmt(doc.pages), "parse_ms": _fmt(doc.parse_ms),
                    "sha256": doc.sha256[:16], "file_url": f"/api/v1/coas/{doc.id}/file",
                    "finished": "yes" if status.finished else ""}
        read = status.finished and doc.parsed is not None
        self.values = {f: (NOT_READ if read and getattr(doc, f) is None else _fmt(getattr(doc, f)))
                       for f in CORRECTABLE_FIELDS}
        self.unread = [FIELD_LABELS[f] for f in KEY_FIELDS if read and getattr(doc, f) is None]
        self.unsure = {f: _evidence(u) for f, u in service.low_confidence(doc).items()}
        self.panels = [{"label": PANEL_LABELS[f], "status": getattr(doc, f) or (NOT_READ if read else "—"),
                        "color": {"pass": "green", "fail": "red"}.get(getattr(doc, f) or "", "gray")}
                       for f in STATUS_FIELDS]
        self.flags = [{"code": f["code"], "severity": f["severity"], "message": f["message"],
                       "color": {"critical": "red", "warning": "amber"}.get(f["severity"], "blue")}
                      for f in doc.flags or [] if f["code"] != "unreadable"]  # the status reason already says it
        as_row = lambda a: {"name": a.name, "pct": _fmt(a.pct), "mg_g": _fmt(a.mg_g), "flag": a.flag or ""}  # noqa: E731
        self.cannabinoids = [as_row(a) for a in analytes if a.category == "cannabinoid"]
        self.terpenes = [as_row(a) for a in analytes if a.category == "terpene"]
        self.history = [{"field": FIELD_LABELS.get(c.field, c.field), "old": c.old_value or "—",
                         "new": c.new_value or "—", "reason": c.reason, "when": local_time(c.created_at)}
                        for c in corrections]
        return not status.finished

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        document_id = self._document_id()
        if document_id is None:
            self.missing = True
            return
        self._refresh(principal, document_id)

    @rx.event
    def tick(self, _now: str = ""):
        """Re-read the document while it is queued or being parsed (the worker updates the row)."""
        principal = self.principal()
        document_id = self._document_id()
        if principal is not None and document_id is not None and self.doc.get("finished", "yes") == "":
            self._refresh(principal, document_id)

    @rx.event
    def set_field(self, value: str):
        self.field, self.errors = value, {}

    @rx.event
    def set_value(self, value: str):
        self.value = value
        self.errors = {k: v for k, v in self.errors.items() if k not in ("value", self.field)}

    @rx.event
    def set_reason(self, value: str):
        self.reason = value
        self.errors = {k: v for k, v in self.errors.items() if k != "reason"}

    def _actor(self) -> tuple[Principal | None, uuid.UUID | None, rx.event.EventSpec | None]:
        """(principal, document id, redirect) for handlers that act on the open document."""
        principal, redirect = self.require_principal()
        return principal, (self._document_id() if principal else None), redirect

    @rx.event
    def save_correction(self):
        principal, document_id, redirect = self._actor()
        if redirect or document_id is None:
            return redirect
        try:
            with unit_of_work() as session:
                service.correct(session, principal, document_id, field=self.field, value=self.value,
                                reason=self.reason)
        except DomainError as exc:
            key = "reason" if exc.field == "reason" else "value"
            self.errors = {key: exc.message}
            return
        self._refresh(principal, document_id)
        self.value, self.reason, self.errors = "", "", {}
        return rx.toast.success(f"{FIELD_LABELS.get(self.field, self.field)} corrected; the original parse is kept.")

    @rx.event
    def reparse(self):
        principal, document_id, redirect = self._actor()
        if redirect or document_id is None:
            return redirect
        try:
            with unit_of_work() as session:
                service.reparse(session, principal, document_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._refresh(principal, document_id)


def _evidence(unsure: dict) -> str:
    where = f"page {unsure['page']}" if unsure.get("page") else "the PDF"
    text = f': "{unsure["text"][:120]}"' if unsure.get("text") else ""
    return f"Read with {unsure['confidence']:.0%} confidence from {where}{text}. Compare with the original."


# ---------------------------------------------------------------- list page


def _coa_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row["filename"], href="/coas/" + row["id"].to(str))),
        rx.table.cell(rx.badge(row["status"], color_scheme=row["color"].to(str))),
        rx.table.cell(row["lab"]),
        rx.table.cell(row["thc"]),
        rx.table.cell(row["tested"]),
        rx.table.cell(rx.cond(row["critical"] != "0", rx.badge(row["flags"], color_scheme="red"),
                              rx.badge(row["flags"], color_scheme="gray"))),
        rx.table.cell(row["uploaded"]),
    )


def _upload_zone() -> rx.Component:
    return card(
        rx.vstack(
            rx.heading("Upload a COA", size="4", as_="h2"),
            rx.el.label("Claimed total THC % (optional, checked against the COA)", html_for="claimed-thc",
                        style={"fontSize": "0.9em"}),
            rx.input(id="claimed-thc", placeholder="e.g. 24.5", value=CoaListState.claimed_thc,
                     on_change=CoaListState.set_claimed_thc, max_width="14em", aria_describedby="upload-error"),
            _named_file_input(rx.upload(
                rx.vstack(
                    rx.icon("file-up", size=28),
                    rx.text("Drop a COA PDF here or click to choose one", weight="medium"),
                    rx.text("PDF from the testing lab, up to 50 MB. The original is always kept.", size="1",
                            color_scheme="gray"),
                    align="center", spacing="2",
                ),
                id=UPLOAD_ID,
                max_files=1,
                accept={"application/pdf": [".pdf"]},
                on_drop=CoaListState.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
                border=f"2px dashed {rx.color('accent', 7)}",
                border_radius="12px",
                padding="2em",
                width="100%",
                cursor="pointer",
                class_name="coa-dropzone",
            ), "Choose a COA PDF to upload"),
            rx.cond(CoaListState.uploading, rx.hstack(rx.spinner(), rx.text("Uploading…"), align="center")),
            rx.box(field_error(CoaListState.upload_error), id="upload-error"),
            spacing="3", width="100%",
        )
    )


def _named_file_input(upload: rx.Component, name: str) -> rx.Component:
    """rx.upload renders its hidden file input without a name; screen readers need one (axe rule `label`)."""
    zone = upload.children[0]
    file_input = zone.children[0]
    file_input.custom_attrs["aria-label"] = name
    return upload


@app_page
def coa_list_page() -> rx.Component:
    return rx.vstack(
        page_header("Certificates of Analysis", "Lab results parsed from COA PDFs, with authenticity checks."),
        rx.cond(
            CoaListState.can_upload,
            _upload_zone(),
            rx.callout("You need exchange access in a business to upload COAs.", icon="info", color_scheme="blue"),
        ),
        rx.cond(
            ~CoaListState.loaded,
            rx.center(rx.spinner(size="3"), padding="2em", width="100%"),
            rx.cond(
                CoaListState.rows.length() > 0,
                card(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("File", "Status", "Lab", "Total THC %", "Tested", "Flags", "Uploaded")])),
                    rx.table.body(rx.foreach(CoaListState.rows, _coa_row)),
                    width="100%",
                )),
                empty_state("flask-conical", "No COAs yet",
                            "Upload a lab's Certificate of Analysis: ICC reads the cannabinoids, terpenes and safety "
                            "panels, and checks the lab license, dates and totals."),
            ),
        ),
        spacing="4", width="100%", align="start",
    )


# ---------------------------------------------------------------- viewer


def _analyte_table(title: str, rows: rx.Var) -> rx.Component:
    return card(
        rx.heading(title, size="3", as_="h3", margin_bottom="0.5em"),
        rx.cond(
            rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Analyte"), rx.table.column_header_cell("%"),
                                             rx.table.column_header_cell("mg/g"), rx.table.column_header_cell("Flag"))),
                rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
                    rx.table.cell(r["name"]), rx.table.cell(r["pct"]), rx.table.cell(r["mg_g"]),
                    rx.table.cell(rx.cond(r["flag"] != "", rx.badge(r["flag"], color_scheme="gray"))),
                ))),
                size="1", width="100%",
            ),
            rx.text("None could be read from the PDF: check the original beside and enter values by hand.",
                    color_scheme="gray", size="2"),
        ),
    )


def _correction_form() -> rx.Component:
    return card(
        rx.heading("Correct a value", size="3", as_="h3"),
        rx.text("Hand values replace the parsed ones everywhere; the original parse is kept and every change is "
                "audited.", size="1", color_scheme="gray"),
        rx.form(
            rx.vstack(
                rx.el.label("Field", html_for="correction-field", style={"fontSize": "0.9em"}),
                rx.select.root(
                    rx.select.trigger(id="correction-field", width="100%"),
                    rx.select.content(*[rx.select.item(FIELD_LABELS[f], value=f) for f in CORRECTABLE_FIELDS]),
                    value=CoaViewState.field, on_change=CoaViewState.set_field,
                ),
                rx.el.label("New value", html_for="correction-value", style={"fontSize": "0.9em"}),
                rx.input(id="correction-value", value=CoaViewState.value, on_change=CoaViewState.set_value,
                         placeholder="e.g. 23.5, ND, pass, 2024-05-01", width="100%",
                         aria_invalid=rx.cond(CoaViewState.errors.contains("value"), "true", "false")),
                field_error(CoaViewState.errors.get("value", "")),
                rx.el.label("Why (what the PDF prints)", html_for="correction-reason", style={"fontSize": "0.9em"}),
                rx.input(id="correction-reason", value=CoaViewState.reason, on_change=CoaViewState.set_reason,
                         placeholder="Page 2 prints 23.5%", width="100%",
                         aria_invalid=rx.cond(CoaViewState.errors.contains("reason"), "true", "false")),
                field_error(CoaViewState.errors.get("reason", "")),
                rx.button("Save correction", type="submit", id="save-correction"),
                spacing="2", width="100%", align="start",
            ),
            on_submit=lambda _: CoaViewState.save_correction(),
            reset_on_submit=False,
        ),
    )


def _check_this(field: str) -> rx.Component:
    """A "check this" badge beside a value the parser was unsure of; its title says where it was read."""
    return rx.cond(CoaViewState.unsure.contains(field),
                   rx.badge("check this", color_scheme="amber", title=CoaViewState.unsure.get(field, ""),
                            class_name="coa-check-this", custom_attrs={"data-field": field}))


def _value_with_check(field: str) -> rx.Component:
    return rx.hstack(rx.text(CoaViewState.values.get(field, "—")), _check_this(field), spacing="2", align="center")


def _unread() -> rx.Component:
    return rx.cond(
        CoaViewState.unread.length() > 0,
        rx.callout(rx.text("Could not be read from the PDF: ", rx.text.strong(CoaViewState.unread.join(", ")),
                           ". The document may well print them: check the original beside and enter them below."),
                   icon="scan-search", color_scheme="amber", width="100%", id="coa-unread"),
    )


def _summary() -> rx.Component:
    v = CoaViewState.values
    return rx.vstack(
        rx.grid(
            stat("Total THC %", v.get("total_thc_pct", "—"), "leaf", _check_this("total_thc_pct")),
            stat("Total CBD %", v.get("total_cbd_pct", "—"), "droplet", _check_this("total_cbd_pct")),
            stat("Terpenes %", v.get("total_terpenes_pct", "—"), "flower-2", v.get("top_terpene", "")),
            stat("Moisture %", v.get("moisture_pct", "—"), "thermometer", "aw " + v.get("water_activity_aw", "—")),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        card(
            rx.heading("Safety panels", size="3", as_="h3", margin_bottom="0.5em"),
            rx.flex(rx.foreach(CoaViewState.panels, lambda p: rx.badge(
                p["label"] + ": " + p["status"], color_scheme=p["color"].to(str), size="2")), wrap="wrap", gap="2"),
        ),
        card(rx.data_list.root(*[
            rx.data_list.item(rx.data_list.label(label), rx.data_list.value(_value_with_check(field)))
            for field, label in (("lab_name", "Lab"), ("lab_license", "Lab license"), ("lab_state", "State"),
                                 ("sample_name", "Sample"), ("product_type", "Product type"),
                                 ("batch_number", "Batch"), ("metrc_tag", "Metrc tag"), ("date_tested", "Tested"))
        ], size="2")),
        _analyte_table("Cannabinoids", CoaViewState.cannabinoids),
        _analyte_table("Terpenes", CoaViewState.terpenes),
        spacing="3", width="100%",
    )


def _flags() -> rx.Component:
    return rx.cond(
        CoaViewState.flags.length() > 0,
        rx.vstack(rx.foreach(CoaViewState.flags, lambda f: rx.callout(
            f["message"], icon="triangle-alert", color_scheme=f["color"].to(str), size="1", width="100%",
            class_name="coa-flag")), spacing="2", width="100%"),
        rx.cond(CoaViewState.doc.get("finished", "") != "",
                rx.callout("No authenticity flags.", icon="badge-check", color_scheme="green", size="1")),
    )


@app_page
def coa_view_page() -> rx.Component:
    doc = CoaViewState.doc
    return rx.cond(
        CoaViewState.missing,
        empty_state("file-question", "COA not found", "It does not exist or belongs to another business.",
                    rx.link(rx.button("Back to COAs"), href=routes.COAS)),
        rx.vstack(
            page_header("COA", doc.get("filename", ""),
                        rx.badge(doc.get("status", ""), color_scheme=doc.get("color", "gray").to(str), size="3",
                                 id="coa-status"),
                        rx.button("Re-parse", variant="soft", on_click=CoaViewState.reparse,
                                  disabled=doc.get("finished", "") == "")),
            rx.cond(
                doc.get("finished", "") == "",
                rx.callout(rx.hstack(rx.spinner(), rx.text("Parsing the PDF… this page updates by itself."),
                                     rx.moment(interval=1000, on_change=CoaViewState.tick, display="none")),
                           color_scheme="blue", width="100%", id="coa-progress"),
            ),
            rx.cond(doc.get("reason", "") != "",
                    rx.callout(doc.get("reason", ""), icon="info", color_scheme="amber", width="100%")),
            _unread(),
            _flags(),
            rx.grid(
                card(rx.el.iframe(src=doc.get("file_url", ""), title="Original COA PDF",
                                  style={"width": "100%", "height": "80vh", "border": "none"}),
                     padding="0"),
                rx.vstack(_summary(), _correction_form(),
                          rx.cond(CoaViewState.history.length() > 0, card(
                              rx.heading("Corrections", size="3", as_="h3"),
                              rx.foreach(CoaViewState.history, lambda h: rx.text(
                                  h["when"], " · ", h["field"], ": ", h["old"], " → ", h["new"], " (", h["reason"], ")",
                                  size="2")))),
                          spacing="3", width="100%"),
                columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
            ),
            rx.text("Parser: ", doc.get("parser", ""), " · pages: ", doc.get("pages", ""), " · ", doc.get("parse_ms", ""),
                    " ms · sha256 ", doc.get("sha256", ""), "…", size="1", color_scheme="gray"),
            spacing="3", width="100%", align="start",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(coa_list_page, route=routes.COAS, title="COAs | ICC", on_load=CoaListState.load)
    app.add_page(coa_view_page, route="/coas/[coa_id]", title="COA | ICC", on_load=CoaViewState.load)
