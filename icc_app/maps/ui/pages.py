"""Public dispensary and product pages (no sign-in).

- /dispensaries/<state>/<city>/<slug>: profile, hours, services, a map, the live menu grouped by category with
  search and filters (category, strain type, THC, price, effects); each product with potency, top terpenes, its
  CQI badge when it is linked to a scored exchange lot, and its review summary; the dispensary's reviews.
- /dispensaries/<state>/<city>/<slug>/<product>: the product page (maps/ui/product.py).
"""

from __future__ import annotations

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.maps import catalog, menus, photos, reviews, service
from icc_app.maps.ui import locator
from icc_app.maps.ui.map import dispensary_map
from icc_app.maps.ui.reviews import ReviewsState, effect_chart, effect_rows, review_section
from icc_app.quality.ui.components import band
from icc_app.maps.schemas import (DispensaryProfile, MenuCard, MenuGroup, MenuListing, directions_url, open_label, phone, phone_href,
                                  services_line)
from icc_app.maps.ui.controls import choice
from icc_app.ui.components import card, empty_state, page_header
from icc_app.ui.format import plural
from icc_app.ui.layout import app_page

THC_MIN = ["any", "10", "15", "20", "25", "30"]
THC_MAX = ["any", "1", "10", "15", "20", "25", "30"]  # low-THC shoppers (CBD products, microdoses) set a ceiling
DAY_LABELS = {"monday": "Mon", "tuesday": "Tue", "wednesday": "Wed", "thursday": "Thu", "friday": "Fri",
              "saturday": "Sat", "sunday": "Sun"}


STORE_MAP_NOTE = "the address and directions are above."  # a single store's map: no list of results here

MENU_SORTS = {"category": "Category, A-Z", "price_low": "Price, low to high", "price_high": "Price, high to low",
              "thc_high": "THC, highest first", "rating": "Best rated"}


def _sort_key(sort: str):
    """The order inside each category; items without the value go last."""
    last = float("inf")
    return {
        "price_low": lambda i: (i.price.amount if i.price else last, i.name.lower()),
        "price_high": lambda i: (-(i.price.amount) if i.price else last, i.name.lower()),
        "thc_high": lambda i: (-(i.thc_high) if i.thc_high is not None else last, i.name.lower()),
        "rating": lambda i: (-(i.rating_value) if i.rating_value is not None else last, i.name.lower()),
    }.get(sort, lambda i: i.name.lower())


def hours_rows(hours: dict) -> list[dict[str, str]]:
    return [{"day": label, "hours": f"{hours[day][0]}–{hours[day][1]}" if hours.get(day) else "closed"}
            for day, label in DAY_LABELS.items()]


def profile(dispensary) -> DispensaryProfile:
    return DispensaryProfile(
        name=dispensary.dba or dispensary.name, license=f"{dispensary.state} {dispensary.license_number}",
        address=", ".join(p for p in (dispensary.street, dispensary.city, dispensary.state, dispensary.postal_code)
                          if p),
        phone=phone(dispensary.phone), phone_href=phone_href(dispensary.phone), website=dispensary.website or "",
        href=service.page_path(dispensary), open=open_label(service.open_now(dispensary.hours, dispensary.state)),
        services=services_line(dispensary.services), claimed=dispensary.claimed_by_business_id is not None,
        directions=directions_url(dispensary.street, dispensary.city, dispensary.state, dispensary.postal_code))


def _number(text: str) -> float | None:
    """A filter box's number; empty, "any" or half-typed text filters nothing."""
    try:
        return float(text) if text.strip() not in ("", "any") else None
    except ValueError:
        return None


def path_segments(path: str) -> list[str]:
    return [p for p in path.strip("/").split("/") if p]


