"""Nightly retraining with a promotion gate: the feedback loop's other half.

`retrain` gathers every positive interaction (consumers' favourites, purchases, add-to-carts, product reviews of
4 stars or more, widget purchases by hashed customer, and optionally the public Leafly reviews as a warm start),
evaluates a new model offline with leave-last-out, evaluates the model serving now on the very same split, and
promotes the new one only if it does at least as well (hit rate, and coverage not collapsing). Status changes go
through `transition`, which writes a ModelEvent row."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.budtender.models import (Favourite, Feedback, FeedbackKind, ModelEvent, ModelStatus, TrainedModel,
                                      WidgetEvent)
from icc_app.budtender.recommender import Event, HybridModel, OfflineMetrics, evaluate, leave_last_out
from icc_app.budtender.reference import review_events, strain_key
from icc_app.core.audit import record
from icc_app.core.errors import Conflict
from icc_app.core.models import utcnow
from icc_app.maps.models import MenuItem, Review

COVERAGE_SLACK = 0.9  # a new model may not cover less than 90% of what the serving model covers
MIN_EVAL_USERS = 1
ALLOWED = {  # (from, to) status changes
    (ModelStatus.candidate, ModelStatus.promoted), (ModelStatus.candidate, ModelStatus.rejected),
    (ModelStatus.promoted, ModelStatus.retired),
}
_cache: dict[str, tuple[object, HybridModel]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Serving:
    version: int
    model: HybridModel


def _order(moment) -> int:
    return int(moment.timestamp() * 1_000_000)


def interactions(session: Session, *, reference_reviews: Path | None = None) -> tuple[list[Event], dict]:
    """Positive interactions from the database (and the reference reviews when given), with counts by source."""
    events: list[Event] = []
    counts = {}
    liked = [k.value for k in (FeedbackKind.purchase, FeedbackKind.add_to_cart, FeedbackKind.favourite,
                               FeedbackKind.review)]
    rows = session.exec(select(Feedback.user_id, Feedback.strain_key, Feedback.created_at)
                        .where(col(Feedback.kind).in_(liked), Feedback.strain_key != ""))
    found = [Event(f"u:{u}", k, _order(t)) for u, k, t in rows]
    found += [Event(f"u:{u}", k, _order(t)) for u, k, t in session.exec(
        select(Favourite.user_id, Favourite.strain_key, Favourite.created_at).where(Favourite.strain_key != ""))]
    counts["consumers"] = len(found)
    events += found
    reviewed = session.exec(select(Review.author_id, MenuItem.strain_name, Review.created_at)
                            .join(MenuItem, col(MenuItem.id) == Review.target_id)
                            .where(Review.target_type == "product", Review.rating >= 4,
                                   col(MenuItem.strain_name).is_not(None)))
    found = [Event(f"u:{u}", strain_key(n), _order(t)) for u, n, t in reviewed if strain_key(n)]
    counts["reviews"] = len(found)
    events += found
    widget = session.exec(select(WidgetEvent.business_id, WidgetEvent.customer_ref, WidgetEvent.strain_key,
                                 WidgetEvent.created_at)
                          .where(col(WidgetEvent.kind).in_([FeedbackKind.purchase.value, FeedbackKind.add_to_cart.value]),
                                 col(WidgetEvent.customer_ref).is_not(None), WidgetEvent.strain_key != ""))
    found = [Event(f"c:{b}:{ref}", k, _order(t)) for b, ref, k, t in widget]
    counts["widget"] = len(found)
    events += found
    if reference_reviews is not None and reference_reviews.exists():
        found = review_events(reference_reviews)
        counts["reference"] = len(found)
        events += found
    return events, counts


def _aligned(model: HybridModel, items: list[str]):
    """`model`'s scores over `items` (items it does not know score -inf): to compare models on one split."""
    position = np.array([model.index.get(k, -1) for k in items])
    where = {k: i for i, k in enumerate(items)}

    def score(histories):
        raw = model.scores_many(histories)
        out = np.full((len(histories), len(items)), -np.inf)
        known = position >= 0
        out[:, known] = raw[:, position[known]]
        for r, history in enumerate(histories):  # seen items stay out even if the old model did not know them
            out[r, [where[k] for k in history if k in where]] = -np.inf
        return out
    return score


