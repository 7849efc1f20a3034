"""The Metrc page's "Packages in Metrc" section: the connection's active packages, each with "List on CCX" (an
asking price, then a draft lot pre-filled from the package: item, strain, quantity and unit, tag and lab results;
the lab's COA document too when Metrc has one), linked to My lots where the draft is finished and published.

The package list is read from Metrc when the section is opened (not on every page load: a license may hold
thousands of packages); the first SHOWN are listed, sellable ones first."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import reflex as rx
from pydantic import BaseModel

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import has_product
from icc_app.identity.schemas import Principal
from icc_app.identity.ui.state import AuthFormState
from icc_app.integrations import base, service
from icc_app.integrations.base import IntegrationError
from icc_app.integrations.metrc import preflight, workflows
from icc_app.ui.components import card, empty_state, loading_button

SHOWN = 100
SELL = "/exchange/sell"
LAB_WORDS = {"TestPassed": "Lab passed", "NotSubmitted": "Not tested", "SubmittedForTesting": "Sent for testing",
             "TestFailed": "Lab failed", "Retested": "Retested", "TestPassedPendingRemediation": "Remediated"}


class PackageRow(BaseModel):
    label: str
    short: str
    item: str
    strain: str
    quantity: str
    lab: str
    sellable: bool
    why_not: str  # why it cannot be listed, in words ("" when it can)


def package_row(package: dict) -> PackageRow:
    """One Metrc package as the list shows it (pure)."""
    item = package.get("Item") or {}
    lab_state = package.get("LabTestingState") or "NotSubmitted"
    why = ("On hold in Metrc" if package.get("IsOnHold") else
           "" if lab_state in preflight.PASSED else "Not passed lab testing")
    quantity = Decimal(str(package.get("Quantity") or 0))
    return PackageRow(label=package.get("Label") or "", short=preflight.short(package.get("Label") or ""),
                      item=item.get("Name") or "", strain=item.get("StrainName") or "",
                      quantity=f"{preflight.qty(quantity)} {package.get('UnitOfMeasureName') or ''}".strip(),
                      lab=LAB_WORDS.get(lab_state, lab_state), sellable=why == "", why_not=why)


def read_packages(principal: Principal, connection_id: uuid.UUID, *, limit: int = SHOWN,
                  http_options: dict | None = None) -> tuple[list[PackageRow], int]:
    """The connection's active packages (sellable first), read from Metrc outside any transaction; and how many
    there are in all."""
    with unit_of_work(tenant=principal) as session:
        connection = service.get(session, principal, connection_id)
        if connection.vendor != "metrc":
            raise DomainError("Not a Metrc connection.")
        config = service.config_for(connection, **(http_options or {}))
    adapter = base.make_adapter(config)
    try:
        packages = adapter.active_packages()
    finally:
        adapter.close()
    rows = sorted((package_row(p) for p in packages), key=lambda r: (not r.sellable, r.label))
    return rows[:limit], len(rows)


class MetrcPackagesState(AuthFormState):
    connection_id: str = ""
    connection_name: str = ""
    can_list: bool = False
    opened: bool = False
    reading: bool = False
    read_error: str = ""
    packages: list[PackageRow] = []
    total: int = 0
    prices: dict[str, str] = {}  # tag -> the asking price being typed
    listing: str = ""  # the tag being listed
    listed: dict[str, str] = {}  # tag -> the draft lot it became

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.opened, self.packages, self.total, self.read_error = False, [], 0, ""
        self.prices, self.listing, self.listed = {}, "", {}
        membership = next((m for m in principal.memberships if has_product(m, Product.integrations)), None)
        self.connection_id = self.connection_name = ""
        if membership is None:
            return
        self.can_list = membership.role in (Role.admin, Role.manager) and has_product(membership, Product.exchange)
        with unit_of_work(tenant=principal) as session:
            connection = workflows.metrc_connection(session, membership.business_id)
            if connection is not None:
                self.connection_id, self.connection_name = str(connection.id), connection.name

    @rx.event
    def show(self):
        """Read the packages from Metrc (the first yield shows the spinner)."""
        if self.reading or not self.connection_id:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.reading, self.opened, self.read_error = True, True, ""
        yield
        try:
            self.packages, self.total = read_packages(principal, uuid.UUID(self.connection_id))
        except (DomainError, IntegrationError) as exc:
            self.packages, self.total, self.read_error = [], 0, exc.message
        finally:
            self.reading = False

    @rx.event
    def set_price(self, label: str, value: str):
        self.prices = {**self.prices, label: value[:20]}

    @rx.event
    def list_on_ccx(self, label: str):
        """A draft lot from the package, at the typed price per unit; then a link to finish it in My lots."""
        if self.listing or label in self.listed:
            return
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        try:
            price = Decimal((self.prices.get(label) or "").replace("$", "").replace(",", "").strip())
        except InvalidOperation:
            return rx.toast.error("Enter the asking price per unit, e.g. 1200.")
        if not price.is_finite() or price <= 0:
            return rx.toast.error("Enter the asking price per unit, e.g. 1200.")
        self.listing = label
        yield
        try:
            business_id, found, document = workflows.fetch_for_listing(principal, uuid.UUID(self.connection_id),
                                                                       label, with_document=True)
            with unit_of_work(tenant=principal) as session:
                lot = workflows.list_on_ccx(session, principal=principal, business_id=business_id, listing=found,
                                            price_per_unit=price, document=document,
                                            idempotency_key=f"metrc-list-{self.connection_id}-{label}")
                lot_id = str(lot.id)
        except (DomainError, IntegrationError) as exc:
            yield rx.toast.error(exc.message)
            return
        finally:
            self.listing = ""
        self.listed = {**self.listed, label: lot_id}
        yield rx.toast.success("Draft lot created from the package: attach or check its COA, then publish it.")


def _package_card(p) -> rx.Component:
    S = MetrcPackagesState
    price_id = "price-" + p.label
    done = S.listed.contains(p.label)
    return card(rx.vstack(
        rx.flex(rx.text(p.item, weight="bold", size="3", word_break="break-word"), rx.spacer(),
                rx.badge(rx.cond(p.sellable, p.lab, p.why_not), color_scheme=rx.cond(p.sellable, "green", "amber"),
                         high_contrast=True),
                width="100%", align="center", spacing="2", wrap="wrap"),
        rx.text(rx.cond(p.strain != "", p.strain + " · ", ""), p.quantity, size="2"),
        rx.text("Tag ", rx.code(p.label), size="1", word_break="break-all"),
        rx.cond(done,
                rx.link("Draft lot created: finish and publish it in My lots",
                        href=SELL + "?lot=" + S.listed[p.label], size="2", class_name="listed-link"),
                rx.cond(p.sellable & S.can_list, rx.flex(
                    rx.vstack(
                        rx.text("Asking price per unit ($)", as_="label", size="1", color_scheme="gray",
                                custom_attrs={"htmlFor": price_id}),
                        rx.input(id=price_id, value=S.prices.get(p.label, ""), input_mode="decimal",
                                 on_change=lambda v: S.set_price(p.label, v), size="2", width="9em",
                                 placeholder="1200"),
                        spacing="1", align="start"),
                    loading_button("List on CCX", S.listing == p.label, on_click=S.list_on_ccx(p.label), size="2",
                                   disabled=S.listing != "", class_name="list-on-ccx"),
                    spacing="2", align="end", wrap="wrap"),
                        rx.cond(~p.sellable, rx.text("It cannot be listed on CCX until Metrc shows it passed "
                                                     "lab testing and not on hold.", size="2",
                                                     color_scheme="gray", class_name="why-not")))),
        spacing="2", width="100%", align="start"), class_name="metrc-package", data_label=p.label)


def packages_section() -> rx.Component:
    """Placed on the Metrc page below the alerts."""
    S = MetrcPackagesState
    return rx.cond(S.connection_id != "", rx.vstack(
        rx.flex(rx.heading("Packages in Metrc", size="4", as_="h2"), rx.spacer(),
                loading_button(rx.cond(S.opened, "Read again", "Show packages"), S.reading, on_click=S.show,
                               size="2", variant="soft", id="show-packages"),
                width="100%", align="center", spacing="2", wrap="wrap"),
        rx.text("List a package on CCX: the lot is pre-filled from Metrc (item, strain, quantity, tag, lab results) "
                "and sells the whole package, as a Metrc transfer moves whole packages.", size="2",
                color_scheme="gray"),
        rx.cond(S.read_error != "", rx.callout(S.read_error, icon="triangle-alert", color_scheme="red",
                                               width="100%")),
        rx.cond(S.opened & ~S.reading & (S.read_error == ""), rx.cond(
            S.packages.length() == 0,
            empty_state("package", "No active packages", "Metrc shows no active package for this license."),
            rx.vstack(
                rx.text("Showing ", S.packages.length(), " of ", S.total, " active packages, sellable first.",
                        size="2", color_scheme="gray"),
                rx.grid(rx.foreach(S.packages, _package_card), columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3", width="100%"),
                width="100%", spacing="2", align="start", id="metrc-packages"))),
        width="100%", spacing="3", align="start", id="packages-in-metrc"))
