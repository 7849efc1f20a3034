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
        gap="3",
        margin_bottom="1.5em",
    )


def empty_state(icon: str, title: str, body: str, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.box(rx.icon(icon, size=28), padding="0.8em", border_radius="full", background=rx.color("accent", 3),
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
