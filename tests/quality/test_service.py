"""CQI on the database: calibration from the real lab data, scoring a listed lot with a real COA, the admin's
draft -> preview -> activate cycle, and the batch rescore."""

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import Conflict, PermissionDenied, ValidationFailed
from icc_app.exchange.models import Lot
from icc_app.identity import service as identity
from icc_app.quality import calibration, service
from icc_app.quality.models import ConfigStatus, CQIScore, PotencyCalibration
from icc_app.quality.scoring import DEFAULT_WEIGHTS
from tests.factories import make_user


@pytest.fixture()
def calibrated(connection, shared_data):
    files = sorted((shared_data / "terpenes").glob("*.csv"))
    with unit_of_work() as session:
        counts = calibration.calibrate(session, files)
    return counts


def test_calibration_comes_from_thousands_of_real_results(calibrated):
    assert calibrated[("flower", "total_thc_pct")] > 3000 and calibrated[("concentrate", "total_thc_pct")] > 2000
    with unit_of_work() as session:
        row = session.exec(select(PotencyCalibration).where(PotencyCalibration.product_group == "flower",
                                                            PotencyCalibration.metric == "total_thc_pct")).one()
    assert len(row.percentiles) == 101 and 12 < row.percentiles[50] < 25  # a median flower tests mid-teens to 20s


def test_listed_lot_gets_an_explainable_score(market, calibrated):
    with unit_of_work() as session:
        breakdown = service.score_lot(session, market.lot_id)
        stored = service.current_score(session, market.lot_id)
        lot = session.get(Lot, market.lot_id)
    assert breakdown.total is not None and 0 < breakdown.total <= 100
    assert lot.cqi_score == breakdown.total and stored.config_version == 1
    names = [c["name"] for c in stored.components]
    assert names == ["potency", "terpenes", "safety", "moisture", "freshness", "reputation"]
    assert all(c["reason"] for c in stored.components)
    with unit_of_work() as session:  # idempotent: the same inputs give the same score, one current row
        again = service.score_lot(session, market.lot_id)
        current = session.exec(select(CQIScore).where(CQIScore.lot_id == market.lot_id, CQIScore.is_current == True)).all()  # noqa: E712
    assert again.total == breakdown.total and len(current) == 1


def test_draft_preview_activate_rescores(market, calibrated):
    with unit_of_work() as session:
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
        service.score_lot(session, market.lot_id)
    with pytest.raises(ValidationFailed, match="add up to 1"), unit_of_work() as session:
        service.create_draft(session, admin=admin, weights={**DEFAULT_WEIGHTS, "reputation": 0.5})
    with pytest.raises(PermissionDenied), unit_of_work() as session:
        service.create_draft(session, admin=market.principal(market.seller_user), weights=DEFAULT_WEIGHTS)
    heavier_safety = {"potency": 0.1, "terpenes": 0.1, "safety": 0.6, "moisture": 0.1, "freshness": 0.05,
                      "reputation": 0.05}
    with unit_of_work() as session:
        draft = service.create_draft(session, admin=admin, weights=heavier_safety, note="safety first")
        preview = service.preview(session, admin=admin, config_id=draft.id)
        before = session.get(Lot, market.lot_id).cqi_score
    assert preview.lots >= 1 and preview.mean_before is not None and draft.version == 2
    with unit_of_work() as session:
        service.activate(session, admin=admin, config_id=draft.id)
        assert service.rescore_all(session) >= 1  # what the enqueued task does
        statuses = {c.version: ConfigStatus(c.status) for c in session.exec(select(service.ScoringConfig))}
        stored = service.current_score(session, market.lot_id)
        after = session.get(Lot, market.lot_id).cqi_score
    assert statuses == {1: ConfigStatus.retired, 2: ConfigStatus.active}
    assert stored.config_version == 2 and after != before
    assert dict(preview.biggest_moves and [(m[0], m[2]) for m in preview.biggest_moves]).get(str(market.lot_id)) == after
    with pytest.raises(Conflict), unit_of_work() as session:
        service.activate(session, admin=admin, config_id=draft.id)
