"""The public side of ICC Maps (no sign-in): find dispensaries near a ZIP code or your location, nearest first,
and a dispensary's page with its live menu (search and category filter) and its review summary."""

from __future__ import annotations

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps import menus, service
from icc_app.maps import reviews as reviews_module
from icc_app.maps.api import _open_now
from icc_app.maps.geocoding import geocode
from icc_app.ui.components import card, empty_state, form_alert, page_header
from icc_app.ui.layout import app_page
from icc_app.ui.state import SessionState

LOCATOR = "/dispensaries"
RADII = ["5", "10", "25", "50", "100"]


def _row(dispensary, miles: float) -> dict[str, str]:
    open_now = _open_now(dispensary.hours)
    return {"name": dispensary.dba or dispensary.name, "address": ", ".join(
        p for p in (dispensary.street, dispensary.city, dispensary.state) if p), "miles": f"{miles:.1f} mi",
        "open": "" if open_now is None else ("open" if open_now else "closed"), "href": service.page_path(dispensary)}


class LocatorState(SessionState):
    results: list[dict[str, str]] = []
    total: int = 0
    radius: str = "10"
    error: str = ""
    searching: bool = False
    searched: bool = False

    @rx.event
    def set_radius(self, value: str):
        self.radius = value

    def _search(self, lat: float, lon: float):
        try:
            with unit_of_work() as session:
                result = service.near(session, lat=lat, lon=lon, radius_miles=float(self.radius), limit=50)
                self.results = [_row(d, miles) for d, miles in result.rows]
                self.total = result.total
        except DomainError as exc:
            self.error = exc.message
        self.searched = True

    @rx.event
    def search(self, form: dict):
        self.error = ""
        query = (form.get("where") or "").strip()
        if not query:
            self.error = "Enter a ZIP code or an address."
            return
        with unit_of_work() as session:
            point = geocode(session, query)
        if point is None:
            self.error, self.results, self.total = f"We could not find {query!r}: try a 5-digit ZIP code.", [], 0
            return
        self._search(point.latitude, point.longitude)

    @rx.event
    def use_location(self):
        script = ("new Promise(r => navigator.geolocation ? navigator.geolocation.getCurrentPosition("
                  "p => r([p.coords.latitude, p.coords.longitude]), () => r(null)) : r(null))")
        return rx.call_script(script, callback=LocatorState.located)

    @rx.event
    def located(self, coords):
        if not coords:
            self.error = "Your browser did not share its location: enter a ZIP code instead."
            return
        self.error = ""
        self._search(float(coords[0]), float(coords[1]))


@app_page
def locator_page() -> rx.Component:
    return rx.vstack(
        page_header("Find a dispensary", "Licensed stores near you, with their live menus."),
        card(rx.form(rx.hstack(
            rx.input(name="where", id="where", placeholder="ZIP code or address", size="3", flex="1",
                     aria_label="ZIP code or address"),
            rx.select(RADII, value=LocatorState.radius, on_change=LocatorState.set_radius, aria_label="Radius in miles"),
            rx.text("miles", size="2"),
            rx.button("Search", type="submit", size="3", id="find"),
            rx.button(rx.icon("locate-fixed", size=16), "Use my location", type="button", variant="soft", size="3",
                      on_click=LocatorState.use_location),
            width="100%", align="center", wrap="wrap"), on_submit=LocatorState.search, reset_on_submit=False)),
        form_alert(LocatorState.error, id="locator-error"),
        rx.cond(LocatorState.searched, rx.text(LocatorState.total, " dispensaries within ", LocatorState.radius,
                                               " miles", weight="medium", id="locator-count")),
        rx.cond(LocatorState.searched & (LocatorState.results.length() == 0) & (LocatorState.error == ""),
                empty_state("map-pin-off", "No dispensary in this radius", "Try a larger radius.")),
        rx.vstack(rx.foreach(LocatorState.results, lambda d: rx.link(card(rx.hstack(
            rx.vstack(rx.heading(d["name"], size="4"), rx.text(d["address"], size="2", color_scheme="gray"),
                      spacing="1", align="start"),
            rx.spacer(),
            rx.cond(d["open"] != "", rx.badge(d["open"], color_scheme=rx.cond(d["open"] == "open", "green", "gray"))),
            rx.badge(d["miles"], variant="outline"), align="center", width="100%"), class_name="dispensary-result"),
            href=d["href"], underline="none", color="inherit", width="100%")), width="100%", spacing="2"),
        width="100%", align="start",
    )


