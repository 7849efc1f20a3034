"""The CQI admin's draft config with hostile numbers, as the admin page sends them (it reads the inputs with
float(), so "nan", "inf" and "1E+400" arrive as NaN and infinity): refused with the field named, nothing stored."""

import math

import pytest
from sqlmodel import func, select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.identity import service as identity
from icc_app.quality import service
from icc_app.quality.models import ScoringConfig
from icc_app.quality.scoring import DEFAULT_WEIGHTS
from tests.factories import make_user

# What float() makes of what an admin can type, and what a JSON client can send.
BAD_WEIGHTS = [float("nan"), float("1E+400"), -float("inf"), 1e30, -0.25, 1.5, True, "0.25", None]


@pytest.fixture()
def admin(connection):
    with unit_of_work() as session:
        principal = identity.build_principal(session, make_user(session, is_platform_admin=True))
        service.active_config(session)  # version 1 exists, as on a running platform
    return principal


def _refused(admin, field: str, *, weights=None, params=None, note="") -> None:
    with unit_of_work() as session:
        before = session.exec(select(func.count()).select_from(ScoringConfig)).one()
    with pytest.raises(ValidationFailed) as refused, unit_of_work() as session:
        service.create_draft(session, admin=admin, weights=weights or dict(DEFAULT_WEIGHTS), params=params,
                             note=note)
    assert refused.value.field == field, refused.value.message
    with unit_of_work() as session:
        assert session.exec(select(func.count()).select_from(ScoringConfig)).one() == before


@pytest.mark.parametrize("value", BAD_WEIGHTS, ids=repr)
def test_bad_weights_are_refused(admin, value):
    _refused(admin, "weight_potency", weights={**DEFAULT_WEIGHTS, "potency": value})


@pytest.mark.parametrize("value", [float("nan"), math.inf, 1e30, 0, -5, "180"], ids=repr)
def test_bad_half_life_is_refused(admin, value):
    _refused(admin, "freshness_half_life_days", params={"freshness_half_life_days": value})


@pytest.mark.parametrize("value", [float("nan"), math.inf, 101, -1], ids=repr)
def test_bad_safety_cap_is_refused(admin, value):
    _refused(admin, "safety_cap", params={"safety_cap": value})


def test_bad_bands_and_notes_are_refused(admin):
    _refused(admin, "aw_band", params={"aw_band": {"flower": [float("nan"), 0.65]}})
    _refused(admin, "moisture_band", params={"moisture_band": {"flower": [8.0, math.inf]}})
    _refused(admin, "note", note="Heavier\x00 safety")
    _refused(admin, "note", note="x" * 501)


def test_a_good_draft_still_lands(admin):
    with unit_of_work() as session:
        config = service.create_draft(session, admin=admin, weights={**DEFAULT_WEIGHTS, "potency": 0.3,
                                                                     "reputation": 0.05},
                                      params={"freshness_half_life_days": 90.0, "safety_cap": 35.0}, note="ok")
    assert config.version == 2 and config.params["safety_cap"] == 35.0
