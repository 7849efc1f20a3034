"""The CQI badge (score and colour band) and the breakdown panel, shared by the marketplace and the lot page."""

from __future__ import annotations

import reflex as rx

from icc_app.ui.components import card


def band(score: float | None) -> str:
    """The colour band of a score: what a buyer reads at a glance."""
    if score is None:
        return "gray"
    return "green" if score >= 80 else "lime" if score >= 65 else "amber" if score >= 50 else "red"


def badge(score: rx.Var, color: rx.Var) -> rx.Component:
    return rx.badge("CQI ", score, color_scheme=color, variant="solid", size="2", class_name="cqi-badge")


def breakdown_panel(total: rx.Var, color: rx.Var, reason: rx.Var, rows: rx.Var, version: rx.Var) -> rx.Component:
    """Each component with its weight, inputs, reason and what would raise it. Not scored says why, never 0."""
    return card(rx.vstack(
        rx.hstack(rx.heading("Cannabis Quality Index", size="4", as_="h2"),
                  rx.cond(total != "", badge(total, color), rx.badge("not scored", color_scheme="gray")),
                  rx.spacer(), rx.cond(version != "", rx.text("config v", version, size="1", color_scheme="gray")),
                  width="100%", align="center"),
        rx.text(reason, size="2", color_scheme="gray", id="cqi-reason"),
        rx.cond(rows.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Component", "Score", "Weight", "Inputs", "Why", "What would raise it")])),
            rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
                rx.table.row_header_cell(r["name"]),
                rx.table.cell(rx.hstack(rx.progress(value=r["score_int"].to(int), max=100, width="4em"),
                                        rx.text(r["score"], size="2"), align="center")),
                rx.table.cell(r["weight"]), rx.table.cell(rx.text(r["inputs"], size="1")),
                rx.table.cell(rx.text(r["reason"], size="1")), rx.table.cell(rx.text(r["improve"], size="1")),
                class_name="cqi-component"))),
            width="100%", size="1")),
        spacing="3", width="100%", align="start", id="cqi-breakdown",
    ))


def rows_for(components: list[dict]) -> list[dict[str, str]]:
    return [{"name": c["name"], "score": f"{c['score']:.0f}", "score_int": str(int(round(c["score"]))),
             "weight": f"{c['weight'] * 100:.0f}%", "inputs": c.get("inputs", ""), "reason": c.get("reason", ""),
             "improve": c.get("improve", "")} for c in components]
