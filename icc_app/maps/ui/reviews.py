"""Reviews on the public pages (a dispensary or a product): the list with effect tags, replies and a verified
purchase badge, the consumer's own review form, and reporting abuse. Shared by the dispensary and product pages."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps import reviews
from icc_app.maps.schemas import OwnReview, ReviewRead
from icc_app.maps.ui.controls import choice
from icc_app.ui.components import card, form_alert
from icc_app.ui.format import plural
from icc_app.ui.state import SessionState, toggled

RATING_LABELS = {"5": "5 stars", "4": "4 stars", "3": "3 stars", "2": "2 stars", "1": "1 star"}


def review_rows(session, target_type: str, target_id: uuid.UUID, *, me: uuid.UUID | None = None
                ) -> list[ReviewRead]:
    return [ReviewRead(id=str(r.id), author=author, rating=r.rating, stars="★" * r.rating + "☆" * (5 - r.rating),
                       effects=" · ".join(r.effects), text=r.text, reply=r.reply or "", verified=r.verified_purchase,
                       date=f"{r.updated_at:%b %d, %Y}", mine=me is not None and r.author_id == me)
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
    review_list: list[ReviewRead] = []
    own_review: OwnReview | None = None  # the signed-in consumer's review of this item
    editing: bool = False  # the form is open on the consumer's own review
    rating: str = "5"
    effects: list[str] = []
    draft_text: str = ""  # the form's text: the own review's when editing (pre-filled)
    review_error: str = ""
    report_error: str = ""
    busy: bool = False  # a review is being written: the button is disabled and a second submit is ignored

    def _load_reviews(self, session) -> None:
        principal = self.principal()
        me = principal.user_id if principal else None
        target = uuid.UUID(self.target_id)
        self.review_list = review_rows(session, self.target_type, target, me=me)
        self.own_review = reviews.own(session, principal=principal, target_type=self.target_type, target_id=target)
        self.editing, self.review_error = False, ""
        self._fill_form()

    def _fill_form(self) -> None:
        own = self.own_review
        self.rating = str(own.rating) if own else "5"
        self.effects = list(own.effects) if own else []
        self.draft_text = own.text if own else ""

    @rx.var
    def review_count_line(self) -> str:
        return plural(len(self.review_list), "review")

    @rx.var
    def listed_reviews(self) -> list[ReviewRead]:
        """The list under the form: the consumer's own review is left out when it has its "Your review" card."""
        if self.own_review is None:
            return self.review_list
        return [r for r in self.review_list if not r.mine]

    @rx.event
    def start_edit(self):
        self._fill_form()
        self.editing, self.review_error = True, ""

    @rx.event
    def cancel_edit(self):
        self._fill_form()
        self.editing, self.review_error = False, ""

    @rx.event
    def set_draft_text(self, value: str):
        self.draft_text = value

    @rx.event
    def set_rating(self, value: str):
        self.rating = value

    @rx.event
    def toggle_effect(self, effect: str, checked: bool):
        self.effects = toggled(self.effects, effect, checked)

    @rx.event
    def write_review(self, form: dict):
        if self.busy or (self.own_review is not None and not self.editing):
            return  # a double click: the first submit writes; the second finds it running, or its form gone
        principal = self.principal()
        if principal is None:
            yield rx.redirect(f"/login?next={self.router.url.path}")
            return
        self.review_error, self.busy = "", True
        yield
        edited = self.own_review is not None
        try:
            with unit_of_work() as session:
                reviews.write(session, principal=principal, target_type=self.target_type,
                              target_id=uuid.UUID(self.target_id), rating=int(self.rating), effects=self.effects,
                              text=form.get("text", self.draft_text))
        except DomainError as exc:
            self.review_error = exc.message  # the form keeps what was typed
            return
        finally:
            self.busy = False
        with unit_of_work() as session:
            self._load_reviews(session)
        yield rx.toast.success("Your review is updated." if edited else "Thanks: your review is published.")

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
            rx.el.input(type="hidden", name="review_id", value=review.id),
            rx.text_area(name="reason", placeholder="What is wrong with this review?", aria_label="Reason",
                         width="16em"),
            rx.popover.close(rx.button("Send report", size="1", type="submit")), spacing="2"),
            on_submit=state.report_review)),
    )


