"""The public dispensary locator (no sign-in): a ZIP code, an address or the browser's location, a radius and
filters; results on a map and in a list, nearest first, with open/closed status."""

from __future__ import annotations

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps import menus, service
from icc_app.maps.geocoding import geocode
from icc_app.maps.ui.map import dispensary_map
from icc_app.ui.components import aria_select, card, empty_state, form_alert, page_header
from icc_app.ui.layout import app_page
from icc_app.ui.state import SessionState, toggled

LOCATOR = "/dispensaries"
RADII = ["5", "10", "25", "50", "100"]
MIN_CQI = ["any", "50", "65", "80"]
SERVICE_LABELS = {"pickup": "Pickup", "delivery": "Delivery", "medical": "Medical", "adult_use": "Adult use"}


def result_row(dispensary, miles: float) -> dict:
    is_open = service.open_now(dispensary.hours, dispensary.state)
    return {"id": str(dispensary.id), "name": dispensary.dba or dispensary.name,
            "address": ", ".join(p for p in (dispensary.street, dispensary.city, dispensary.state) if p),
            "miles": f"{miles:.1f} mi", "open": "" if is_open is None else ("open" if is_open else "closed"),
            "href": service.page_path(dispensary), "lat": dispensary.latitude, "lon": dispensary.longitude,
            "services": " · ".join(SERVICE_LABELS[s] for s in dispensary.services if s in SERVICE_LABELS)}


class LocatorState(SessionState):
    results: list[dict[str, str | float]] = []
    total: int = 0
    total_label: str = ""
    radius: str = "10"
    open_only: bool = False
    services: list[str] = []
    category: str = "any"
    min_cqi: str = "any"
    error: str = ""
    searching: bool = False
    searched: bool = False
    origin: list[float] = []

    @rx.event
    def set_radius(self, value: str):
        self.radius = value

    @rx.event
    def set_open_only(self, value: bool):
        self.open_only = value

    @rx.event
    def set_category(self, value: str):
        self.category = value

    @rx.event
    def set_min_cqi(self, value: str):
        self.min_cqi = value

    @rx.event
    def toggle_service(self, name: str, checked: bool):
        self.services = toggled(self.services, name, checked, service.SERVICES)

    def _filters(self) -> service.Filters:
        return service.Filters(open_now=self.open_only, services=tuple(self.services),
                               category=None if self.category == "any" else self.category,
                               min_cqi=None if self.min_cqi == "any" else float(self.min_cqi))

    def _search(self, lat: float, lon: float):
        self.error = ""
        try:
            with unit_of_work() as session:
                result = service.near(session, lat=lat, lon=lon, radius_miles=float(self.radius), limit=50,
                                      filters=self._filters())
                self.results = [result_row(d, miles) for d, miles in result.rows]
                self.total = result.total
                self.total_label = f"{result.total:,}" + ("" if result.total_exact else "+")
                self.origin = [lat, lon]
        except DomainError as exc:
            self.error = exc.message
        self.searched, self.searching = True, False

    @rx.event
    def search(self, form: dict):
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
    def refine(self):
        """Filters changed: search again around the same place."""
        if self.origin:
            self._search(self.origin[0], self.origin[1])

    @rx.event
    def use_location(self):
        self.searching = True
        script = ("new Promise(r => navigator.geolocation ? navigator.geolocation.getCurrentPosition("
                  "p => r([p.coords.latitude, p.coords.longitude]), () => r(null), {timeout: 10000}) : r(null))")
        return rx.call_script(script, callback=LocatorState.located)

    @rx.event
    def located(self, coords):
        if not coords:
            self.searching = False
            self.error = "Your browser did not share its location: enter a ZIP code instead."
            return
        self._search(float(coords[0]), float(coords[1]))


