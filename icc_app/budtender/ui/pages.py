"""Pages of budtender.

- /find-my-product: the quiz (feelings wanted and avoided, experience, format, budget, place and radius), then
  in-stock products near the consumer as a list with reasons and a map of their stores; save favourites; refine
  by changing an answer and searching again. Anonymous visitors get results too; signed-in consumers' answers,
  favourites and recent searches are kept.
- /find-my-product/saved: the consumer's favourites and recent searches (their account's budtender history).
"""

from __future__ import annotations

import reflex as rx

from icc_app.budtender.effects import AVOIDABLE, FEELINGS
from icc_app.budtender.ranking import EXPERIENCES
from icc_app.budtender.schemas import FORMATS
from icc_app.budtender.ui.state import RADII, FindState
from icc_app.maps.ui.controls import choice
from icc_app.maps.ui.map import dispensary_map
from icc_app.ui.components import card, empty_state, form_alert, page_header
from icc_app.ui.layout import app_page

FIND_MY_PRODUCT = "/find-my-product"
SAVED = "/find-my-product/saved"


def _chips(title: str, options: dict[str, str], selected, on_change, prefix: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(title, style={"font-weight": "600", "font-size": "14px", "margin-bottom": "6px"}),
        rx.flex(*[rx.checkbox(word, checked=selected.contains(key), class_name=f"{prefix}-{key}",
                              on_change=lambda checked, key=key: on_change(key, checked))
                  for key, word in options.items()], wrap="wrap", spacing="3"),
        style={"border": "0", "padding": "0", "margin": "0"})


def _quiz() -> rx.Component:
    s = FindState
    return card(rx.form(rx.vstack(
        _chips("How do you want to feel?", FEELINGS, s.wanted, s.toggle_wanted, "want"),
        _chips("Anything to avoid?", AVOIDABLE, s.avoided, s.toggle_avoided, "avoid"),
        _chips("Formats", FORMATS, s.formats, s.toggle_format, "format"),
        rx.flex(
            rx.vstack(rx.el.label("Experience", html_for="experience", style={"font-size": "14px"}),
                      choice(list(EXPERIENCES), "Experience", labels=EXPERIENCES, id="experience",
                             value=s.experience, on_change=s.set_experience), spacing="1"),
            rx.vstack(rx.el.label("Budget per item ($)", html_for="budget", style={"font-size": "14px"}),
                      rx.input(name="budget", id="budget", placeholder="No limit", default_value=s.budget,
                               key=s.budget, input_mode="decimal", width="9em"), spacing="1"),
            rx.vstack(rx.el.label("Near", html_for="place", style={"font-size": "14px"}),
                      rx.input(name="place", id="place", placeholder="City, ZIP code or address",
                               default_value=s.place, key=s.place, min_width="14em"), spacing="1", flex="1"),
            rx.vstack(rx.el.label("Within", html_for="radius", style={"font-size": "14px"}),
                      choice(RADII, "Radius in miles", labels={r: f"{r} mi" for r in RADII}, id="radius",
                             value=s.radius, on_change=s.set_radius), spacing="1"),
            spacing="4", wrap="wrap", align="end", width="100%"),
        rx.button(rx.icon("sparkles", size=16), rx.cond(s.searched, "Refine my picks", "Find my product"),
                  type="submit", size="3", id="find-my-product", loading=s.searching, disabled=s.searching),
        spacing="4", width="100%", align="start"), on_submit=s.find, reset_on_submit=False, width="100%"))


def _result(r: rx.Var) -> rx.Component:
    s = FindState
    return rx.el.article(
        rx.vstack(
            rx.hstack(
                rx.link(r.name, href=r.href, weight="bold", size="3", on_click=s.opened(r.menu_item_id)),
                rx.spacer(),
                rx.cond(r.price_text != "", rx.text(r.price_text, weight="bold", size="3")),
                width="100%", align="start"),
            rx.text(rx.cond(r.strain != "", r.strain + " · ", ""), r.category_label,
                    rx.cond(r.thc != "", " · " + r.thc, ""), size="2", color_scheme="gray"),
            rx.hstack(rx.icon("store", size=14, aria_hidden="true"),
                      rx.text(r.dispensary_name, rx.cond(r.distance_text != "", " · " + r.distance_text, ""),
                              size="2"), spacing="1", align="center"),
            rx.cond(r.cqi_badge != "", rx.badge(r.cqi_badge, color_scheme="green", variant="soft")),
            rx.el.ul(rx.foreach(r.reasons, lambda why: rx.el.li(why)), class_name="ivb-reasons",
                     style={"margin": "0", "padding-left": "1.1em", "font-size": "14px"}),
            rx.cond(s.signed_in,
                    rx.cond(r.favourite,
                            rx.button(rx.icon("heart", size=14), "Saved", variant="soft", size="2",
                                      on_click=s.remove_favourite(r.menu_item_id),
                                      custom_attrs={"aria-label": "Remove " + r.name + " from favourites"}),
                            rx.button(rx.icon("heart", size=14), "Save", variant="outline", size="2",
                                      loading=s.saving == r.menu_item_id, disabled=s.saving != "",
                                      on_click=s.save_favourite(r.menu_item_id),
                                      custom_attrs={"aria-label": "Save " + r.name + " to favourites"})),
                    rx.link("Sign in to save favourites", href="/login?next=/find-my-product", size="2")),
            spacing="2", align="start", width="100%"),
        class_name="ivb-result", width="100%",
        style={"border": f"1px solid {rx.color('gray', 5)}", "border-radius": "10px", "padding": "14px"})