class DispensaryState(SessionState):
    dispensary_id: str = ""
    reviews: list[dict[str, str]] = []
    rating: str = "5"
    effects: list[str] = []
    review_error: str = ""
    found: bool = False
    loaded: bool = False
    info: dict[str, str] = {}
    items: list[dict[str, str]] = []
    categories: list[str] = []
    category: str = "all"
    query: str = ""

    @rx.event
    def load(self):
        self._apply(self.principal())
        params = self.router.url.query_parameters
        path = self.router.url.path.strip("/").split("/")
        state, slug = (path[1], path[3]) if len(path) >= 4 else (params.get("state", ""), params.get("slug", ""))
        self.category, self.query = "all", ""
        with unit_of_work() as session:
            dispensary = service.by_slug(session, state=state, slug=slug)
            self.found = dispensary is not None
            if dispensary is not None:
                summary = reviews_module.summary(session, target_type="dispensary", target_id=dispensary.id)
                _, items = menus.public_menu(session, dispensary.id)
                self.info = {"name": dispensary.dba or dispensary.name, "license": f"{dispensary.state} "
                             f"{dispensary.license_number}", "address": ", ".join(p for p in (
                                 dispensary.street, dispensary.city, dispensary.state, dispensary.postal_code) if p),
                             "phone": dispensary.phone or "", "rating": f"{summary.rating:.1f} ★ ({summary.count})"
                             if summary and summary.rating else "No reviews yet"}
                self.items = [{"name": i.name, "brand": i.brand or "", "category": i.category,
                               "strain": " · ".join(p for p in (i.strain_name, i.strain_type) if p),
                               "thc": f"THC {i.thc_min:g}{i.thc_unit}" if i.thc_min is not None else "",
                               "price": f"${i.price:,.2f}" if i.price is not None else ""} for i in items]
                self.categories = sorted({i.category for i in items})
                self.dispensary_id = str(dispensary.id)
                self._load_reviews(session, dispensary.id)
        self.loaded = True

    def _load_reviews(self, session, dispensary_id) -> None:
        self.reviews = [{"author": author, "rating": "★" * review.rating, "effects": ", ".join(review.effects),
                         "text": review.text, "reply": review.reply or ""}
                        for review, author in reviews_module.published(session, target_type="dispensary",
                                                                       target_id=dispensary_id)]

    @rx.event
    def set_rating(self, value: str):
        self.rating = value

    @rx.event
    def toggle_effect(self, effect: str, checked: bool):
        chosen = set(self.effects)
        chosen.add(effect) if checked else chosen.discard(effect)
        self.effects = sorted(chosen)

    @rx.event
    def write_review(self, form: dict):
        import uuid

        from icc_app.maps import reviews

        principal = self.principal()
        if principal is None:
            return rx.redirect(f"/login?next={self.router.url.path}")
        self.review_error = ""
        try:
            with unit_of_work() as session:
                reviews.write(session, principal=principal, target_type="dispensary",
                              target_id=uuid.UUID(self.dispensary_id), rating=int(self.rating), effects=self.effects,
                              text=form.get("text", ""))
                self._load_reviews(session, uuid.UUID(self.dispensary_id))
        except DomainError as exc:
            self.review_error = exc.message
            return
        return rx.toast.success("Thanks: your review is published.")

    @rx.event
    def set_category(self, value: str):
        self.category = value

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.var
    def shown(self) -> list[dict[str, str]]:
        query = self.query.strip().lower()
        return [i for i in self.items if (self.category == "all" or i["category"] == self.category)
                and (not query or query in (i["name"] + " " + i["brand"] + " " + i["strain"]).lower())]


