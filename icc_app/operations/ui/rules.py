"""Pricing rules per category on the Pricing page: the margin floor, the largest discount, the largest change a day,
how far to look for competitors' prices, and how close to expiry an alert starts. Every category the business
stocks is listed (with the defaults until a Manager saves its own); a Manager saves one row at a time."""

from __future__ import annotations

import uuid
from decimal import Decimal

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError, ValidationFailed
from icc_app.core.validation import form_number
from icc_app.identity.models import Product, Role
from icc_app.identity.permissions import has_product
from icc_app.identity.ui.state import AuthFormState
from icc_app.operations import pricing, scoping
from icc_app.ui.components import card, field_error
from icc_app.ui.format import label

# form key -> (column words, lowest, highest, whole number)
COLUMNS = {
    "min_margin_pct": ("Margin floor (%)", 0, 95, False),
    "max_discount_pct": ("Largest discount (%)", 0, 90, False),
    "max_change_pct_per_day": ("Largest change a day (%)", 0, 100, False),
    "radius_miles": ("Competitors within (miles)", 0.5, 100, False),
    "expiry_alert_days": ("Expiry alert (days before)", 1, 365, True),
}


def rule_values(row: dict[str, str]) -> dict:
    """A row's strings as set_rule's arguments; a bad value is an error naming its column."""
    values: dict = {}
    for key, (words, low, high, whole) in COLUMNS.items():
        value = form_number(row.get(key), label=words, field="rules", low=low, high=high, whole=whole)
        values[key] = int(value) if whole else (float(value) if key == "radius_miles" else value)
    return values


def _text(value) -> str:
    return f"{Decimal(str(value)).normalize():f}"


class RulesState(AuthFormState):
    rule_rows: list[dict[str, str]] = []
    new_category: str = ""
    can_edit: bool = False
    saving: str = ""  # the category being saved
    rules_business: str = ""

    def _refresh(self, principal) -> None:
        mine = [m for m in principal.memberships if has_product(m, Product.operations)]
        if not mine:
            self.rules_business, self.rule_rows = "", []
            return
        chosen = next((m for m in mine if str(m.business_id) == self.rules_business), mine[0])
        self.rules_business = str(chosen.business_id)
        try:
            scoping.member(principal, chosen.business_id, min_role=Role.manager)
            self.can_edit = True
        except DomainError:
            self.can_edit = False
        with unit_of_work(tenant=principal) as session:
            self.rule_rows = [{"category": r.category, "label": label(r.category), "saved": "yes" if saved else "",
                               **{key: _text(getattr(r, key)) for key in COLUMNS}}
                              for r, saved in pricing.category_rules(session, principal=principal,
                                                                      business_id=chosen.business_id)]

    @rx.event
    def load_rules(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh(principal)

    @rx.event
    def set_cell(self, index: int, key: str, value: str):
        if key not in COLUMNS or not 0 <= index < len(self.rule_rows):
            return
        rows = [dict(r) for r in self.rule_rows]
        rows[index][key] = str(value)[:20]
        self.rule_rows = rows

    @rx.event
    def set_new_category(self, value: str):
        self.new_category = value

    def _save(self, category: str, row: dict[str, str]):
        self._reset_errors()
        try:
            values = rule_values(row)
        except ValidationFailed as exc:
            self._fail(exc)
            return rx.toast.error(exc.message)
        business_id = uuid.UUID(self.rules_business)
        return self._perform(lambda s, p: pricing.set_rule(s, principal=p, business_id=business_id,
                                                           category=category, **values),
                             f"Rules for {label(category) or 'the category'} saved: the next suggestions follow them.")

    @rx.event
    def save_row(self, index: int):
        if self.saving or not 0 <= index < len(self.rule_rows):
            return
        row = dict(self.rule_rows[index])
        self.saving = row["category"]
        yield
        try:
            outcome = self._save(row["category"], row)
        finally:
            self.saving = ""
        yield outcome

    @rx.event
    def add_category(self):
        if self.saving:
            return
        name = self.new_category.strip().lower()[:40]
        if any(r["category"] == name for r in self.rule_rows):
            self._fail(ValidationFailed(f"{label(name)} is already listed: edit its row.", field="rules"))
            return
        self.saving = name or "new"
        yield
        try:
            outcome = self._save(name, {key: _text(value) for key, value in (
                ("min_margin_pct", 30), ("max_discount_pct", 25), ("max_change_pct_per_day", 10),
                ("radius_miles", 10), ("expiry_alert_days", 30))})
        finally:
            self.saving = ""
        if not self.errors and not self.form_error:
            self.new_category = ""
        yield outcome


def _cell(index, row, key: str) -> rx.Component:
    words = COLUMNS[key][0]
    return rx.table.cell(rx.input(value=row[key], on_change=lambda v: RulesState.set_cell(index, key, v),
                                  read_only=~RulesState.can_edit, input_mode="decimal", width="6em",
                                  custom_attrs={"aria-label": f"{words}"}))


def rules_card() -> rx.Component:
    s = RulesState
    return card(rx.vstack(
        rx.heading("Rules per category", size="4", as_="h2"),
        rx.text("Suggestions never price below the margin floor (over unit cost), never discount more than the "
                "largest discount, and move at most the largest change a day. Categories without saved rules use "
                "the defaults shown.", size="2", color_scheme="gray"),
        field_error(s.errors.get("rules", "")),
        rx.cond(s.rule_rows.length() == 0,
                rx.text("No categories yet: they appear once your POS syncs or you import inventory.", size="2"),
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(rx.table.column_header_cell("Category"),
                                                 *[rx.table.column_header_cell(words) for words, *_ in
                                                   COLUMNS.values()],
                                                 rx.table.column_header_cell("Save"))),
                    rx.table.body(rx.foreach(s.rule_rows, lambda r, i: rx.table.row(
                        rx.table.row_header_cell(rx.vstack(rx.text(r["label"], weight="medium"),
                                                           rx.cond(r["saved"] == "", rx.text("defaults", size="1",
                                                                                             color_scheme="gray")),
                                                           spacing="0")),
                        *[_cell(i, r, key) for key in COLUMNS],
                        rx.table.cell(rx.cond(s.can_edit, rx.button(
                            "Save", size="1", variant="soft", on_click=s.save_row(i), loading=s.saving == r["category"],
                            disabled=s.saving != "", custom_attrs={"aria-label": "Save the rules for " + r["label"]}))),
                        class_name="category-rule"))),
                    size="1", width="100%"), overflow_x="auto", width="100%")),
        rx.cond(s.can_edit, rx.flex(
            rx.input(value=s.new_category, on_change=s.set_new_category, placeholder="A category, e.g. vapes",
                     custom_attrs={"aria-label": "New category"}, id="new-category", max_length=40),
            rx.button("Add category", on_click=s.add_category, variant="soft", id="add-category",
                      disabled=(s.saving != "") | (s.new_category.strip() == "")),
            spacing="2", wrap="wrap")),
        spacing="3", width="100%", align="start"), id="category-rules")
