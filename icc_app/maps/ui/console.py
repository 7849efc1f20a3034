"""My dispensary (operator console, Maps access): claim the store whose verified license the business holds, then
edit its profile and hours, its manual menu (add, edit, mark out of stock, CSV import with a row-by-row report),
and answer reviews publicly."""

from __future__ import annotations

import reflex as rx

from icc_app.maps import menus, photos
from icc_app.maps.schemas import SERVICE_LABELS
from icc_app.maps.ui.controls import choice
from icc_app.maps.ui.pages import DAY_LABELS
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, field_error, form_alert, page_header
from icc_app.maps.ui.console_state import (  # noqa: F401 - the state lives beside the page
    CSV_UPLOAD, DRAFT_FIELDS, PHOTO_UPLOAD, MyDispensaryState)
from icc_app.ui.layout import app_page


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
