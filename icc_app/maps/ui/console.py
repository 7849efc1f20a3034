"""My dispensary (operator console, Maps access): claim the store whose verified license the business holds, then
edit its profile and hours, its manual menu (add, edit, mark out of stock, CSV import with a row-by-row report),
and answer reviews publicly."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.ui.state import AuthFormState
from icc_app.maps import menus, photos, reviews, service
from icc_app.maps.schemas import SERVICE_LABELS, money
from icc_app.maps.ui.controls import choice
from icc_app.ui.format import label, plural
from icc_app.maps.ui.pages import DAY_LABELS
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, field_error, form_alert, page_header
from icc_app.ui.layout import app_page
from icc_app.ui.state import toggled

CSV_UPLOAD = "menu-csv"
PHOTO_UPLOAD = "store-photo"
DRAFT_FIELDS = ["sku", "name", "brand", "category", "strain_name", "strain_type", "thc_pct", "cbd_pct", "price",
                "weight_g", "in_stock_qty", "terpenes", "lot_id"]
EMPTY_DRAFT = {f: "" for f in DRAFT_FIELDS} | {"category": "flower", "strain_type": "none", "lot_id": "none"}
PROFILE_FIELDS = ["phone", "website", "services", "hours"] + [f"{day}_{edge}" for day in DAY_LABELS
                                                              for edge in ("open", "close")]


def _draft_of(item) -> dict[str, str]:
    variant = item.variants[0] if item.variants else {}
    return {"sku": item.external_id, "name": item.name, "brand": item.brand or "", "category": item.category,
            "strain_name": item.strain_name or "", "strain_type": item.strain_type or "none",
            "thc_pct": "" if item.thc_min is None else f"{item.thc_min:g}",
            "cbd_pct": "" if item.cbd_min is None else f"{item.cbd_min:g}",
            "price": "" if item.price is None else f"{item.price:g}",
            "weight_g": f"{variant['weight_g']:g}" if variant.get("weight_g") else "",
            "in_stock_qty": str(item.in_stock_qty),
            "terpenes": "; ".join(f"{t['name']} {t['pct']:g}" for t in item.terpenes if t.get("pct") is not None),
            "lot_id": str(item.lot_id) if item.lot_id else "none"}


class MyDispensaryState(AuthFormState):
    """Per-field errors (`errors`) come from the services' ValidationFailed.field and show beside each input;
    errors without a field show as a toast."""

    loaded: bool = False
    business_id: str = ""
    stores: list[dict[str, str]] = []
    current: dict[str, str] = {}
    phone: str = ""
    website: str = ""
    services: list[str] = []
    hours: dict[str, list[str]] = {}
    photo_ids: list[str] = []
    photo_error: str = ""
    uploading: bool = False
    items: list[dict[str, str]] = []
    lots: list[dict[str, str]] = []
    draft: dict[str, str] = EMPTY_DRAFT
    review_rows: list[dict[str, str]] = []
    replies: dict[str, str] = {}
    import_errors: list[str] = []
    import_summary: str = ""
    importing: bool = False

    def _refresh(self, principal) -> None:
        business_id = menus.business_for_maps(principal)
        self.business_id = str(business_id) if business_id else ""
        if business_id is None:
            self.stores, self.current = [], {}
            return
        with unit_of_work() as session:
            found = menus.claimable(session, principal=principal, business_id=business_id)
            self.stores = [{"id": str(d.id), "name": d.dba or d.name, "license": f"{d.state} {d.license_number}",
                            "address": ", ".join(p for p in (d.street, d.city, d.state) if p),
                            "claimed": "yes" if mine else "", "href": service.page_path(d)} for d, mine in found]
            chosen = next((d for d, mine in found if mine and (not self.current or str(d.id) == self.current["id"])),
                          None)
            if chosen is None:
                self.current = {}
                return
            self.current = next(s for s in self.stores if s["id"] == str(chosen.id))
            self.phone, self.website, self.services = chosen.phone or "", chosen.website or "", list(chosen.services)
            self.hours = {day: list(chosen.hours.get(day) or ["", ""]) for day in DAY_LABELS}
            self._load_menu(session, principal, chosen.id)
            self.photo_ids = [str(p.id) for p in photos.list_for(session, chosen.id)]
            self.review_rows = [{"id": str(r.id), "about": about, "stars": "★" * r.rating, "text": r.text,
                                 "effects": " · ".join(r.effects), "reply": r.reply or ""}
                                for r, about in reviews.for_dispensary(session, principal=principal,
                                                                       dispensary_id=chosen.id)]

    def _load_menu(self, session, principal, dispensary_id: uuid.UUID) -> None:
        self.items = [{"id": str(i.id), "sku": i.external_id, "name": i.name, "category": label(i.category),
                       "price": money(i.price).text() if i.price is not None else "", "stock": str(i.in_stock_qty),
                       "source": label(i.source), "linked": "yes" if i.lot_id else ""}
                      for i in menus.manage_menu(session, principal=principal, dispensary_id=dispensary_id)]
        self.lots = [{"id": str(lot.id), "label": f"{lot.title} ({lot.strain_name})"}
                     for lot in menus.bought_lots(session, principal=principal, dispensary_id=dispensary_id)]

    @rx.var
    def profile_error(self) -> str:
        """The hours grid has no room beside each box: the profile's first error shows above its button."""
        return next((self.errors[f] for f in PROFILE_FIELDS if f in self.errors), "")

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.draft, self.import_errors, self.import_summary = dict(EMPTY_DRAFT), [], ""
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def claim(self, dispensary_id: str):
        self.current = {"id": dispensary_id}
        return self._perform(lambda s, p: menus.claim(s, principal=p, business_id=uuid.UUID(self.business_id),
                                                  dispensary_id=uuid.UUID(dispensary_id)),
                         "Claimed: you can now edit its profile and menu.")

    @rx.event
    def manage(self, dispensary_id: str):
        self.current = {"id": dispensary_id}
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def set_phone(self, value: str):
        self.phone = value

    @rx.event
    def set_website(self, value: str):
        self.website = value

    @rx.event
    def toggle_service(self, name: str, checked: bool):
        self.services = toggled(self.services, name, checked, service.SERVICES)

    @rx.event
    def set_hour(self, day: str, index: int, value: str):
        span = list(self.hours.get(day) or ["", ""])
        span[index] = value
        self.hours = {**self.hours, day: span}

    @rx.event
    def save_profile(self):
        hours = {day: (span[0], span[1]) for day, span in self.hours.items()}
        return self._perform(lambda s, p: menus.update_profile(
            s, principal=p, dispensary_id=uuid.UUID(self.current["id"]), phone=self.phone, website=self.website,
            hours=hours, services=self.services), "Profile saved.")

    @rx.event
    def set_draft(self, field: str, value: str):
        self.draft = {**self.draft, field: value}

    @rx.event
    def edit_item(self, item_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work() as session:
            for item in menus.manage_menu(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"])):
                if str(item.id) == item_id:
                    self.draft = _draft_of(item)

    @rx.event
    def new_item(self):
        self.draft = dict(EMPTY_DRAFT)
        self._reset_errors()

    @rx.event
    def save_item(self):
        row = {k: ("" if v == "none" else v) for k, v in self.draft.items()}

        def cleared(_item):
            self.draft = dict(EMPTY_DRAFT)  # ready for the next item

        def save(session, principal):
            return menus.upsert_item(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]),
                                     external_id=row["sku"], row=row)

        return self._perform(save, f"Saved {row['name'] or 'the item'}.", then=cleared)

    @rx.event
    def set_stock(self, item_id: str, quantity: int):
        return self._perform(lambda s, p: menus.set_stock(s, principal=p, item_id=uuid.UUID(item_id),
                                                          quantity=quantity),
                             "Stock updated." if quantity else "Marked out of stock.")

    @rx.event
    async def import_menu(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files:
            return
        self.importing, self.import_errors, self.import_summary = True, [], ""
        yield
        try:
            data = await files[0].read()
            with unit_of_work() as session:
                report = menus.import_csv(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]),
                                          data=data)
            self.import_summary = f"{plural(report.saved, 'item')} saved, {plural(len(report.errors), 'row')} with errors."
            self.import_errors = [f"Line {line}: {why}" for line, why in report.errors]
        except DomainError as exc:
            self.import_summary = exc.message
        finally:
            self.importing = False
        self._refresh(principal)

    @rx.event
    async def upload_photos(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        self.uploading, self.photo_error = True, ""
        yield
        try:
            for upload in files:
                data = await upload.read()
                with unit_of_work() as session:
                    photos.add(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]), data=data,
                               filename=upload.name or "photo")
        except DomainError as exc:
            self.photo_error = exc.message
        finally:
            self.uploading = False
        self._refresh(principal)

    @rx.event
    def remove_photo(self, photo_id: str):
        return self._perform(lambda s, p: photos.remove(s, principal=p, photo_id=uuid.UUID(photo_id)), "Photo removed.")

    @rx.event
    def set_reply(self, review_id: str, value: str):
        self.replies = {**self.replies, review_id: value}

    @rx.event
    def send_reply(self, review_id: str):
        return self._perform(lambda s, p: reviews.reply(s, principal=p, review_id=uuid.UUID(review_id),
                                                        text=self.replies.get(review_id, "")), "Reply published.")