def _review_form(state: type[ReviewsState], what: str) -> rx.Component:
    """The consumer's review form: empty for a first review, pre-filled with their review when they edit it."""
    return card(rx.form(rx.vstack(
        rx.text(rx.cond(state.editing, "Edit your review", f"Review this {what}"), weight="bold", as_="p"),
        rx.hstack(rx.el.label("Your rating", html_for="review-rating", style={"font-size": "14px",
                                                                              "font-weight": 500}),
                  choice(["5", "4", "3", "2", "1"], "Your rating", labels=RATING_LABELS, id="review-rating",
                         value=state.rating, on_change=state.set_rating), align="center"),
        rx.el.fieldset(
            rx.el.legend("Effects you felt", style={"font-size": "14px", "font-weight": 500, "margin-bottom": "6px"}),
            rx.flex(*[rx.checkbox(effect, checked=state.effects.contains(effect),
                                  color_scheme="tomato" if effect in reviews.NEGATIVE else None,
                                  on_change=lambda checked, effect=effect: state.toggle_effect(effect, checked))
                      for effect in reviews.EFFECTS], wrap="wrap", spacing="3"),
            style={"border": "none", "padding": 0, "margin": 0}),
        rx.text_area(name="text", placeholder="What was it like? (optional)", width="100%", id="review-text",
                     aria_label="Your review", value=state.draft_text, on_change=state.set_draft_text),
        form_alert(state.review_error, id="review-error"),
        rx.hstack(rx.button(rx.cond(state.editing, "Save changes", "Publish review"), type="submit",
                            id="publish-review", loading=state.busy, disabled=state.busy),
                  rx.cond(state.editing, rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                   on_click=state.cancel_edit, id="cancel-edit"))),
        spacing="3", align="start", width="100%"), on_submit=state.write_review, reset_on_submit=False),
        id="review-form")


def _own_review(state: type[ReviewsState]) -> rx.Component:
    own = state.own_review
    return card(rx.vstack(
        rx.hstack(rx.heading("Your review", size="3", as_="h3"), rx.spacer(),
                  rx.button(rx.icon("pencil", size=14), "Edit", size="1", variant="soft", on_click=state.start_edit,
                            id="edit-review", type="button"), width="100%", align="center"),
        rx.hstack(rx.text(own.stars, color=rx.color("amber", 10), aria_label=own.rating.to_string() + " out of 5 stars"),
                  rx.text(own.date, size="1", color_scheme="gray"),
                  rx.cond(own.status != "Published", rx.badge(own.status, color_scheme="gray")), align="center"),
        rx.cond(own.effects_line != "", rx.text(own.effects_line, size="1", color_scheme="gray")),
        rx.cond(own.text != "", rx.text(own.text, size="2", id="own-review-text")),
        spacing="1", align="start", width="100%"), id="own-review")


def review_section(state: type[ReviewsState], what: str) -> rx.Component:
    return rx.vstack(
        rx.heading("Reviews", size="5", as_="h2", id="reviews"),
        rx.cond(state.is_consumer,
                rx.cond(state.own_review & ~state.editing, _own_review(state), _review_form(state, what)),
                rx.text(rx.link("Sign in", href="/login?next=" + state.router.page.raw_path), " with a consumer "
                        "account (21+) to write a review.", size="2")),
        rx.cond(state.listed_reviews.length() > 0,
                rx.vstack(rx.foreach(state.listed_reviews, lambda r: card(rx.vstack(
                    rx.hstack(rx.text(r.stars, color=rx.color("amber", 10), aria_label=r.rating.to_string() +
                                      " out of 5 stars"),
                              rx.text("@" + r.author, size="2", weight="medium"),
                              rx.cond(r.mine, rx.badge("you", variant="soft")),
                              rx.cond(r.verified, rx.badge("verified purchase", color_scheme="green")),
                              rx.text(r.date, size="1", color_scheme="gray"), rx.spacer(),
                              rx.cond(state.signed_in & ~r.mine, _report(state, r)), width="100%", align="center",
                              wrap="wrap"),
                    rx.cond(r.effects != "", rx.text(r.effects, size="1", color_scheme="gray")),
                    rx.cond(r.text != "", rx.text(r.text, size="2")),
                    rx.cond(r.reply != "", rx.callout(r.reply, icon="store", size="1", color_scheme="green",
                                                      class_name="review-reply")),
                    spacing="1", align="start", width="100%"), class_name="review")), width="100%", spacing="2"),
                rx.text(rx.cond(state.own_review, "No other reviews yet.", "No reviews yet."), size="2",
                        color_scheme="gray")),
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