@app_page
def dispensary_page() -> rx.Component:
    info = DispensaryState.info
    return rx.cond(~DispensaryState.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        ~DispensaryState.found, empty_state("store", "Dispensary not found", "It may have closed or moved.",
                                            rx.link(rx.button("Find a dispensary"), href=LOCATOR)),
        rx.vstack(
            rx.link("← Find a dispensary", href=LOCATOR, size="2"),
            page_header(info.get("name", ""), info.get("address", "")),
            rx.hstack(rx.badge(info.get("license", ""), variant="outline"), rx.text(info.get("rating", ""), size="2"),
                      rx.text(info.get("phone", ""), size="2"), spacing="3"),
            rx.heading("Menu", size="5", as_="h2"),
            rx.hstack(rx.input(placeholder="Search the menu", value=DispensaryState.query,
                               on_change=DispensaryState.set_query, id="menu-search", aria_label="Search the menu",
                               flex="1"),
                      rx.select(["all"] + [c for c in menus.CATEGORIES], value=DispensaryState.category,
                                on_change=DispensaryState.set_category, aria_label="Category"),
                      width="100%"),
            rx.cond(DispensaryState.items.length() == 0,
                    empty_state("list", "No menu yet", "This dispensary has not published its menu on ICC."),
                    rx.vstack(rx.foreach(DispensaryState.shown, lambda i: card(rx.hstack(
                        rx.vstack(rx.text(i["name"], weight="bold"), rx.text(i["brand"], " ", i["strain"], size="2",
                                                                              color_scheme="gray"),
                                  spacing="0", align="start"),
                        rx.spacer(), rx.badge(i["category"]), rx.text(i["thc"], size="2"),
                        rx.text(i["price"], weight="bold"), align="center", width="100%"), class_name="menu-item")),
                        width="100%", spacing="2")),
            rx.heading("Reviews", size="5", as_="h2"),
            rx.cond(DispensaryState.is_consumer, card(rx.form(rx.vstack(
                rx.hstack(rx.text("Your rating", size="2", weight="medium"),
                          rx.select(["5", "4", "3", "2", "1"], value=DispensaryState.rating,
                                    on_change=DispensaryState.set_rating, aria_label="Rating"),
                          rx.text("stars", size="2"), align="center"),
                rx.text("Effects you felt", size="2", weight="medium"),
                rx.flex(*[rx.checkbox(effect, checked=DispensaryState.effects.contains(effect),
                                      on_change=lambda checked, effect=effect: DispensaryState.toggle_effect(effect, checked))
                          for effect in reviews_module.EFFECTS], wrap="wrap", spacing="3"),
                rx.text_area(name="text", placeholder="What was it like? (optional)", width="100%", id="review-text"),
                form_alert(DispensaryState.review_error, id="review-error"),
                rx.button("Publish review", type="submit", id="publish-review"),
                spacing="3", align="start", width="100%"), on_submit=DispensaryState.write_review, reset_on_submit=False)),
                rx.text(rx.link("Sign in", href="/login"), " with a consumer account to write a review.", size="2")),
            rx.cond(DispensaryState.reviews.length() > 0,
                    rx.vstack(rx.foreach(DispensaryState.reviews, lambda r: card(rx.vstack(
                        rx.hstack(rx.text(r["rating"], color=rx.color("amber", 10)), rx.text("@" + r["author"], size="2"),
                                  rx.text(r["effects"], size="1", color_scheme="gray")),
                        rx.cond(r["text"] != "", rx.text(r["text"], size="2")),
                        rx.cond(r["reply"] != "", rx.text("Reply from the dispensary: " + r["reply"], size="2",
                                                          color_scheme="green")),
                        spacing="1", align="start"), class_name="review")), width="100%", spacing="2"),
                    rx.text("No reviews yet.", size="2", color_scheme="gray")),
            width="100%", align="start", spacing="3",
        ),
    ))


def register(app: rx.App) -> None:
    app.add_page(locator_page, route=LOCATOR, title="Find a dispensary | ICC Maps",
                 description="Licensed cannabis dispensaries near you, with live menus and reviews.",
                 on_load=LocatorState.load_session)
    app.add_page(dispensary_page, route=LOCATOR + "/[state]/[city]/[slug]", title="Dispensary | ICC Maps",
                 on_load=DispensaryState.load)