def _claim_list() -> rx.Component:
    s = MyDispensaryState
    return rx.cond(s.stores.length() == 0, empty_state(
        "store", "No dispensary matches your licenses",
        "Dispensaries come from the state lists; one can be claimed by the business holding its verified retail "
        "license. Add or verify your license first.",
        rx.link(rx.button("Business & licenses"), href=routes.ONBOARDING)),
        rx.vstack(rx.foreach(s.stores, lambda d: card(rx.hstack(
            rx.vstack(rx.text(d["name"], weight="bold"), rx.text(d["address"], size="2", color_scheme="gray"),
                      rx.badge(d["license"], variant="outline"), spacing="1", align="start"),
            rx.spacer(),
            rx.cond(d["claimed"] != "", rx.button("Manage", variant="soft", on_click=s.manage(d["id"])),
                    rx.button("Claim this dispensary", on_click=s.claim(d["id"]), class_name="claim")),
            align="center", width="100%"))), width="100%"))


def _profile_tab() -> rx.Component:
    s = MyDispensaryState
    return rx.vstack(
        rx.hstack(rx.vstack(rx.text("Phone", size="2", weight="medium"),
                            rx.input(value=s.phone, on_change=s.set_phone, aria_label="Phone", id="phone")),
                  rx.vstack(rx.text("Website", size="2", weight="medium"),
                            rx.input(value=s.website, on_change=s.set_website, aria_label="Website", id="website",
                                     placeholder="https://")), spacing="4", wrap="wrap"),
        rx.text("Services", size="2", weight="medium"),
        rx.hstack(*[rx.checkbox(label, checked=s.services.contains(name),
                                on_change=lambda checked, name=name: s.toggle_service(name, checked))
                    for name, label in SERVICE_LABELS.items()], spacing="4", wrap="wrap"),
        rx.text("Opening hours (24-hour HH:MM; leave both empty for closed; a close before the open runs past "
                "midnight)", size="2", weight="medium"),
        rx.grid(*[rx.fragment(rx.text(label, size="2"),
                              rx.input(value=s.hours[day][0], on_change=lambda v, day=day: s.set_hour(day, 0, v),
                                       placeholder="09:00", aria_label=f"{label} opens", id=f"{day}-open"),
                              rx.input(value=s.hours[day][1], on_change=lambda v, day=day: s.set_hour(day, 1, v),
                                       placeholder="21:00", aria_label=f"{label} closes", id=f"{day}-close"))
                  for day, label in DAY_LABELS.items()], columns="3", spacing="2", max_width="24em", align="center"),
        form_alert(s.profile_error, id="profile-error"),
        rx.button("Save profile", on_click=s.save_profile, id="save-profile"),
        rx.divider(),
        rx.text(f"Photos (up to {photos.MAX_PHOTOS}; JPEG, PNG or WebP, 10 MB each)", size="2", weight="medium"),
        rx.flex(rx.foreach(s.photo_ids, lambda photo_id: rx.vstack(
            rx.image(src="/api/v1/dispensary-photos/" + photo_id + "?thumbnail=true", height="96px",
                     border_radius="6px", alt="Store photo"),
            rx.button("Remove", size="1", variant="ghost", color_scheme="red", on_click=s.remove_photo(photo_id)),
            align="center", spacing="1", class_name="console-photo")), spacing="3", wrap="wrap"),
        rx.upload(rx.vstack(rx.icon("image-plus", size=22), rx.text("Drop photos here or click to choose"),
                            align="center"),
                  id=PHOTO_UPLOAD, multiple=True, max_files=photos.MAX_PHOTOS,
                  accept={"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]},
                  on_drop=s.upload_photos(rx.upload_files(upload_id=PHOTO_UPLOAD)),
                  border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1.2em",
                  width="100%", cursor="pointer"),
        rx.cond(s.uploading, rx.hstack(rx.spinner(), rx.text("Uploading…"))),
        form_alert(s.photo_error, id="photo-error"),
        spacing="3", align="start", width="100%")


def _draft_input(label: str, field: str, **props) -> rx.Component:
    s = MyDispensaryState
    return rx.vstack(rx.text(label, size="1", weight="medium"),
                     rx.input(value=s.draft[field], on_change=lambda v: s.set_draft(field, v), aria_label=label,
                              id=f"item-{field}", **props),
                     field_error(s.errors.get(field, "")), spacing="1")


def _item_form() -> rx.Component:
    s = MyDispensaryState
    return card(rx.vstack(
        rx.hstack(rx.heading("Add or edit an item", size="3"), rx.spacer(),
                  rx.button("New item", variant="ghost", size="1", on_click=s.new_item), width="100%"),
        rx.grid(
            _draft_input("SKU", "sku"), _draft_input("Name", "name"), _draft_input("Brand", "brand"),
            rx.vstack(rx.el.label("Category", html_for="item-category", style={"font-size": "12px",
                                                                                "font-weight": 500}),
                      choice(menus.CATEGORIES, "Category", id="item-category", value=s.draft["category"],
                             on_change=lambda v: s.set_draft("category", v)), spacing="1"),
            _draft_input("Strain", "strain_name"),
            rx.vstack(rx.el.label("Strain type", html_for="item-strain-type", style={"font-size": "12px",
                                                                                      "font-weight": 500}),
                      choice(["none"] + menus.STRAIN_TYPES, "Strain type", id="item-strain-type",
                             labels={"none": "Not set"}, value=s.draft["strain_type"],
                             on_change=lambda v: s.set_draft("strain_type", v)), spacing="1"),
            _draft_input("THC %", "thc_pct", type="number"), _draft_input("CBD %", "cbd_pct", type="number"),
            _draft_input("Price $", "price", type="number"), _draft_input("Weight (g)", "weight_g", type="number"),
            _draft_input("In stock", "in_stock_qty", type="number"),
            _draft_input("Terpenes (name %; …)", "terpenes", placeholder="myrcene 0.8; limonene 0.4"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%"),
        rx.cond(s.lots.length() > 0, rx.vstack(
            rx.text("Exchange lot (shows its CQI and lab terpenes)", size="1", weight="medium"),
            rx.select.root(rx.select.trigger(placeholder="Not linked"), rx.select.content(
                rx.select.item("Not linked", value="none"),
                rx.foreach(s.lots, lambda lot: rx.select.item(lot["label"], value=lot["id"]))),
                value=s.draft["lot_id"], on_change=lambda v: s.set_draft("lot_id", v)), spacing="1")),
        rx.button("Save item", on_click=s.save_item, id="save-item"), spacing="3", align="start", width="100%"))


def _menu_tab() -> rx.Component:
    s = MyDispensaryState
    return rx.vstack(
        _item_form(),
        card(rx.vstack(
            rx.heading("Import a CSV", size="3"),
            rx.text("Columns: ", ", ".join(menus.CSV_COLUMNS), ". Rows are matched by SKU; good rows are saved and "
                    "each bad row is listed with its reason.", size="2", color_scheme="gray"),
            rx.upload(rx.vstack(rx.icon("file-spreadsheet", size=22), rx.text("Drop a CSV here or click to choose"),
                                align="center"),
                      id=CSV_UPLOAD, max_files=1, accept={"text/csv": [".csv"]},
                      on_drop=s.import_menu(rx.upload_files(upload_id=CSV_UPLOAD)),
                      border=f"2px dashed {rx.color('accent', 7)}", border_radius="12px", padding="1.2em",
                      width="100%", cursor="pointer"),
            rx.cond(s.importing, rx.hstack(rx.spinner(), rx.text("Importing…"))),
            rx.cond(s.import_summary != "", rx.text(s.import_summary, weight="medium", id="import-summary")),
            rx.foreach(s.import_errors, lambda e: rx.text(e, size="2", color_scheme="red", class_name="import-error")),
            spacing="2", width="100%", align="start")),
        rx.cond(s.items.length() == 0, empty_state("list", "No menu items yet", "Add one above or import a CSV."),
                rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "SKU", "Name", "Category", "Price", "In stock", "")])),
                    rx.table.body(rx.foreach(s.items, lambda i: rx.table.row(
                        rx.table.cell(i["sku"]), rx.table.cell(i["name"], rx.cond(i["linked"] != "", rx.badge(
                            "CCX lot", size="1", margin_left="0.5em"))),
                        rx.table.cell(i["category"]), rx.table.cell(i["price"]),
                        rx.table.cell(rx.cond(i["stock"] == "0", rx.badge("out of stock", color_scheme="gray"),
                                              i["stock"])),
                        rx.table.cell(rx.hstack(
                            rx.button("Edit", size="1", variant="soft", on_click=s.edit_item(i["id"])),
                            rx.cond(i["stock"] != "0", rx.button("Mark out of stock", size="1", variant="ghost",
                                                                 color_scheme="gray",
                                                                 on_click=s.set_stock(i["id"], 0))))),
                        class_name="console-item"))), width="100%")),
        spacing="4", width="100%", align="start")


