"""Reviews on the public pages (a dispensary or a product): the list with effect tags, replies and a verified
purchase badge, the consumer's own review form, and reporting abuse. Shared by the dispensary and product pages."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps import reviews
from icc_app.ui.components import aria_select, card, form_alert
from icc_app.ui.state import SessionState, toggled


def review_rows(session, target_type: str, target_id: uuid.UUID) -> list[dict[str, str]]:
    return [{"id": str(r.id), "author": author, "stars": "★" * r.rating + "☆" * (5 - r.rating),
             "effects": " · ".join(r.effects), "text": r.text, "reply": r.reply or "",
             "verified": "yes" if r.verified_purchase else "", "date": f"{r.updated_at:%b %d, %Y}"}
            for r, author in reviews.published(session, target_type=target_type, target_id=target_id)]


def effect_rows(effects: dict) -> list[dict[str, str | int]]:
    """An effect profile for the bar chart: the share of reviews naming each effect, most named first."""
    return [{"effect": tag, "share": int(round(share * 100)),
             "kind": "negative" if tag in reviews.NEGATIVE else "positive"}
            for tag, share in sorted(effects.items(), key=lambda kv: -kv[1])]


class ReviewsState(SessionState):
    """The reviewed thing (a product or a dispensary) and its reviews; pages subclass it and set the target."""

    target_type: str = ""
    target_id: str = ""
    review_list: list[dict[str, str]] = []
    rating: str = "5"
    effects: list[str] = []
    review_error: str = ""
    report_error: str = ""

    def _load_reviews(self, session) -> None:
        self.review_list = review_rows(session, self.target_type, uuid.UUID(self.target_id))

    @rx.event
    def set_rating(self, value: str):
        self.rating = value

    @rx.event
    def toggle_effect(self, effect: str, checked: bool):
        self.effects = toggled(self.effects, effect, checked)

    @rx.event
    def write_review(self, form: dict):
        principal = self.principal()
        if principal is None:
            return rx.redirect(f"/login?next={self.router.url.path}")
        self.review_error = ""
        try:
            with unit_of_work() as session:
                reviews.write(session, principal=principal, target_type=self.target_type,
                              target_id=uuid.UUID(self.target_id), rating=int(self.rating), effects=self.effects,
                              text=form.get("text", ""))
                self._load_reviews(session)
        except DomainError as exc:
            self.review_error = exc.message
            return
        return rx.toast.success("Thanks: your review is published.")

    @rx.event
    def report_review(self, form: dict):
        principal = self.principal()
        if principal is None:
            return rx.redirect(f"/login?next={self.router.url.path}")
        self.report_error = ""
        try:
            with unit_of_work() as session:
                reviews.report(session, principal=principal, review_id=uuid.UUID(form.get("review_id", "")),
                               reason=form.get("reason", ""))
                self._load_reviews(session)
        except (DomainError, ValueError) as exc:
            self.report_error = getattr(exc, "message", "That review cannot be reported.")
            return rx.toast.error(self.report_error)
        return rx.toast.success("Thanks: a moderator will look at it.")


def _report(state: type[ReviewsState], review: rx.Var) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.button("Report", size="1", variant="ghost", color_scheme="gray", type="button")),
        rx.popover.content(rx.form(rx.vstack(
            rx.el.input(type="hidden", name="review_id", value=review["id"]),
            rx.text_area(name="reason", placeholder="What is wrong with this review?", aria_label="Reason",
                         width="16em"),
            rx.popover.close(rx.button("Send report", size="1", type="submit")), spacing="2"),
            on_submit=state.report_review)),
    )


def review_section(state: type[ReviewsState], what: str) -> rx.Component:
    return rx.vstack(
        rx.heading("Reviews", size="5", as_="h2"),
        rx.cond(state.is_consumer, card(rx.form(rx.vstack(
            rx.text(f"Review this {what}", weight="bold"),
            rx.hstack(rx.text("Your rating", size="2", weight="medium"),
                      aria_select(["5", "4", "3", "2", "1"], "Rating", value=state.rating, on_change=state.set_rating),
                      rx.text("stars", size="2"), align="center"),
            rx.text("Effects you felt", size="2", weight="medium"),
            rx.flex(*[rx.checkbox(effect, checked=state.effects.contains(effect),
                                  color_scheme="tomato" if effect in reviews.NEGATIVE else None,
                                  on_change=lambda checked, effect=effect: state.toggle_effect(effect, checked))
                      for effect in reviews.EFFECTS], wrap="wrap", spacing="3"),
            rx.text_area(name="text", placeholder="What was it like? (optional)", width="100%", id="review-text",
                         aria_label="Your review"),
            form_alert(state.review_error, id="review-error"),
            rx.button("Publish review", type="submit", id="publish-review"),
            spacing="3", align="start", width="100%"), on_submit=state.write_review, reset_on_submit=False)),
            rx.text(rx.link("Sign in", href="/login?next=" + state.router.page.raw_path), " with a consumer account "
                    "(21+) to write a review.", size="2")),
        rx.cond(state.review_list.length() > 0,
                rx.vstack(rx.foreach(state.review_list, lambda r: card(rx.vstack(
                    rx.hstack(rx.text(r["stars"], color=rx.color("amber", 10), aria_label="rating"),
                              rx.text("@" + r["author"], size="2", weight="medium"),
                              rx.cond(r["verified"] != "", rx.badge("verified purchase", color_scheme="green")),
                              rx.text(r["date"], size="1", color_scheme="gray"), rx.spacer(),
                              rx.cond(state.signed_in, _report(state, r)), width="100%", align="center"),
                    rx.cond(r["effects"] != "", rx.text(r["effects"], size="1", color_scheme="gray")),
                    rx.cond(r["text"] != "", rx.text(r["text"], size="2")),
                    rx.cond(r["reply"] != "", rx.callout(r["reply"], icon="store", size="1", color_scheme="green",
                                                         class_name="review-reply")),
                    spacing="1", align="start", width="100%"), class_name="review")), width="100%", spacing="2"),
                rx.text("No reviews yet.", size="2", color_scheme="gray")),
        width="100%", align="start", spacing="3",
    )


def effect_chart(rows: rx.Var, empty: str = "No effects reported yet.") -> rx.Component:
    return rx.cond(rows.length() > 0, rx.recharts.bar_chart(
        rx.recharts.bar(data_key="share", name="% of reviews", fill=rx.color("grass", 9), radius=4),
        rx.recharts.x_axis(type_="number", domain=[0, 100], unit="%"),
        rx.recharts.y_axis(data_key="effect", type_="category", width=90, interval=0),
        rx.recharts.graphing_tooltip(),
        data=rows, layout="vertical", width="100%", height=rx.cond(rows.length() > 6, 320, 200),
        class_name="effect-chart"), rx.text(empty, size="2", color_scheme="gray"))
