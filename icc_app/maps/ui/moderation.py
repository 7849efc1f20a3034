"""Review moderation (platform admins): reviews people reported, most reported first; publish or hide each with
a note. Hiding or publishing rebuilds the item's rating and effect profile."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.ui.admin import AdminState
from icc_app.maps import reviews
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, page_header
from icc_app.ui.format import label, plural
from icc_app.maps.models import ReviewStatus
from icc_app.maps.schemas import ModerationItem
from icc_app.ui.layout import app_page


class ReviewModerationState(AdminState):
    queue: list[ModerationItem] = []
    notes: dict[str, str] = {}

    def _refresh(self) -> None:
        principal = self.principal()
        with unit_of_work() as session:
            self.queue = [ModerationItem(id=str(r.id), stars="★" * r.rating, text=r.text or "(no text)",
                                         effects=" · ".join(r.effects), reports=plural(r.reports, "report"),
                                         status=label(r.status), hidden=r.status == ReviewStatus.hidden,
                                         about=label(r.target_type), note=r.moderation_note or "")
                          for r in reviews.moderation_queue(session, principal=principal)]

    @rx.event
    def load(self):
        return self._open()

    @rx.event
    def set_note(self, review_id: str, value: str):
        self.notes = {**self.notes, review_id: value}

    @rx.event
    def decide(self, review_id: str, publish: bool):
        principal, redirect = self._admin()
        if redirect:
            return redirect
        try:
            with unit_of_work() as session:
                reviews.moderate(session, principal=principal, review_id=uuid.UUID(review_id), publish=publish,
                                 note=self.notes.get(review_id, ""))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._refresh()
        return rx.toast.success("Published again." if publish else "Hidden from the public pages.")


def _card(row: rx.Var) -> rx.Component:
    review_id = row.id
    s = ReviewModerationState
    return card(rx.vstack(
        rx.hstack(rx.text(row.stars, color=rx.color("amber", 10)), rx.badge(row.about),
                  rx.badge(row.reports, color_scheme="red"),
                  rx.badge(row.status, color_scheme=rx.cond(row.hidden, "gray", "green")),
                  spacing="2"),
        rx.text(row.text, size="2"), rx.text(row.effects, size="1", color_scheme="gray"),
        rx.cond(row.note != "", rx.text("Note: ", row.note, size="1", color_scheme="gray")),
        rx.input(placeholder="Moderation note", value=s.notes.get(review_id, ""),
                 on_change=lambda v: s.set_note(review_id, v), width="100%", aria_label="Moderation note"),
        rx.hstack(rx.button("Publish", color_scheme="green", on_click=s.decide(review_id, True)),
                  rx.button("Hide", color_scheme="red", variant="soft", on_click=s.decide(review_id, False))),
        spacing="2", width="100%", align="start"), class_name="moderation-item")


@app_page
def moderation_page() -> rx.Component:
    s = ReviewModerationState
    return rx.vstack(
        page_header("Review moderation", "Reviews people reported. Three reports hide a review until you decide."),
        rx.cond(~s.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                rx.cond(s.queue.length() > 0, rx.vstack(rx.foreach(s.queue, _card), width="100%", spacing="3"),
                        empty_state("flag", "Nothing reported", "Reported reviews will wait here."))),
        width="100%", align="start")


def register(app: rx.App) -> None:
    app.add_page(moderation_page, route=routes.ADMIN_REVIEWS, title="Review moderation | ICC",
                 on_load=ReviewModerationState.load)