def _reviews_tab() -> rx.Component:
    s = MyDispensaryState
    return rx.cond(s.review_rows.length() == 0, empty_state("message-square", "No reviews yet",
                                                            "Reviews of the store and its products appear here."),
                   rx.vstack(rx.foreach(s.review_rows, lambda r: card(rx.vstack(
                       rx.hstack(rx.text(r["stars"], color=rx.color("amber", 10)),
                                 rx.text("about ", r["about"], size="2"),
                                 rx.text(r["effects"], size="1", color_scheme="gray")),
                       rx.text(r["text"], size="2"),
                       rx.cond(r["reply"] != "", rx.callout(r["reply"], icon="store", size="1", color_scheme="green")),
                       rx.hstack(rx.input(placeholder="Reply publicly", value=s.replies.get(r["id"], ""),
                                          on_change=lambda v: s.set_reply(r["id"], v), flex="1",
                                          aria_label="Reply"),
                                 rx.button("Reply", size="2", on_click=s.send_reply(r["id"])), width="100%"),
                       spacing="2", align="start", width="100%"))), width="100%"))


@app_page
def my_dispensary_page() -> rx.Component:
    s = MyDispensaryState
    return rx.vstack(
        page_header("My dispensary", "Your store on ICC Maps: profile, hours, menu and reviews."),
        rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.cond(
            s.business_id == "", empty_state("store", "No business with Maps access",
                                             "Ask your business Admin for access to Maps."),
            rx.vstack(
                _claim_list(),
                rx.cond(s.current.contains("name"), rx.vstack(
                    rx.hstack(rx.heading(s.current["name"], size="5", as_="h2"),
                              rx.link("View public page", href=s.current["href"].to(str), size="2"), align="baseline"),
                    rx.tabs.root(rx.tabs.list(rx.tabs.trigger("Menu", value="menu"),
                                              rx.tabs.trigger("Profile & hours", value="profile"),
                                              rx.tabs.trigger("Reviews", value="reviews")),
                                 rx.tabs.content(_menu_tab(), value="menu", padding_top="1em"),
                                 rx.tabs.content(_profile_tab(), value="profile", padding_top="1em"),
                                 rx.tabs.content(_reviews_tab(), value="reviews", padding_top="1em"),
                                 default_value="menu", width="100%"),
                    width="100%", align="start")),
                width="100%", spacing="4"))),
        width="100%", align="start")


def register(app: rx.App) -> None:
    app.add_page(my_dispensary_page, route=routes.MY_DISPENSARY, title="My dispensary | ICC",
                 on_load=MyDispensaryState.load)
