"""The public dispensary locator (no sign-in): a city, neighbourhood, ZIP code or address, the browser's location
or the visible map area; a radius, filters and a sort; results as cards beside a map, a page at a time.

The search lives in the URL (/dispensaries?q=Seattle%2C+WA&r=10&sort=rating&page=2): every search, filter,
sort and page change navigates, and the page's on_load runs the search from the URL, so a link can be shared,
a reload shows the same results and the back button returns to the previous ones.
"""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps import menus, service
from icc_app.maps.geocoding import geocode
from icc_app.maps.schemas import SERVICE_LABELS, DispensaryCard
from icc_app.maps.ui.controls import choice
from icc_app.maps.ui.map import dispensary_map
from icc_app.ui.components import card, empty_state, form_alert, page_header
from icc_app.ui.format import plural
from icc_app.ui.layout import app_page
from icc_app.ui.state import SessionState

LOCATOR = "/dispensaries"
RADII = ["2", "5", "10", "25", "50", "100"]
MIN_CQI = ["any", "50", "65", "80"]
PER_PAGE = 20


def _number(text: str | None, low: float, high: float) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def snap_radius(miles: float) -> str:
    """The smallest offered radius that covers `miles` (the map's visible area), at most the largest one."""
    return next((r for r in RADII if float(r) >= miles), RADII[-1])