def transition(session: Session, model: TrainedModel, to: ModelStatus, *, why: str) -> TrainedModel:
    """The one way a model's status changes: checked against ALLOWED, with an event row and an audit entry."""
    current = ModelStatus(model.status)
    if (current, to) not in ALLOWED:
        raise Conflict(f"Model {model.version} is {current.value}; it cannot become {to.value}.")
    model.status = to
    model.promoted = to == ModelStatus.promoted
    if to == ModelStatus.promoted:
        model.promoted_at = utcnow()
    session.add(model)
    session.add(ModelEvent(model_id=model.id, from_status=current.value, to_status=to.value, why=why[:500]))
    record(session, action=f"budtender.model.{to.value}", object_type="budtender_model", object_id=model.id,
           before={"status": current.value}, after={"status": to.value, "why": why[:500]})
    session.flush()
    return model


def promoted(session: Session) -> TrainedModel | None:
    return session.exec(select(TrainedModel).where(TrainedModel.promoted == True)  # noqa: E712
                        .order_by(col(TrainedModel.version).desc())).first()


def gate(candidate: OfflineMetrics, serving: OfflineMetrics | None) -> tuple[bool, str]:
    """Promote only a model that does at least as well as the serving one on the same split."""
    if serving is None:
        return True, f"First model: HR@10 {candidate.hit_rate:.3f}, coverage {candidate.coverage:.0%}."
    if candidate.hit_rate < serving.hit_rate:
        return False, (f"HR@10 {candidate.hit_rate:.3f} is below the serving model's {serving.hit_rate:.3f} on the "
                       f"same {candidate.users} held-out interactions.")
    if candidate.coverage < COVERAGE_SLACK * serving.coverage:
        return False, (f"Coverage {candidate.coverage:.0%} is below {COVERAGE_SLACK:.0%} of the serving model's "
                       f"{serving.coverage:.0%}.")
    return True, (f"HR@10 {candidate.hit_rate:.3f} (serving {serving.hit_rate:.3f}), coverage "
                  f"{candidate.coverage:.0%} (serving {serving.coverage:.0%}).")


def retrain(session: Session, *, events: list[Event] | None = None, reference_reviews: Path | None = None,
            model: HybridModel | None = None) -> TrainedModel:
    """Train (or take `model`, for tests of the gate), evaluate against the serving model, and promote or reject."""
    counts = {}
    if events is None:
        events, counts = interactions(session, reference_reviews=reference_reviews)
    split = leave_last_out(events)
    items = sorted({e.item for e in events})
    if model is None:
        model = HybridModel.fit(split.training, items=items)
    candidate = evaluate(_aligned(model, items), items, split.histories, split.held_out)
    current = promoted(session)
    serving = None
    if current is not None and split.histories:
        serving = evaluate(_aligned(HybridModel.from_bytes(current.artifact), items), items, split.histories,
                           split.held_out)
    version = (session.exec(select(sa.func.max(TrainedModel.version))).one() or 0) + 1
    # The model that serves is the one evaluated: trained without each user's latest interaction. Refitting on
    # everything would let tomorrow's gate score it on interactions it has seen (and refuse every later model).
    row = TrainedModel(version=version, metrics=candidate.as_dict(),
                       compared_to=serving.as_dict() if serving else {},
                       trained_on=counts | {"events": len(events), "held_out": len(split.held_out)},
                       artifact=model.to_bytes())
    session.add(row)
    session.flush()
    ok, why = gate(candidate, serving)
    if ok:
        if current is not None:
            transition(session, current, ModelStatus.retired, why=f"Replaced by model {version}. {why}")
        transition(session, row, ModelStatus.promoted, why=why)
    else:
        transition(session, row, ModelStatus.rejected, why=why)
    return row


def serving_model(session: Session) -> Serving | None:
    """The promoted model, loaded once per model row per process."""
    found = session.exec(select(TrainedModel.id, TrainedModel.version).where(TrainedModel.promoted == True)  # noqa: E712
                         .order_by(col(TrainedModel.version).desc())).first()
    if found is None:
        return None
    model_id, version = found
    with _lock:
        cached = _cache.get("serving")
        if cached is None or cached[0] != model_id:
            row = session.get(TrainedModel, model_id)
            _cache["serving"] = (model_id, HybridModel.from_bytes(row.artifact))
        return Serving(version, _cache["serving"][1])