class DispensaryState(ReviewsState):
    found: bool = False
    loaded: bool = False
    info: DispensaryProfile = DispensaryProfile()
    hours: list[dict[str, str]] = []
    marker: list[dict[str, str | float]] = []
    photos: list[str] = []  # photo ids
    _items: list[MenuListing] = []  # the whole menu stays on the server; the page gets `groups` (filtered)
    item_count: int = 0
    item_count_line: str = ""  # "227 products"
    sort: str = "category"
    rating_line: str = ""
    effect_profile: list[dict[str, str | int]] = []
    category: str = "all"
    strain_type: str = "all"
    thc_min: str = "any"
    thc_max: str = "any"
    max_price: str = ""
    effect: str = "any"
    query: str = ""
    page_title: str = "Dispensary | ICC Maps"
    page_description: str = "A licensed dispensary on ICC Maps: live menu, hours and reviews."

    @rx.event
    def load(self):
        self._apply(self.principal())
        parts = path_segments(self.router.url.path)
        state, slug = (parts[1], parts[3]) if len(parts) >= 4 else ("", "")
        self.category, self.strain_type, self.thc_min, self.thc_max, self.max_price, self.effect, self.query = (
            "all", "all", "any", "any", "", "any", "")
        self.sort = "category"
        with unit_of_work() as session:
            dispensary = service.by_slug(session, state=state, slug=slug)
            self.found = dispensary is not None
            if dispensary is not None:
                summary = reviews.summary(session, target_type="dispensary", target_id=dispensary.id)
                self.info = profile(dispensary)
                self.hours = hours_rows(dispensary.hours) if dispensary.hours else []
                self.photos = [str(p.id) for p in photos.list_for(session, dispensary.id)]
                self.marker = [{"id": str(dispensary.id), "lat": dispensary.latitude, "lon": dispensary.longitude,
                                "name": self.info.name, "address": self.info.address}]
                self._items = [catalog.listing_read(listing, dispensary, cqi_band=band)
                               for listing in catalog.menu(session, dispensary.id)]
                self.item_count = len(self._items)
                self.item_count_line = plural(self.item_count, "product")
                self.rating_line = (f"{summary.rating:.1f} ★ from {plural(summary.count, 'review')}"
                                    if summary and summary.rating else "No reviews yet")
                self.effect_profile = effect_rows(summary.effects) if summary else []
                self.target_type, self.target_id = "dispensary", str(dispensary.id)
                self._load_reviews(session)
                self.page_title = f"{self.info.name}: dispensary in {dispensary.city or dispensary.state} | ICC Maps"
                self.page_description = f"{self.info.name} at {self.info.address}: live menu, hours, reviews."
        self.loaded = True

    @rx.event
    def set_sort(self, value: str):
        self.sort = value if value in MENU_SORTS else "category"

    @rx.event
    def set_category(self, value: str):
        self.category = value

    @rx.event
    def set_strain_type(self, value: str):
        self.strain_type = value

    @rx.event
    def set_thc_min(self, value: str):
        self.thc_min = value

    @rx.event
    def set_thc_max(self, value: str):
        self.thc_max = value

    @rx.event
    def set_max_price(self, value: str):
        self.max_price = value

    @rx.event
    def set_effect(self, value: str):
        self.effect = value

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.event
    def clear_filters(self):
        self.category, self.strain_type, self.thc_min, self.thc_max, self.max_price, self.effect, self.query = (
            "all", "all", "any", "any", "", "any", "")

    def _filter(self) -> catalog.MenuFilter:
        return catalog.MenuFilter(query=self.query, category=None if self.category == "all" else self.category,
                                  strain_type=None if self.strain_type == "all" else self.strain_type,
                                  thc_min=_number(self.thc_min), thc_max=_number(self.thc_max),
                                  max_price=_number(self.max_price),
                                  effect=None if self.effect == "any" else self.effect)

    def _shown(self) -> list[MenuListing]:
        menu_filter = self._filter()
        return [i for i in self._items if menu_filter.keeps(
            text=f"{i.name} {i.brand} {i.strain}", category=i.category, strain_type=i.strain_type or None,
            thc_low=i.thc_low, thc_high=i.thc_high, price=float(i.price.amount) if i.price else None,
            effects=i.effects)]

    @rx.var
    def shown_count(self) -> int:
        return len(self._shown())

    @rx.var
    def groups(self) -> list[MenuGroup]:
        """The menu after the filters, grouped by category (in the menu's order), sorted inside each."""
        grouped: dict[str, list[MenuListing]] = {}
        for item in self._shown():
            grouped.setdefault(item.category_label, []).append(item)
        key = _sort_key(self.sort)
        return [MenuGroup(label=name, anchor=f"menu-{service.slugify(name)}", count=plural(len(items), "product"),
                          products=[MenuCard.of(i) for i in sorted(items, key=key)]) for name, items in grouped.items()]