def _results() -> rx.Component:
    s = FindState
    return rx.fragment(
        rx.cond(s.searched & (s.results.length() > 0), rx.heading(s.heading, size="4", as_="h2", id="ivb-count")),
        rx.cond(s.searched & (s.results.length() == 0) & (s.error == ""),
                empty_state("package-search", "Nothing in stock matches yet",
                            "Try a larger radius, another format, a higher budget or fewer feelings to avoid.")),
        rx.cond(s.results.length() > 0, rx.grid(
            rx.vstack(rx.foreach(s.results, _result), spacing="3", width="100%", id="ivb-results"),
            rx.box(dispensary_map(s.markers, zoom=11, height="480px", note="every store is in the list."),
                   width="100%", position=["static", "static", "sticky"], top="1em"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")),
    )


@app_page
def find_my_product_page() -> rx.Component:
    s = FindState
    return rx.vstack(
        page_header("Find My Product", "Tell us how you want to feel; we find what is in stock near you, and why.",
                    rx.cond(s.signed_in, rx.link(rx.button("My favourites and searches", variant="soft"),
                                                 href=SAVED))),
        _quiz(),
        form_alert(s.error, id="ivb-error"),
        rx.cond(~s.searched & (s.error == ""),
                empty_state("sparkles", "Your budtender is ready",
                            "Choose a feeling or two, where you are, and press Find my product.")),
        _results(),
        width="100%", align="start", spacing="4")


def _favourite(f: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(f.href != "", rx.link(f.name, href=f.href), rx.text(f.name)),
        rx.cond(f.in_stock, rx.badge("In stock", color_scheme="green"), rx.badge("Not in stock", color_scheme="gray")),
        rx.spacer(),
        rx.button("Remove", variant="ghost", size="1", on_click=FindState.remove_favourite(f.menu_item_id),
                  custom_attrs={"aria-label": "Remove " + f.name}),
        width="100%", align="center", class_name="ivb-favourite")


def _run(run: rx.Var) -> rx.Component:
    return rx.vstack(rx.text(run.summary, weight="bold", size="2"),
                     rx.text(run.when, " · ", run.results.join(", "), size="2", color_scheme="gray"),
                     spacing="0", align="start", class_name="ivb-run")


@app_page
def saved_page() -> rx.Component:
    s = FindState
    return rx.vstack(
        page_header("My budtender", "Your favourites and recent Find My Product searches.",
                    rx.link(rx.button("Find my product"), href=FIND_MY_PRODUCT)),
        rx.cond(~s.signed_in, empty_state("log-in", "Sign in to see your favourites",
                                          "Favourites and searches are kept on your account.",
                                          rx.link(rx.button("Sign in"), href="/login?next=/find-my-product/saved"))),
        rx.cond(s.signed_in, rx.vstack(
            card(rx.vstack(rx.heading("Favourites", size="4", as_="h2"),
                           rx.cond(s.favourites.length() > 0, rx.vstack(rx.foreach(s.favourites, _favourite),
                                                                       width="100%", id="ivb-favourites"),
                                   rx.text("No favourites yet: save a product from your picks.", color_scheme="gray")),
                           width="100%", align="start")),
            card(rx.vstack(rx.heading("Recent searches", size="4", as_="h2"),
                           rx.cond(s.history.length() > 0, rx.vstack(rx.foreach(s.history, _run), width="100%",
                                                                     spacing="3", id="ivb-history"),
                                   rx.text("No searches yet.", color_scheme="gray")),
                           width="100%", align="start")),
            width="100%", spacing="4")),
        width="100%", align="start", spacing="4")


def register(app: rx.App) -> None:
    """Adds this product's pages to the app."""
    app.add_page(find_my_product_page, route=FIND_MY_PRODUCT, title="Find My Product | ICC Maps",
                 description="Products in stock near you for how you want to feel, with the reasons.",
                 on_load=FindState.load)
    app.add_page(saved_page, route=SAVED, title="My budtender | ICC Maps", on_load=FindState.load)
