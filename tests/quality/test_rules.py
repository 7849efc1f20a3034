"""The CQI rules, component by component, on hand-made features (no database): every edge the issue names."""

from datetime import date, timedelta

import pytest

from icc_app.quality import scoring
from icc_app.quality.scoring import DEFAULT_PARAMS, DEFAULT_WEIGHTS, LotFeatures, percentile_rank, score, validate

FLOWER_THC = [10 + i * 0.2 for i in range(101)]  # p0 = 10%, p50 = 20%, p100 = 30%
CALIBRATION = {("flower", "total_thc_pct"): FLOWER_THC, ("flower", "total_cbd_pct"): [i * 0.2 for i in range(101)]}
ALL_PASS = {p: "pass" for p in scoring.PANELS}
TODAY = date(2026, 11, 22)


def _lot(**overrides) -> LotFeatures:
    values = dict(product_type="flower", total_thc_pct=25.0, total_cbd_pct=0.1, total_terpenes_pct=3.0,
                  terpenes_above_threshold=8, panels=dict(ALL_PASS), water_activity_aw=0.60, tested_on=TODAY)
    values.update(overrides)
    return LotFeatures(**values)


def _components(features):
    breakdown = score(features, DEFAULT_WEIGHTS, DEFAULT_PARAMS, CALIBRATION, today=TODAY)
    return breakdown, {c.name: c for c in breakdown.components}


def test_a_great_lot_scores_high_and_every_component_explains_itself():
    breakdown, parts = _components(_lot())
    assert 85 <= breakdown.total <= 100 and not breakdown.flagged
    assert parts["potency"].score == pytest.approx(percentile_rank(25.0, FLOWER_THC), abs=0.05) and "THC 25.0%" in parts["potency"].inputs
    assert parts["terpenes"].score == 100 and parts["safety"].score == 100 and parts["moisture"].score == 100
    assert parts["moisture"].inputs == "aw 0.60, in band"
    assert sum(c.weight for c in breakdown.components) == pytest.approx(1)


def test_a_failed_panel_zeroes_safety_caps_the_total_and_flags():
    breakdown, parts = _components(_lot(panels={**ALL_PASS, "pesticides": "fail"}))
    assert parts["safety"].score == 0 and breakdown.flagged
    assert breakdown.total <= DEFAULT_PARAMS["safety_cap"] and "capped" in breakdown.reason


def test_untested_panels_lower_the_score_and_are_never_passed():
    _, parts = _components(_lot(panels={"pesticides": "pass", "heavy_metals": "pass"}))
    assert parts["safety"].score == 100 - 4 * DEFAULT_PARAMS["untested_panel_penalty"]
    assert "never counted as passed" in parts["safety"].reason


def test_missing_moisture_is_neutral_with_a_note_and_out_of_band_falls_off():
    _, parts = _components(_lot(water_activity_aw=None, moisture_pct=None))
    assert parts["moisture"].score == DEFAULT_PARAMS["neutral_score"] and "neutral" in parts["moisture"].reason
    _, wet = _components(_lot(water_activity_aw=0.70))
    assert 0 < wet["moisture"].score < 100 and "too wet" in wet["moisture"].inputs
    _, soaked = _components(_lot(water_activity_aw=0.90))
    assert soaked["moisture"].score == 0


def test_freshness_halves_every_half_life():
    half = DEFAULT_PARAMS["freshness_half_life_days"]
    _, parts = _components(_lot(tested_on=TODAY - timedelta(days=half)))
    assert parts["freshness"].score == pytest.approx(50, abs=0.1)


def test_a_brand_new_seller_is_neither_punished_nor_inflated():
    _, new = _components(_lot())
    assert new["reputation"].score == DEFAULT_PARAMS["reputation_prior_score"]
    _, good = _components(_lot(completed_orders=20))
    _, bad = _components(_lot(completed_orders=2, disputes_lost=3))
    assert bad["reputation"].score < new["reputation"].score < good["reputation"].score < 100


def test_cbd_dominant_lots_rank_on_cbd_and_unknown_products_are_neutral():
    _, parts = _components(_lot(total_thc_pct=0.5, total_cbd_pct=15.0))
    assert parts["potency"].inputs == "CBD 15.0%"
    _, edible = _components(_lot(product_type="edible"))
    assert edible["potency"].score == DEFAULT_PARAMS["neutral_score"]


def test_a_lot_without_a_coa_is_not_scored_never_zero():
    breakdown = score(LotFeatures(product_type="flower", has_coa=False), DEFAULT_WEIGHTS, DEFAULT_PARAMS, CALIBRATION)
    assert breakdown.total is None and "no parsed COA" in breakdown.reason


@pytest.mark.parametrize(("weights", "params", "field"), [
    ({**DEFAULT_WEIGHTS, "potency": 0.5}, {}, "weights"),
    ({k: v for k, v in DEFAULT_WEIGHTS.items() if k != "safety"}, {}, "weights"),
    (DEFAULT_WEIGHTS, {"aw_band": {"flower": [0.7, 0.5]}}, "aw_band"),
    (DEFAULT_WEIGHTS, {"freshness_half_life_days": 0}, "freshness_half_life_days"),
])
def test_config_validation(weights, params, field):
    problems = validate(weights, {**DEFAULT_PARAMS, **params})
    assert problems and problems[0][0] == field
    assert validate(DEFAULT_WEIGHTS, DEFAULT_PARAMS) == []