class LocatorState(SessionState):
    results: list[DispensaryCard] = []
    total: int = 0
    heading: str = ""  # "37 dispensaries within 10 miles of Seattle, WA"
    where: str = ""  # the search box's text (from the URL)
    place: str = ""  # what the search found, in words
    radius: str = "10"
    sort: str = "distance"
    page: int = 1
    page_count: int = 1
    open_only: bool = False
    services: list[str] = []
    category: str = "any"
    min_cqi: str = "any"
    origin: list[float] = []  # the searched point (lat, lon), for the "search this area" link
    error: str = ""
    searching: bool = False
    searched: bool = False
    moved_to: list[float] = []  # the map's centre and radius after the visitor moved it

    # --- the URL is the search ------------------------------------------------------------------------------

    def _params(self, **changes) -> dict[str, str]:
        params = {"q": self.where, "r": self.radius, "sort": self.sort, "page": str(self.page),
                  "open": "1" if self.open_only else "", "svc": ",".join(self.services),
                  "cat": "" if self.category == "any" else self.category,
                  "cqi": "" if self.min_cqi == "any" else self.min_cqi}
        if not self.where and len(self.origin) == 2:
            params.update(lat=f"{self.origin[0]:.5f}", lon=f"{self.origin[1]:.5f}")
        params.update({k: v for k, v in changes.items() if v is not None})
        if params.get("q"):
            params.pop("lat", None), params.pop("lon", None)
        defaults = {"r": "10", "sort": "distance", "page": "1"}
        return {k: v for k, v in params.items() if v and defaults.get(k) != v}

    def _go(self, **changes):
        query = urlencode(self._params(**changes))
        return rx.redirect(f"{LOCATOR}?{query}" if query else LOCATOR)

    @rx.event
    def load(self):
        """on_load: read the search from the URL and run it (or show the empty state)."""
        self._apply(self.principal())
        params = self.router.url.query_parameters
        self.where = (params.get("q") or "").strip()[:200].replace("\x00", "")
        self.radius = params.get("r") if params.get("r") in RADII else "10"
        self.sort = params.get("sort") if params.get("sort") in service.SORTS else "distance"
        self.page = int(_number(params.get("page"), 1, 500) or 1)
        self.open_only = params.get("open") == "1"
        self.services = [s for s in service.SERVICES if s in (params.get("svc") or "").split(",")]
        self.category = params.get("cat") if params.get("cat") in menus.CATEGORIES else "any"
        self.min_cqi = params.get("cqi") if params.get("cqi") in MIN_CQI else "any"
        self.error, self.moved_to, self.searching = "", [], False
        lat, lon = _number(params.get("lat"), -90, 90), _number(params.get("lon"), -180, 180)
        if self.where:
            with unit_of_work() as session:
                point = geocode(session, self.where)
            if point is None:
                self.results, self.total, self.searched = [], 0, False
                self.error = (f"We could not find {self.where!r}: try a city and state (Seattle, WA), a "
                              "neighbourhood, a 5-digit ZIP code or a street address.")
                return
            self.place = point.label or self.where
            self._search(point.latitude, point.longitude)
        elif lat is not None and lon is not None:
            self.place = "this area"
            self._search(lat, lon)
        else:
            self.results, self.total, self.searched, self.origin, self.place = [], 0, False, [], ""

    def _search(self, lat: float, lon: float):
        try:
            with unit_of_work() as session:
                result = service.near(session, lat=lat, lon=lon, radius_miles=float(self.radius),
                                      limit=PER_PAGE, offset=(self.page - 1) * PER_PAGE, filters=self._filters(),
                                      sort=self.sort)
                self.results = service.cards(session, result.rows)
        except DomainError as exc:
            self.error, self.results, self.total = exc.message, [], 0
            self.searched = True
            return
        self.total, self.origin, self.searched = result.total, [lat, lon], True
        self.page_count = service.pages(result.total, PER_PAGE)
        count = plural(result.total, "dispensary") if result.total_exact else f"{result.total:,}+ dispensaries"
        self.heading = f"{count} within {plural(int(self.radius), 'mile')} of {self.place}"

    def _filters(self) -> service.Filters:
        return service.Filters(open_now=self.open_only, services=tuple(self.services),
                               category=None if self.category == "any" else self.category,
                               min_cqi=None if self.min_cqi == "any" else float(self.min_cqi))

    # --- what the visitor does: each one navigates -------------------------------------------------------------

    @rx.event
    def search(self, form: dict):
        query = (form.get("where") or "").strip()
        if not query:
            self.error = "Enter a city, a neighbourhood, a ZIP code or an address."
            return
        self.searching = True
        return self._go(q=query, page="1")

    @rx.event
    def set_radius(self, value: str):
        if value in RADII:
            self.radius = value
            if self.searched:
                return self._go(page="1")

    @rx.event
    def set_sort(self, value: str):
        if value in service.SORTS:
            self.sort = value
            if self.searched:
                return self._go(page="1")

    @rx.event
    def set_open_only(self, value: bool):
        self.open_only = bool(value)
        if self.searched:
            return self._go(page="1")

    @rx.event
    def set_category(self, value: str):
        self.category = value if value in menus.CATEGORIES else "any"
        if self.searched:
            return self._go(page="1")

    @rx.event
    def set_min_cqi(self, value: str):
        self.min_cqi = value if value in MIN_CQI else "any"
        if self.searched:
            return self._go(page="1")

    @rx.event
    def toggle_service(self, name: str, checked: bool):
        chosen = set(self.services) | {name} if checked else set(self.services) - {name}
        self.services = [s for s in service.SERVICES if s in chosen]
        if self.searched:
            return self._go(page="1")

    @rx.event
    def map_moved(self, view: dict):
        """The visitor panned or zoomed the map: offer to search the visible area."""
        lat, lon = _number(str(view.get("lat")), -90, 90), _number(str(view.get("lon")), -180, 180)
        miles = _number(str(view.get("radius_miles")), 0, 20000)
        if lat is not None and lon is not None and miles is not None:
            self.moved_to = [lat, lon, float(snap_radius(miles))]

    @rx.event
    def search_area(self):
        if len(self.moved_to) == 3:
            lat, lon, miles = self.moved_to
            self.where, self.origin = "", [lat, lon]
            return self._go(q="", lat=f"{lat:.5f}", lon=f"{lon:.5f}", r=f"{miles:g}", page="1")

    @rx.event
    def use_location(self):
        self.searching = True
        script = ("new Promise(r => navigator.geolocation ? navigator.geolocation.getCurrentPosition("
                  "p => r([p.coords.latitude, p.coords.longitude]), () => r(null), {timeout: 10000}) : r(null))")
        return rx.call_script(script, callback=LocatorState.located)

    @rx.event
    def located(self, coords):
        self.searching = False
        if not coords:
            self.error = "Your browser did not share its location: enter a city or a ZIP code instead."
            return
        self.where = ""
        return self._go(q="", lat=f"{float(coords[0]):.5f}", lon=f"{float(coords[1]):.5f}", page="1")

    @rx.var
    def page_line(self) -> str:
        return f"Page {self.page} of {self.page_count}" if self.page_count > 1 else ""

    @rx.var
    def previous_href(self) -> str:
        return f"{LOCATOR}?{urlencode(self._params(page=str(self.page - 1)))}" if self.page > 1 else ""

    @rx.var
    def next_href(self) -> str:
        return f"{LOCATOR}?{urlencode(self._params(page=str(self.page + 1)))}" if self.page < self.page_count else ""


def _filters() -> rx.Component:
    s = LocatorState
    return rx.flex(
        rx.hstack(rx.switch(checked=s.open_only, id="open-now", on_change=s.set_open_only),
                  rx.el.label("Open now", html_for="open-now", style={"font-size": "14px"}), align="center"),
        *[rx.checkbox(label, checked=s.services.contains(name), class_name=f"service-{name}",
                      on_change=lambda checked, name=name: s.toggle_service(name, checked))
          for name, label in SERVICE_LABELS.items()],
        rx.hstack(rx.el.label("Has", html_for="has-category", style={"font-size": "14px"}),
                  choice(["any"] + menus.CATEGORIES, "Has product category", id="has-category", value=s.category,
                         size="1", on_change=s.set_category), align="center"),
        rx.hstack(rx.el.label("Min CQI", html_for="min-cqi", style={"font-size": "14px"}),
                  choice(MIN_CQI, "Minimum CQI on menu", id="min-cqi", value=s.min_cqi, size="1",
                         on_change=s.set_min_cqi), align="center"),
        rx.hstack(rx.el.label("Sort", html_for="sort", style={"font-size": "14px"}),
                  choice(list(service.SORTS), "Sort results", labels=service.SORTS, id="sort", value=s.sort,
                         size="1", on_change=s.set_sort), align="center"),
        spacing="4", wrap="wrap", align="center",
    )