def menu_card(i: rx.Var) -> rx.Component:
    """One product of the menu, in plain elements styled by assets/maps.css (hundreds render at once)."""
    return rx.el.a(
        rx.el.div(
            rx.el.div(i.name, rx.cond(i.cqi != "", rx.el.span("CQI ", i.cqi, class_name="cqi-badge",
                                                               data_band=i.cqi_color)), class_name="mi-title"),
            rx.el.div(i.brand, rx.cond((i.brand != "") & (i.strain != ""), " · ", ""), i.strain, class_name="mi-sub"),
            rx.cond(i.terpenes != "", rx.el.div("Terpenes: ", i.terpenes, class_name="mi-small")),
            rx.cond(i.rating != "", rx.el.div(i.rating, " ", i.effects_line, class_name="mi-rating")),
            class_name="mi-main"),
        rx.el.div(rx.el.strong(i.price_text), rx.el.div(i.thc), rx.el.div(i.cbd), class_name="mi-side"),
        href=i.href, class_name="menu-item")


def _beside(label: str, control_id: str, *controls: rx.Component) -> rx.Component:
    """A filter's short visible label, tied to its first control."""
    return rx.hstack(rx.el.label(label, html_for=control_id, style={"font-size": "14px"}), *controls, align="center")


def _menu_filters() -> rx.Component:
    s = DispensaryState
    return rx.flex(
        rx.input(placeholder="Search the menu", value=s.query, on_change=s.set_query, id="menu-search",
                 aria_label="Search the menu", min_width="14em", flex="1", debounce_timeout=120),
        _beside("Category", "menu-category", choice(["all"] + menus.CATEGORIES, "Category", id="menu-category",
                                                    value=s.category, on_change=s.set_category)),
        _beside("Type", "menu-type", choice(["all"] + menus.STRAIN_TYPES, "Strain type", id="menu-type",
                                            value=s.strain_type, on_change=s.set_strain_type)),
        _beside("THC %", "thc-min",
                choice(THC_MIN, "Minimum THC percent", id="thc-min", value=s.thc_min, on_change=s.set_thc_min),
                rx.text("to", size="2", aria_hidden="true"),
                choice(THC_MAX, "Maximum THC percent", value=s.thc_max, on_change=s.set_thc_max)),
        _beside("Max price $", "max-price",
                rx.input(value=s.max_price, on_change=s.set_max_price, type="number", width="7em",
                         aria_label="Maximum price in dollars", id="max-price", min="0")),
        _beside("Effect", "menu-effect", choice(["any"] + reviews.POSITIVE, "Effect", id="menu-effect",
                                                value=s.effect, on_change=s.set_effect)),
        _beside("Sort", "menu-sort", choice(list(MENU_SORTS), "Sort the menu", labels=MENU_SORTS, id="menu-sort",
                                            value=s.sort, on_change=s.set_sort)),
        rx.button("Clear filters", variant="ghost", on_click=s.clear_filters, type="button"),
        spacing="2", wrap="wrap", width="100%", align="center")


def _menu_tabs() -> rx.Component:
    """Category tabs that stay in view while the menu scrolls; the last one jumps to the reviews."""
    s = DispensaryState
    return rx.el.nav(
        rx.foreach(s.groups, lambda g: rx.el.a(g.label, " ", rx.el.span("(", g.products.length(), ")",
                                                                        class_name="tab-count"),
                                               href="#" + g.anchor)),
        rx.el.a("Reviews (", s.review_list.length(), ")", href="#reviews"),
        class_name="menu-tabs", aria_label="Menu categories")


