"""The public product page, /dispensaries/<state>/<city>/<slug>/<product>: prices, terpene chart, the effect profile
from reviews, where else it is in stock nearby, and the product's reviews."""

from __future__ import annotations

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import NotFound
from icc_app.maps import catalog
from icc_app.maps.schemas import DispensaryProfile, MenuListing, NearbyOffer, PriceOption, money
from icc_app.maps.ui import locator
from icc_app.maps.ui.pages import path_segments, profile
from icc_app.maps.ui.reviews import ReviewsState, effect_chart, effect_rows, review_section
from icc_app.quality.ui.components import band
from icc_app.ui.components import card, empty_state, page_header
from icc_app.ui.layout import app_page


class ProductState(ReviewsState):
    found: bool = False
    loaded: bool = False
    product: MenuListing = MenuListing(id="", name="", category="", category_label="", href="")
    place: DispensaryProfile = DispensaryProfile()
    terpenes: list[dict[str, str | float]] = []
    effect_profile: list[dict[str, str | int]] = []
    variants: list[PriceOption] = []
    nearby: list[NearbyOffer] = []
    page_title: str = "Product | ICC Maps"
    page_description: str = "A product in stock at a licensed dispensary on ICC Maps."

    @rx.event
    def load(self):
        self._apply(self.principal())
        parts = path_segments(self.router.url.path)
        item_id = catalog.product_id_from(parts[4]) if len(parts) >= 5 else None
        self.found = False
        with unit_of_work() as session:
            try:
                listing, dispensary = catalog.product(session, item_id) if item_id else (None, None)
            except NotFound:
                listing = dispensary = None
            if listing is not None and dispensary.slug == parts[3]:
                item = listing.item
                self.found = True
                self.product = catalog.listing_read(listing, dispensary, cqi_band=band)
                self.place = profile(dispensary)
                self.terpenes = [{"name": catalog.terpene_name(t["name"]), "pct": t["pct"]} for t in item.terpenes if t.get("pct")]
                self.effect_profile = effect_rows(listing.summary.effects) if listing.summary else []
                self.variants = [PriceOption(label=v.get("label") or "each", price=money(v["price"]).text())
                                 for v in item.variants if v.get("price") is not None]
                self.nearby = [NearbyOffer(name=other_place.dba or other_place.name, miles=f"{miles:.1f} mi",
                                           price=money(other.price).text() if other.price is not None else "",
                                           href=catalog.product_path(other_place, other))
                               for other, other_place, miles in catalog.elsewhere(session, item, dispensary)]
                self.target_type, self.target_id = "product", str(item.id)
                self._load_reviews(session)
                self.page_title = f"{item.name} at {self.place.name} | ICC Maps"
                self.page_description = f"{item.name}: terpenes, effects and reviews, in stock at {self.place.name}."
        self.loaded = True


def _terpene_chart() -> rx.Component:
    rows = ProductState.terpenes
    return rx.cond(rows.length() > 0, rx.recharts.bar_chart(
        rx.recharts.bar(data_key="pct", name="% by weight", fill=rx.color("amber", 9), radius=4),
        rx.recharts.x_axis(type_="number", unit="%"),
        rx.recharts.y_axis(data_key="name", type_="category", width=130, interval=0), rx.recharts.graphing_tooltip(),
        data=rows, layout="vertical", width="100%", height=260, class_name="terpene-chart"),
        rx.text("No terpene results for this product.", size="2", color_scheme="gray"))


@app_page
def product_page() -> rx.Component:
    s, p = ProductState, ProductState.product
    return rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em"), rx.cond(
        ~s.found, empty_state("package-x", "Product not found", "It may be sold out or off the menu.",
                              rx.link(rx.button("Find a dispensary"), href=locator.LOCATOR)),
        rx.vstack(
            rx.link("← ", s.place.name, href=s.place.href, size="2"),
            page_header(p.name, p.brand),
            rx.hstack(rx.badge(p.category_label), rx.cond(p.strain != "", rx.badge(p.strain, variant="soft")),
                      rx.cond(p.cqi != "", rx.badge("CQI ", p.cqi, color_scheme=p.cqi_color,
                                                       variant="solid", size="2", class_name="cqi-badge")),
                      rx.text(p.thc, size="2"), rx.text(p.cbd, size="2"),
                      rx.cond(p.rating != "", rx.text(p.rating, size="2", color=rx.color("amber", 11))),
                      wrap="wrap", align="center"),
            rx.grid(
                card(rx.vstack(rx.heading("Prices", size="4", as_="h2"),
                               rx.foreach(s.variants, lambda v: rx.hstack(rx.text(v.label), rx.spacer(),
                                                                          rx.text(v.price, weight="bold"),
                                                                          width="100%")),
                               rx.text("At ", s.place.name, ", ", s.place.address, size="2", color_scheme="gray"),
                               align="start", width="100%")),
                card(rx.vstack(rx.heading("Terpenes", size="4", as_="h2"), _terpene_chart(), width="100%")),
                card(rx.vstack(rx.heading("Effects reported", size="4", as_="h2"), effect_chart(s.effect_profile),
                               width="100%")),
                card(rx.vstack(rx.heading("In stock nearby", size="4", as_="h2"), rx.cond(
                    s.nearby.length() > 0,
                    rx.vstack(rx.foreach(s.nearby, lambda n: rx.link(rx.hstack(
                        rx.text(n.name), rx.spacer(), rx.text(n.price, size="2"),
                        rx.badge(n.miles, variant="outline"), width="100%"), href=n.href,
                        class_name="nearby", width="100%")), width="100%"),
                    rx.text("No other store within 25 miles lists it.", size="2", color_scheme="gray")),
                    width="100%", align="start")),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
            review_section(s, "product"),
            width="100%", align="start", spacing="4",
        ),
    ))
