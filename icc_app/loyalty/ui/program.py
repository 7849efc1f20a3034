"""The loyalty programme's settings page: how points are earned (per dollar, category and weekday bonuses), what
they are worth, the tiers, and the messaging rules (quiet hours, weekly cap, the SMS account). Managers and Admins
edit; everyone with operations access reads. One Save writes the programme and its tiers in one transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError, ValidationFailed
from icc_app.core.validation import form_number, safe_text
from icc_app.loyalty import access, points
from icc_app.loyalty.points import MAX_TIER_THRESHOLD
from icc_app.loyalty.ui.state import LoyaltyState
from icc_app.ui.components import card, field_error, form_alert, page_header
from icc_app.ui.layout import app_page

WEEKDAYS = {"0": "Monday", "1": "Tuesday", "2": "Wednesday", "3": "Thursday", "4": "Friday", "5": "Saturday",
            "6": "Sunday"}
NUMBERS = {  # form key -> (label, kind, lowest, highest)
    "points_per_dollar": ("Points per dollar spent", "decimal", 0, 100),
    "points_per_dollar_off": ("Points for $1 off", "int", 1, 100_000),
    "min_redeem_points": ("Fewest points a customer can redeem", "int", 1, 1_000_000),
    "quiet_start_hour": ("Quiet hours start (hour, 0-23)", "int", 0, 23),
    "quiet_end_hour": ("Quiet hours end (hour, 0-23)", "int", 0, 23),
    "max_messages_per_week": ("Most messages per customer per week", "int", 0, 50),
}


def _number(form: dict[str, str], key: str) -> int | float:
    label, kind, low, high = NUMBERS[key]
    value = form_number(form.get(key), label=label, field=key, low=low, high=high, whole=kind == "int")
    return int(value) if kind == "int" else float(value)


def _multiplier(text: str, field: str, what: str) -> float:
    value = form_number(text, label=f"{what}: the multiplier", field=field, low=0, high=10)
    if value <= 0:
        raise ValidationFailed(f"{what}: the multiplier is above 0 and at most 10.", field=field)
    return float(value)


TABLES = ("bonus_days", "categories", "tier_rows")


def changes_from(form: dict[str, str], bonus_days: list[dict[str, str]], categories: list[dict[str, str]],
                 tiers: list[dict[str, str]]) -> tuple[dict, list[dict]]:
    """The page's strings as update_program changes and set_tiers rows; a bad value is a field error."""
    if any(d.get("weekday") not in WEEKDAYS for d in bonus_days):
        raise ValidationFailed("Choose the weekday of each bonus day.", field="bonus_days")
    name = safe_text(form.get("name"), "name", max_length=120)
    if not name:
        raise ValidationFailed("The programme needs a name (up to 120 characters).", field="name")
    changes: dict = {"name": name, **{key: _number(form, key) for key in NUMBERS}}
    changes["bonus_days"] = [{"weekday": int(d["weekday"]),
                              "multiplier": _multiplier(d["multiplier"], "bonus_days", WEEKDAYS[d["weekday"]])}
                             for d in bonus_days]
    if len({d["weekday"] for d in bonus_days}) != len(bonus_days):
        raise ValidationFailed("Each weekday can have one bonus.", field="bonus_days")
    changes["category_multipliers"] = {}
    for c in categories:
        category = safe_text(c.get("category"), "category_multipliers", max_length=60)
        if not category:
            raise ValidationFailed("A category bonus needs the category's name, as your POS names it.",
                                   field="category_multipliers")
        changes["category_multipliers"][category] = _multiplier(c["multiplier"], "category_multipliers", category)
    for key, length in (("sms_account_sid", 64), ("sms_from", 40)):
        changes[key] = safe_text(form.get(key), key, max_length=length) or None
    token = safe_text(form.get("sms_auth_token"), "sms_auth_token", max_length=200)
    if token:  # blank: keep the stored token (it is never shown)
        changes["sms_auth_token"] = token
    rows = []
    for t in tiers:
        tier_name = safe_text(t.get("name"), "tiers", max_length=60)
        what = tier_name or "A tier"
        try:
            threshold = int((t.get("threshold_points") or "").strip())
        except ValueError:
            raise ValidationFailed(f"{what}: the threshold is a whole number of points.", field="tiers") from None
        if not 0 <= threshold <= MAX_TIER_THRESHOLD:
            raise ValidationFailed(f"{what}: the threshold is 0 to {MAX_TIER_THRESHOLD:,} points.", field="tiers")
        rows.append({"name": tier_name, "threshold_points": threshold,
                     "multiplier": _multiplier(t.get("multiplier", ""), "tiers", what),
                     "benefits": safe_text(t.get("benefits"), "tiers", max_length=500)})
    return changes, rows


