"""Nightly retrain: offline evaluation on each retrain, and a model that does worse than the serving one is not
promoted (its status and the reason are recorded)."""

from __future__ import annotations

import numpy as np

from icc_app.budtender import training
from icc_app.budtender.models import ModelEvent, ModelStatus, TrainedModel
from icc_app.budtender.recommender import BlendWeights, Event, HybridModel, leave_last_out
from icc_app.core.db import unit_of_work

# Two tastes: people who like A go on to B, people who like C go on to D; every user ends on the partner strain.
EVENTS = [Event(f"a{u}", item, order) for u in range(12) for order, item in enumerate(["a", "x", "b"])] + \
         [Event(f"c{u}", item, order) for u in range(12) for order, item in enumerate(["c", "y", "d"])] + \
         [Event(f"p{u}", item, 0) for u in range(4) for item in ["y", "x"]] + \
         [Event(f"f{u}", f"filler{j}", j) for u in range(30) for j in range(12)]  # popular strains nobody above likes


def test_leave_last_out_holds_out_each_users_latest_strain():
    split = leave_last_out(EVENTS)
    assert len(split.histories) == 54 and {"b", "d"} <= set(split.held_out)
    assert set(split.held_out) - {"b", "d"} == {"filler11"}
    assert all(h[-1] in {"x", "y"} for h, out in zip(split.histories, split.held_out) if out in {"b", "d"})


def test_first_model_is_promoted_with_its_metrics(session):
    with unit_of_work() as s:
        row = training.retrain(s, events=EVENTS)
    row = session.get(TrainedModel, row.id)
    assert row.status == ModelStatus.promoted and row.promoted
    assert row.metrics["hit_rate_at_10"] > 0.9 and row.metrics["users"] == 54


def test_a_worse_model_is_not_promoted(session):
    with unit_of_work() as s:
        good = training.retrain(s, events=EVENTS)
    items = sorted({e.item for e in EVENTS})
    # a broken model: no item-item knowledge, recommends the popular fillers to everyone
    broken = HybridModel(items=items, walk=np.zeros((len(items), len(items)), np.float32),
                         sequence=np.zeros((len(items), len(items)), np.float32),
                         popularity=np.array([50.0 if k.startswith("filler") else 1.0 for k in items]),
                         weights=BlendWeights(0, 0, 0, 1.0))
    with unit_of_work() as s:
        worse = training.retrain(s, events=EVENTS, model=broken)
    worse, good = session.get(TrainedModel, worse.id), session.get(TrainedModel, good.id)
    assert worse.status == ModelStatus.rejected and not worse.promoted
    assert good.status == ModelStatus.promoted  # still serving
    assert worse.metrics["hit_rate_at_10"] < worse.compared_to["hit_rate_at_10"]
    event = session.query(ModelEvent).filter(ModelEvent.model_id == worse.id).one()
    assert event.to_status == "rejected" and "below the serving model" in event.why
    with unit_of_work() as s:
        assert training.serving_model(s).version == good.version


def test_an_equal_or_better_model_replaces_the_serving_one(session):
    with unit_of_work() as s:
        first = training.retrain(s, events=EVENTS)
    with unit_of_work() as s:
        second = training.retrain(s, events=EVENTS)
    second = session.get(TrainedModel, second.id)
    assert second.status == ModelStatus.promoted
    assert session.get(TrainedModel, first.id).status == ModelStatus.retired
    # the serving model is scored on interactions it never saw: on the same data it scores what it scored before,
    # and its artifact knows nobody's latest strain (b and d were only ever anyone's latest)
    assert second.compared_to == second.metrics
    served = HybridModel.from_bytes(second.artifact)
    assert served.popularity[served.index["b"]] == 0 and served.popularity[served.index["d"]] == 0