def _profile_panel() -> rx.Component:
    s, info = DispensaryState, DispensaryState.info
    return rx.grid(
        card(rx.vstack(
            rx.hstack(rx.badge(info.license, variant="outline"),
                      rx.cond(info.open != "", rx.badge(info.open, color_scheme=rx.cond(
                          info.open == "Open now", "green", "gray"))),
                      rx.cond(info.claimed, rx.badge("verified owner", color_scheme="grass")), wrap="wrap"),
            rx.text(s.rating_line, size="2", id="dispensary-rating"),
            rx.cond(info.services != "", rx.text(info.services, size="2")),
            rx.hstack(
                rx.cond(info.phone != "", rx.cond(info.phone_href != "",
                                                     rx.link(info.phone, href=info.phone_href, size="2"),
                                                     rx.text(info.phone, size="2"))),
                rx.el.a(rx.icon("navigation", size=14), "Directions", href=info.directions, target="_blank",
                        rel="noopener", id="directions", class_name="dr-action"),
                rx.cond(info.website != "", rx.link("Website", href=info.website, is_external=True, size="2")),
                spacing="4", wrap="wrap", align="center"),
            rx.cond(s.hours.length() > 0, rx.table.root(rx.table.body(rx.foreach(s.hours, lambda h: rx.table.row(
                rx.table.cell(h["day"]), rx.table.cell(h["hours"])))), size="1", id="hours"),
                rx.text("Hours not published yet.", size="2", color_scheme="gray")),
            effect_chart(s.effect_profile, ""), spacing="2", align="start")),
        dispensary_map(s.marker, zoom=14, height="320px", note=STORE_MAP_NOTE),
        columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")


@app_page
def dispensary_page() -> rx.Component:
    s = DispensaryState
    return rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        ~s.found, empty_state("store", "Dispensary not found", "It may have closed or moved.",
                              rx.link(rx.button("Find a dispensary"), href=locator.LOCATOR)),
        rx.vstack(
            rx.link("← Find a dispensary", href=locator.LOCATOR, size="2"),
            page_header(s.info.name, s.info.address),
            rx.el.nav(rx.link("Menu (", s.item_count_line, ")", href="#menu"),
                      rx.link("Reviews (", s.review_list.length(), ")", href="#reviews", id="jump-reviews"),
                      rx.link("Hours and map", href="#about"), class_name="page-jumps", aria_label="On this page"),
            rx.cond(s.photos.length() > 0, rx.flex(rx.foreach(s.photos, lambda photo_id: rx.link(rx.image(
                src="/api/v1/dispensary-photos/" + photo_id + "?thumbnail=true", height="140px", border_radius="8px",
                alt="Photo of " + s.info.name, loading="lazy", object_fit="cover"),
                href="/api/v1/dispensary-photos/" + photo_id, is_external=True)),
                spacing="2", wrap="wrap", class_name="dispensary-photos")),
            rx.box(_profile_panel(), id="about", width="100%"),
            rx.hstack(rx.heading("Menu", size="5", as_="h2", id="menu"),
                      rx.text(s.shown_count, " of ", s.item_count_line, size="2", id="menu-count"),
                      align="baseline"),
            rx.cond(s.item_count == 0,
                    empty_state("list", "No menu yet", "This dispensary has not published its menu on ICC."),
                    rx.vstack(_menu_filters(), _menu_tabs(), rx.cond(
                        s.shown_count == 0, empty_state("filter-x", "Nothing matches", "Clear a filter to see more."),
                        rx.foreach(s.groups, lambda g: rx.vstack(
                            rx.heading(g.label, rx.el.span(" · ", g.count, class_name="tab-count"), size="3",
                                       as_="h3", class_name="menu-category", id=g.anchor),
                            rx.el.div(rx.foreach(g.products, menu_card), class_name="menu-grid"), width="100%"))),
                        width="100%", spacing="3")),
            review_section(s, "dispensary"),
            width="100%", align="start", spacing="4",
        ),
    ))


def register(app: rx.App) -> None:
    locator.register(app)
    app.add_page(dispensary_page, route=locator.LOCATOR + "/[state]/[city]/[slug]", title=DispensaryState.page_title,
                 description=DispensaryState.page_description, on_load=DispensaryState.load)
    from icc_app.maps.ui.product import ProductState, product_page

    app.add_page(product_page, route=locator.LOCATOR + "/[state]/[city]/[slug]/[product]",
                 title=ProductState.page_title, description=ProductState.page_description, on_load=ProductState.load)