def _filters() -> rx.Component:
    return rx.flex(
        rx.hstack(rx.switch(checked=LocatorState.open_only, id="open-now",
                            on_change=[LocatorState.set_open_only, LocatorState.refine]),
                  rx.el.label("Open now", html_for="open-now", style={"font-size": "14px"}), align="center"),
        *[rx.checkbox(label, checked=LocatorState.services.contains(name), class_name=f"service-{name}",
                      on_change=lambda checked, name=name: [LocatorState.toggle_service(name, checked),
                                                            LocatorState.refine])
          for name, label in SERVICE_LABELS.items()],
        rx.hstack(rx.text("Has", size="2"),
                  aria_select(["any"] + menus.CATEGORIES, "Has product category", value=LocatorState.category,
                              size="1", on_change=[LocatorState.set_category, LocatorState.refine]),
                  align="center"),
        rx.hstack(rx.text("Min CQI", size="2"),
                  aria_select(MIN_CQI, "Minimum CQI on menu", value=LocatorState.min_cqi, size="1",
                              on_change=[LocatorState.set_min_cqi, LocatorState.refine]),
                  align="center"),
        spacing="4", wrap="wrap", align="center",
    )


def _result(d: rx.Var) -> rx.Component:
    return rx.link(card(rx.hstack(
        rx.vstack(rx.heading(d["name"], size="4", as_="h3"), rx.text(d["address"], size="2", color_scheme="gray"),
                  rx.cond(d["services"] != "", rx.text(d["services"], size="1", color_scheme="gray")),
                  spacing="1", align="start"),
        rx.spacer(),
        rx.cond(d["open"] != "", rx.badge(d["open"], color_scheme=rx.cond(d["open"] == "open", "green", "gray"))),
        rx.badge(d["miles"], variant="outline"), align="center", width="100%"), class_name="dispensary-result"),
        href=d["href"].to(str), underline="none", color="inherit", width="100%")


@app_page
def locator_page() -> rx.Component:
    return rx.vstack(
        page_header("Find a dispensary", "Licensed stores near you, with their live menus."),
        card(rx.vstack(rx.form(rx.hstack(
            rx.input(name="where", id="where", placeholder="ZIP code or address", size="3", flex="1",
                     min_width="14em", aria_label="ZIP code or address"),
            aria_select(RADII, "Radius in miles", value=LocatorState.radius, on_change=LocatorState.set_radius),
            rx.text("miles", size="2"),
            rx.button("Search", type="submit", size="3", id="find", loading=LocatorState.searching),
            rx.button(rx.icon("locate-fixed", size=16), "Use my location", type="button", variant="soft", size="3",
                      on_click=LocatorState.use_location),
            width="100%", align="center", wrap="wrap"), on_submit=LocatorState.search, reset_on_submit=False,
            width="100%"), _filters(), width="100%", spacing="3")),
        form_alert(LocatorState.error, id="locator-error"),
        rx.cond(~LocatorState.searched & (LocatorState.error == ""),
                empty_state("map-pinned", "Where are you?", "Enter a ZIP code or an address, or use your location, "
                            "to see licensed dispensaries on the map, nearest first.")),
        rx.cond(LocatorState.searched, rx.hstack(
            rx.text(LocatorState.total_label, " dispensaries within ", LocatorState.radius, " miles", weight="medium",
                    id="locator-count"),
            rx.cond(LocatorState.total > LocatorState.results.length(),
                    rx.text("(the nearest ", LocatorState.results.length(), " shown)", size="2", color_scheme="gray")),
            align="baseline")),
        rx.cond(LocatorState.searched & (LocatorState.results.length() == 0) & (LocatorState.error == ""),
                empty_state("map-pin-off", "No dispensary here", "Try a larger radius or fewer filters.")),
        rx.cond(LocatorState.results.length() > 0, rx.grid(
            rx.box(dispensary_map(LocatorState.results, center=LocatorState.origin, zoom=10, height="560px"),
                   position=rx.breakpoints(initial="relative", md="sticky"), top="1em"),
            rx.vstack(rx.foreach(LocatorState.results, _result), width="100%", spacing="2", id="results"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(locator_page, route=LOCATOR, title="Find a dispensary | ICC Maps",
                 description="Licensed cannabis dispensaries near you, with live menus and reviews.",
                 on_load=LocatorState.load_session)
