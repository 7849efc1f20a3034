"""Design-system pieces shared by every product's pages."""

from __future__ import annotations

import reflex as rx


def page_header(title: str, subtitle: str | rx.Var = "", *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", as_="h1"),
            rx.text(subtitle, color_scheme="gray", size="3"),
            spacing="1",
            align="start",
        ),
        rx.spacer(),
        rx.hstack(*actions, spacing="2"),
        width="100%",
        align="center",
        wrap="wrap",
        spacing="3",
        margin_bottom="1.5em",
    )


def empty_state(icon: str, title: str, body: str, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.box(rx.icon(icon, size=28), padding="0.8em", border_radius="9999px", background=rx.color("accent", 3),
                   color=rx.color("accent", 11)),
            rx.heading(title, size="4", as_="h2"),
            rx.text(body, color_scheme="gray", align="center", max_width="32em"),
            rx.hstack(*actions, spacing="2"),
            align="center",
            spacing="3",
        ),
        padding_y="3em",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        class_name="empty-state",
    )


def card(*children: rx.Component, **props) -> rx.Component:
    return rx.card(*children, size="3", width="100%", **props)


def stat(label: str, value: rx.Var | str, icon: str, hint: rx.Var | str = "") -> rx.Component:
    return card(
        rx.hstack(
            rx.box(rx.icon(icon, size=20), padding="0.6em", border_radius="8px", background=rx.color("accent", 3),
                   color=rx.color("accent", 11)),
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.text(value, size="6", weight="bold"),
                rx.text(hint, size="1", color_scheme="gray"),
                spacing="0",
                align="start",
            ),
            spacing="3",
            align="center",
        )
    )


def status_badge(ok: rx.Var, ok_text: str = "OK", bad_text: str = "Down") -> rx.Component:
    return rx.cond(ok, rx.badge(ok_text, color_scheme="green"), rx.badge(bad_text, color_scheme="red"))


def field_error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def loading_button(label: str, loading: rx.Var, **props) -> rx.Component:
    return rx.button(rx.cond(loading, rx.spinner(size="2"), rx.fragment()), label, loading=loading, **props)


def field_label(label: str | rx.Var, target_id: str) -> rx.Component:
    """A visible label tied to its control (`for` = the control's id). Radix Text would turn an `html_for` prop
    into CSS, leaving the input nameless, so the attribute goes through custom_attrs."""
    return rx.text(label, as_="label", size="2", weight="medium", custom_attrs={"htmlFor": target_id})


def labelled_input(label: str, name: str, error: rx.Var | str = "", hint: str = "", **props) -> rx.Component:
    """An accessible form field: label bound to the input, inline error announced to screen readers."""
    error_var = error if isinstance(error, rx.Var) else rx.Var.create(error)
    return rx.vstack(
        field_label(label, name),
        rx.input(id=name, name=name, size="3", width="100%", aria_invalid=rx.cond(error_var != "", "true", "false"),
                 aria_describedby=f"{name}-error", **props),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")) if hint else rx.fragment(),
        rx.box(field_error(error_var), id=f"{name}-error"),
        spacing="1",
        width="100%",
        align="start",
    )


def labelled_select(label: str, name: str, items: list[str] | rx.Var, error: rx.Var | str = "", **props) -> rx.Component:
    error_var = error if isinstance(error, rx.Var) else rx.Var.create(error)
    return rx.vstack(
        field_label(label, name),
        rx.select(items, id=name, name=name, size="3", width="100%", **props),
        rx.box(field_error(error_var), id=f"{name}-error"),
        spacing="1",
        width="100%",
        align="start",
    )


def form_alert(message: rx.Var, *, color: str = "red", icon: str = "triangle-alert", id: str = "") -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon=icon, color_scheme=color, role="alert", width="100%",
                                             **({"id": id} if id else {})))


def centered_card(*children: rx.Component, max_width: str = "28em") -> rx.Component:
    """The layout of the sign-in, sign-up and other account pages."""
    from icc_app.ui.layout import brand, theme_toggle

    return rx.center(
        rx.vstack(
            rx.hstack(brand(), rx.spacer(), theme_toggle(), width="100%"),
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="4", width="100%"),
            spacing="4",
            width="100%",
            max_width=max_width,
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )


VERIFICATION_COLORS = {"verified": "green", "needs_review": "amber", "pending": "gray", "rejected": "red"}


def verification_badge(state: rx.Var) -> rx.Component:
    return rx.match(
        state,
        ("verified", rx.badge(rx.icon("badge-check", size=14), "Verified", color_scheme="green", high_contrast=True)),
        ("needs_review", rx.badge(rx.icon("clock", size=14), "In review", color_scheme="amber", high_contrast=True)),
        ("rejected", rx.badge(rx.icon("circle-x", size=14), "Rejected", color_scheme="red", high_contrast=True)),
        rx.badge("Pending", color_scheme="gray", high_contrast=True),
    )


def aria_select(items: list[str] | rx.Var, label: str, **props) -> rx.Component:
    """A select without a visible label, named for screen readers (and tests): Radix's high-level select would put
    `aria_label` on its root, which renders nothing, so the name goes on the trigger."""
    return rx.select(items, custom_attrs={"aria-label": label}, **props)


def link_button(*children: rx.Component | str, href: str | rx.Var, **props) -> rx.Component:
    """A link that looks like a button: one interactive element (a button inside a link is two, which screen
    readers announce twice and axe reports as nested-interactive)."""
    link_props = {k: props.pop(k) for k in ("id", "aria_label") if k in props}
    # A plain anchor, not rx.link: Radix Link's own text colour would win over the button's.
    return rx.button(rx.el.a(*children, href=href, **link_props), as_child=True, **props)