def _text(value) -> str:
    """2.0, Decimal("2.00") -> "2"; 1.5 -> "1.5" (numbers as a person writes them)."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{Decimal(str(value)).normalize():f}"
    return str(value)


class ProgramState(LoyaltyState):
    form: dict[str, str] = {}
    bonus_days: list[dict[str, str]] = []
    categories: list[dict[str, str]] = []
    tier_rows: list[dict[str, str]] = []
    sms_configured: bool = False
    can_edit: bool = False
    saving: bool = False

    def _refresh(self, principal) -> None:
        business_id = self._business(principal)
        self.business_id = str(business_id) if business_id else ""
        if business_id is None:
            return
        try:
            access.editor(principal, business_id)
            self.can_edit = True
        except DomainError:
            self.can_edit = False
        with unit_of_work(tenant=principal) as session:
            p = points.program(session, business_id=business_id)
            self.form = {"name": p.name, **{key: _text(getattr(p, key)) for key in NUMBERS},
                         "sms_account_sid": p.sms_account_sid or "", "sms_from": p.sms_from or "",
                         "sms_auth_token": ""}
            self.sms_configured = bool(p.sms_account_sid and p.sms_auth_token and p.sms_from)
            self.bonus_days = [{"weekday": str(d["weekday"]), "multiplier": _text(d["multiplier"])}
                               for d in p.bonus_days or []]
            self.categories = [{"category": k, "multiplier": _text(v)} for k, v in (p.category_multipliers or {}).items()]
            self.tier_rows = [{"name": t.name, "threshold_points": str(t.threshold_points),
                               "multiplier": _text(t.multiplier), "benefits": t.benefits}
                              for t in points.tiers(session, business_id=business_id)]

    @rx.event
    def load_program(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def set_form(self, key: str, value: str):
        self.form = {**self.form, key: value}
        self.errors = {k: v for k, v in self.errors.items() if k != key}

    @rx.event
    def set_row(self, table: str, index: int, key: str, value: str):
        rows = [dict(r) for r in getattr(self, table)] if table in TABLES else []
        if 0 <= index < len(rows) and key in rows[index]:  # only the page's own tables, rows and fields
            rows[index][key] = str(value)[:600]
            setattr(self, table, rows)

    @rx.event
    def add_row(self, table: str):
        if table not in TABLES:
            return
        blank = {"bonus_days": {"weekday": next((d for d in WEEKDAYS if d not in {b["weekday"] for b in
                                                                                  self.bonus_days}), "0"),
                                "multiplier": "2"},
                 "categories": {"category": "", "multiplier": "2"},
                 "tier_rows": {"name": "", "threshold_points": "", "multiplier": "1", "benefits": ""}}[table]
        if len(getattr(self, table)) < 20:
            setattr(self, table, [*getattr(self, table), blank])

    @rx.event
    def remove_row(self, table: str, index: int):
        rows = list(getattr(self, table)) if table in TABLES else []
        if 0 <= index < len(rows):
            del rows[index]
            setattr(self, table, rows)

    @rx.event
    def save(self):
        if self.saving:
            return
        self._reset_errors()
        try:
            changes, tiers = changes_from(self.form, self.bonus_days, self.categories, self.tier_rows)
        except ValidationFailed as exc:
            self._fail(exc)
            yield rx.toast.error(exc.message)
            return
        self.saving = True
        yield
        business_id = uuid.UUID(self.business_id)

        def work(session, principal):
            access.editor(principal, business_id)
            points.update_program(session, business_id=business_id, actor_id=principal.user_id, **changes)
            points.set_tiers(session, business_id=business_id, tiers=tiers, actor_id=principal.user_id)

        try:
            outcome = self._perform(work, "Programme saved: new purchases earn by these rules.")
        finally:
            self.saving = False
        yield outcome

def _input(label: str, key: str, *, hint: str = "", **props) -> rx.Component:
    s = ProgramState
    return rx.vstack(rx.text(label, as_="label", size="2", weight="medium", custom_attrs={"htmlFor": f"program-{key}"}),
                     rx.input(id=f"program-{key}", value=s.form[key], on_change=lambda v: s.set_form(key, v),
                              read_only=~s.can_edit, width="100%", **props),
                     rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
                     field_error(s.errors.get(key, "")), spacing="1", width="100%")


def _row_input(table: str, index, row, key: str, label: str, **props) -> rx.Component:
    s = ProgramState
    return rx.input(value=row[key], on_change=lambda v: s.set_row(table, index, key, v), read_only=~s.can_edit,
                    custom_attrs={"aria-label": label}, **props)


def _remove(table: str, index, label: str) -> rx.Component:
    s = ProgramState
    return rx.cond(s.can_edit, rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                                              on_click=s.remove_row(table, index),
                                              custom_attrs={"aria-label": label}))


def _add(table: str, text: str, id: str) -> rx.Component:
    s = ProgramState
    return rx.cond(s.can_edit, rx.button(rx.icon("plus", size=14), text, size="1", variant="soft", id=id,
                                         on_click=s.add_row(table)))


def _earning() -> rx.Component:
    s = ProgramState
    return card(rx.vstack(
        rx.heading("Earning and redeeming", size="4", as_="h2"),
        rx.grid(_input("Programme name", "name", placeholder="Rewards"),
                _input("Points per dollar spent", "points_per_dollar", input_mode="decimal"),
                _input("Points for $1 off", "points_per_dollar_off", input_mode="numeric",
                       hint="100 means 100 points are worth $1."),
                _input("Fewest points a customer can redeem", "min_redeem_points", input_mode="numeric"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
        rx.heading("Bonus days", size="3", as_="h3"),
        rx.text("Every purchase on that weekday earns this many times the points.", size="2", color_scheme="gray"),
        rx.foreach(s.bonus_days, lambda d, i: rx.hstack(
            rx.select.root(rx.select.trigger(custom_attrs={"aria-label": "Weekday"}),
                           rx.select.content(*[rx.select.item(v, value=k) for k, v in WEEKDAYS.items()]),
                           value=d["weekday"], on_change=lambda v: s.set_row("bonus_days", i, "weekday", v),
                           disabled=~s.can_edit),
            rx.text("×", aria_hidden="true"),
            _row_input("bonus_days", i, d, "multiplier", "Multiplier", width="5em", input_mode="decimal"),
            _remove("bonus_days", i, "Remove this bonus day"), align="center", class_name="bonus-day")),
        field_error(s.errors.get("bonus_days", "")),
        _add("bonus_days", "Add a bonus day", "add-bonus-day"),
        rx.heading("Category bonuses", size="3", as_="h3"),
        rx.text("Purchases in a category (as your POS names it, e.g. Edibles) earn this many times the points.",
                size="2", color_scheme="gray"),
        rx.foreach(s.categories, lambda c, i: rx.hstack(
            _row_input("categories", i, c, "category", "Category", placeholder="Edibles"),
            rx.text("×", aria_hidden="true"),
            _row_input("categories", i, c, "multiplier", "Multiplier", width="5em", input_mode="decimal"),
            _remove("categories", i, "Remove this category bonus"), align="center", class_name="category-bonus")),
        field_error(s.errors.get("category_multipliers", "")),
        _add("categories", "Add a category bonus", "add-category"),
        spacing="3", width="100%", align="start"))


def _tiers() -> rx.Component:
    s = ProgramState
    return card(rx.vstack(
        rx.heading("Tiers", size="4", as_="h2"),
        rx.text("A customer reaches a tier with the lifetime points they have earned; the tier multiplies what every "
                "later purchase earns.", size="2", color_scheme="gray"),
        rx.cond(s.tier_rows.length() == 0,
                rx.text("No tiers: every customer earns at the base rate.", size="2", id="no-tiers"),
                rx.text("Each tier: its name, the lifetime points to reach it, its points multiplier and its benefits.",
                        size="1", color_scheme="gray")),
        rx.foreach(s.tier_rows, lambda t, i: rx.flex(
            _row_input("tier_rows", i, t, "name", "Tier name", placeholder="Gold", width="9em"),
            _row_input("tier_rows", i, t, "threshold_points", "Points to reach it", placeholder="1000", width="7em",
                       input_mode="numeric"),
            _row_input("tier_rows", i, t, "multiplier", "Points multiplier", width="5em", input_mode="decimal"),
            _row_input("tier_rows", i, t, "benefits", "Benefits", placeholder="Early access to drops",
                       flex="1", min_width="12em"),
            _remove("tier_rows", i, "Remove this tier"), spacing="2", wrap="wrap", align="center", width="100%",
            class_name="tier-row")),
        field_error(s.errors.get("tiers", "")),
        _add("tier_rows", "Add a tier", "add-tier"),
        spacing="3", width="100%", align="start"))


def _messaging() -> rx.Component:
    s = ProgramState
    return card(rx.vstack(
        rx.heading("Messages", size="4", as_="h2"),
        rx.grid(_input("Quiet hours start (hour, 0-23)", "quiet_start_hour", input_mode="numeric",
                       hint="No message goes out from this hour, in the customer's time zone ..."),
                _input("Quiet hours end (hour, 0-23)", "quiet_end_hour", input_mode="numeric",
                       hint="... until this hour."),
                _input("Most messages per customer per week", "max_messages_per_week", input_mode="numeric",
                       hint="Across all campaigns."),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%"),
        rx.heading("Text messages (Twilio)", size="3", as_="h3"),
        rx.text(rx.cond(s.sms_configured, "Texts are set up. Leave the token blank to keep the stored one.",
                        "Texts are not set up yet: campaigns can only send email."), size="2", id="sms-status"),
        rx.grid(_input("Account SID", "sms_account_sid", placeholder="AC…", auto_complete="off"),
                _input("From number", "sms_from", placeholder="+15555550100", input_mode="tel"),
                _input("Auth token", "sms_auth_token", type="password", auto_complete="new-password",
                       placeholder="Stored encrypted; never shown"),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%"),
        spacing="3", width="100%", align="start"))


@app_page
def program_page() -> rx.Component:
    from icc_app.loyalty.ui.pages import PROGRAM_ROUTE, _guard, _tabs

    s = ProgramState
    return rx.vstack(
        page_header("Programme settings", "How customers earn and redeem points, the tiers, and the messaging rules."),
        _tabs(PROGRAM_ROUTE),
        _guard(rx.vstack(
            rx.cond(~s.can_edit, rx.callout("Only Managers and Admins change the programme; you can read it.",
                                            icon="info", color_scheme="gray", width="100%")),
            form_alert(s.form_error),
            _earning(), _tiers(), _messaging(),
            rx.cond(s.can_edit, rx.button(rx.cond(s.saving, rx.spinner(size="1"), rx.icon("save", size=16)),
                                          "Save programme", on_click=s.save, loading=s.saving, disabled=s.saving,
                                          id="save-program", size="3")),
            spacing="4", width="100%", align="start")),
        width="100%", align="start")
