"""CQI status changes go through one transition per verb and leave an event row (who, from, to, why)."""

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, PermissionDenied
from icc_app.core.models import utcnow
from icc_app.identity import service as identity
from icc_app.quality import service, transitions
from icc_app.quality.models import ConfigStatus, ModelStatus, PriceModel, QualityEvent
from icc_app.quality.scoring import DEFAULT_WEIGHTS
from tests.factories import make_user


def _events(session, object_id) -> list[tuple[str, str]]:
    return [(e.from_status, e.to_status) for e in session.exec(
        select(QualityEvent).where(QualityEvent.object_id == object_id).order_by(QualityEvent.id))]


def test_activating_a_config_retires_the_old_one_with_events(connection):
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        principal = identity.build_principal(session, admin)
        first = service.active_config(session)
        draft = service.create_draft(session, admin=principal, weights=dict(DEFAULT_WEIGHTS), note="same weights")
    with unit_of_work() as session:
        service.activate(session, admin=principal, config_id=draft.id)
        assert _events(session, first.id) == [("", "draft"), ("draft", "active"), ("active", "retired")]
        assert _events(session, draft.id) == [("", "draft"), ("draft", "active")]
        retire = session.exec(select(QualityEvent).where(QualityEvent.object_id == first.id,
                                                         QualityEvent.to_status == "retired")).one()
        assert retire.actor_id == admin.id and "version 2 activated" in retire.note
        assert ConfigStatus(session.get(type(draft), draft.id).status) == ConfigStatus.active
    with pytest.raises(Conflict, match="only a draft"), unit_of_work() as session:
        service.activate(session, admin=principal, config_id=first.id)


def test_price_model_promotion_and_retirement_are_transitions(connection):
    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
        models = [PriceModel(version=v, features=[], metrics={"mae": 1, "baseline_mae": 2}, artifact="",
                             trained_at=utcnow()) for v in (901, 902)]
        session.add_all(models)
        session.flush()
        transitions.model_transition(session, models[0], "promote", actor="admin", actor_id=admin.id, note="better")
        with pytest.raises(PermissionDenied):
            transitions.model_transition(session, models[1], "promote", actor="system", actor_id=None)
        transitions.model_transition(session, models[0], "retire", actor="system", actor_id=admin.id, note="v902")
        with pytest.raises(Conflict, match="retired"):
            transitions.model_transition(session, models[0], "promote", actor="admin", actor_id=admin.id)
        assert _events(session, models[0].id) == [("shadow", "promoted"), ("promoted", "retired")]
        assert ModelStatus(models[0].status) == ModelStatus.retired and models[0].promoted_by == admin.id