def _result(d: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.cond(d.photo_url != "",
                rx.image(src=d.photo_url, alt="Photo of " + d.name, class_name="dr-photo", loading="lazy"),
                rx.box(rx.icon("store", size=28), class_name="dr-photo dr-photo-none", aria_hidden="true")),
        rx.el.div(
            rx.el.h3(rx.link(d.name, href=d.href, class_name="dr-name"), class_name="dr-title"),
            rx.el.div(d.address, class_name="dr-sub"),
            rx.el.div(
                rx.cond(d.open != "", rx.badge(d.open, color_scheme=rx.cond(d.is_open, "green", "gray"))),
                rx.badge(d.miles, variant="outline"),
                rx.cond(d.rating != "", rx.el.span(d.rating, " · ", d.reviews, class_name="dr-rating"),
                        rx.el.span("No reviews yet", class_name="dr-sub")),
                class_name="dr-facts"),
            rx.cond(d.services != "", rx.el.div(d.services, class_name="dr-sub")),
            rx.el.div(
                rx.el.a(rx.icon("navigation", size=14), "Directions", href=d.directions, target="_blank",
                        rel="noopener", class_name="dr-action",
                        custom_attrs={"aria-label": "Directions to " + d.name}),
                rx.cond(d.phone != "", rx.el.span(d.phone, class_name="dr-sub")),
                class_name="dr-actions"),
            class_name="dr-main"),
        class_name="dispensary-result")


def _pager() -> rx.Component:
    s = LocatorState
    return rx.cond(s.page_count > 1, rx.hstack(
        rx.cond(s.previous_href != "", rx.link("← Previous", href=s.previous_href, id="previous-page")),
        rx.text(s.page_line, size="2", color_scheme="gray"),
        rx.cond(s.next_href != "", rx.link("Next →", href=s.next_href, id="next-page")),
        spacing="4", align="center", justify="center", width="100%", role="navigation",
        aria_label="Result pages"))


@app_page
def locator_page() -> rx.Component:
    s = LocatorState
    return rx.vstack(
        page_header("Find a dispensary", "Licensed stores near you, with their live menus."),
        card(rx.vstack(rx.form(rx.hstack(
            rx.input(name="where", id="where", placeholder="City, neighbourhood, ZIP code or address", size="3",
                     flex="1", min_width="14em", aria_label="City, neighbourhood, ZIP code or address",
                     default_value=s.where, key=s.where),
            choice(RADII, "Radius in miles", id="radius", value=s.radius, on_change=s.set_radius,
                   labels={r: f"{r} mi" for r in RADII}),
            rx.button("Search", type="submit", size="3", id="find", loading=s.searching),
            rx.button(rx.icon("locate-fixed", size=16), "Use my location", type="button", variant="soft", size="3",
                      on_click=s.use_location),
            width="100%", align="center", wrap="wrap"), on_submit=s.search, reset_on_submit=False,
            width="100%"), _filters(), width="100%", spacing="3")),
        form_alert(s.error, id="locator-error"),
        rx.cond(~s.searched & (s.error == ""),
                empty_state("map-pinned", "Where are you?", "Enter a city (Seattle, WA), a neighbourhood, a ZIP "
                            "code or an address, or use your location, to see licensed dispensaries on the map.")),
        rx.cond(s.searched, rx.heading(s.heading, size="4", as_="h2", id="locator-count")),
        rx.cond(s.searched & (s.results.length() == 0) & (s.error == ""),
                empty_state("map-pin-off", "No dispensary here", "Try a larger radius or fewer filters.")),
        rx.cond(s.results.length() > 0, rx.el.div(
            rx.el.div(rx.foreach(s.results, _result), _pager(), id="results", class_name="locator-list"),
            rx.el.div(
                dispensary_map(s.results, center=s.origin, zoom=11, height="100%", on_move_end=s.map_moved),
                rx.cond(s.moved_to.length() == 3,
                        rx.button(rx.icon("search", size=14), "Search this area", on_click=s.search_area,
                                  id="search-area", class_name="search-area", size="2")),
                class_name="locator-map"),
            class_name="locator-grid")),
        width="100%", align="start",
    )


def register(app: rx.App) -> None:
    app.add_page(locator_page, route=LOCATOR, title="Find a dispensary | ICC Maps",
                 description="Licensed cannabis dispensaries near you, with live menus and reviews.",
                 on_load=LocatorState.load)

