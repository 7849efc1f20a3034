"""The CQI badge (score and colour band) and the breakdown panel, shared by the marketplace and the lot page."""

from __future__ import annotations

import reflex as rx

from icc_app.quality.schemas import band  # noqa: F401 - re-exported for the pages that colour scores
from icc_app.ui.components import card


def badge(score: rx.Var, color: rx.Var) -> rx.Component:
    return rx.badge("CQI ", score, color_scheme=color, variant="solid", size="2", class_name="cqi-badge")


def score_bar(percent: rx.Var, label: rx.Var) -> rx.Component:
    """A 0..100 bar drawn as a plain box: its width is the score (the same in light and dark mode), and it is a
    progress bar to screen readers. (Radix Progress wants a number and reads a text value as indeterminate.)"""
    return rx.box(
        rx.box(width=percent.to(str) + "%", height="100%", background=rx.color("accent", 9), border_radius="4px",
               class_name="cqi-bar-fill"),
        role="progressbar", aria_valuemin=0, aria_valuemax=100, aria_valuenow=percent, aria_label=label,
        width="4em", height="0.5em", background=rx.color("gray", 4), border_radius="4px", overflow="hidden",
        flex_shrink="0", class_name="cqi-bar",
    )


def breakdown_panel(score: rx.Var) -> rx.Component:
    """Each component with its weight, inputs, reason and what would raise it. Not scored says why, never 0.
    `score` is a quality.schemas.ScoreRead."""
    return card(rx.vstack(
        rx.hstack(rx.heading("Cannabis Quality Index", size="4", as_="h2"),
                  rx.cond(score.total != "", badge(score.total, score.color),
                          rx.badge("not scored", color_scheme="gray")),
                  rx.spacer(), rx.cond(score.version != "", rx.text("config v", score.version, size="1",
                                                                    color_scheme="gray")),
                  width="100%", align="center"),
        rx.text(score.reason, size="2", color_scheme="gray", id="cqi-reason"),
        rx.cond(score.components.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Component", "Score", "Weight", "Inputs", "Why", "What would raise it")])),
            rx.table.body(rx.foreach(score.components, lambda r: rx.table.row(
                rx.table.row_header_cell(r.name),
                rx.table.cell(rx.hstack(score_bar(r.percent, r.name + " score " + r.score + " of 100"),
                                        rx.text(r.score, size="2"), align="center")),
                rx.table.cell(r.weight), rx.table.cell(rx.text(r.inputs, size="1")),
                rx.table.cell(rx.text(r.reason, size="1")), rx.table.cell(rx.text(r.improve, size="1")),
                class_name="cqi-component"))),
            width="100%", size="1")),
        spacing="3", width="100%", align="start", id="cqi-breakdown",
    ))
