"""Controls of the Maps pages: a select that shows words for stored values ("Pre-roll" for pre_roll) and is named
for screen readers on its trigger (Radix's high-level select would put the name on a root that renders nothing)."""

from __future__ import annotations

import reflex as rx

from icc_app.ui.format import label as words


def choice(values: list[str], name: str, *, labels: dict[str, str] | None = None, id: str = "", **props
           ) -> rx.Component:
    """A select of `values`, each shown as its label (given, or the value in words), named `name`."""
    labels = labels or {}
    trigger_props = {"custom_attrs": {"aria-label": name}}
    if id:
        trigger_props["id"] = id
    return rx.select.root(
        rx.select.trigger(**trigger_props),
        rx.select.content(*[rx.select.item(labels.get(v) or ("Any" if v in ("any", "all") else words(v)), value=v)
                            for v in values]),
        **props)
