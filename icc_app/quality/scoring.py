"""The CQI rules: six components, each 0-100 with a reason and a hint of what would raise it, weighted into a
0-100 total. Pure functions of a lot's features, the active config and the calibration: no database here, so
the batch rescorer and the single-lot task share them, and a past score is reproducible from its inputs."""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field
from datetime import date

from icc_app.ui.format import plural

COMPONENTS = ("potency", "terpenes", "safety", "moisture", "freshness", "reputation")
PANELS = ("pesticides", "heavy_metals", "microbials", "mycotoxins", "residual_solvents", "foreign_matter")
PRODUCT_GROUPS = {"flower": "flower", "pre_roll": "flower", "trim": "flower", "biomass": "flower",
                  "concentrate": "concentrate", "vape": "concentrate"}

DEFAULT_WEIGHTS = {"potency": 0.25, "terpenes": 0.20, "safety": 0.25, "moisture": 0.10, "freshness": 0.10,
                   "reputation": 0.10}
DEFAULT_PARAMS = {
    "terpene_target_pct": 3.0,  # total terpenes that earn the full "amount" half of the component
    "terpene_threshold_pct": 0.05,  # a terpene counts toward richness above this
    "terpene_rich_count": 8,  # this many terpenes above the threshold earn the full "richness" half
    "aw_band": {"flower": [0.55, 0.65]},  # water activity band per product group
    "moisture_band": {"flower": [8.0, 13.0]},  # moisture % band per product group
    "aw_falloff": 0.10,  # aw this far outside the band scores 0
    "moisture_falloff": 5.0,  # moisture points this far outside the band score 0
    "freshness_half_life_days": 180,
    "safety_cap": 40,  # the highest total a lot with a failed panel can get
    "untested_panel_penalty": 15,  # points off the safety component per panel not tested
    "reputation_prior_score": 60,  # what a newcomer is assumed to be worth...
    "reputation_prior_weight": 5,  # ...worth this many orders of evidence
    "neutral_score": 50,  # what a component scores when its input was not printed
}


@dataclass
class LotFeatures:
    product_type: str
    total_thc_pct: float | None = None
    total_cbd_pct: float | None = None
    total_terpenes_pct: float | None = None
    terpenes_above_threshold: int | None = None
    panels: dict[str, str | None] = field(default_factory=dict)  # panel -> pass / fail / None (not tested)
    moisture_pct: float | None = None
    water_activity_aw: float | None = None
    tested_on: date | None = None
    packaged_on: date | None = None
    completed_orders: int = 0
    disputes_lost: int = 0
    seller_cancellations: int = 0
    has_coa: bool = True


@dataclass
class Component:
    name: str
    score: float
    weight: float
    inputs: str
    reason: str
    improve: str


@dataclass
class Breakdown:
    total: float | None
    reason: str
    flagged: bool
    components: list[Component]

    def as_rows(self) -> list[dict]:
        return [asdict(c) for c in self.components]


def percentile_rank(value: float, percentiles: list[float]) -> float:
    """Where `value` falls in a 101-point percentile table (0..100)."""
    if not percentiles:
        return 50.0
    return 100.0 * bisect.bisect_right(percentiles, value) / len(percentiles)


def _potency(f: LotFeatures, calibration: dict[tuple[str, str], list[float]], neutral: float) -> Component:
    group = PRODUCT_GROUPS.get(f.product_type)
    cbd_dominant = (f.total_cbd_pct or 0) > (f.total_thc_pct or 0)
    metric, value, label = (("total_cbd_pct", f.total_cbd_pct, "CBD") if cbd_dominant
                            else ("total_thc_pct", f.total_thc_pct, "THC"))
    if value is None:
        return Component("potency", neutral, 0, "not printed", f"Total {label} is not printed on the COA.",
                         f"Have the lab report total {label}.")
    table = calibration.get((group or "", metric))
    if group is None or table is None:
        return Component("potency", neutral, 0, f"{label} {value:.1f}%",
                         f"No reference distribution for {f.product_type}: neutral.", "")
    rank = percentile_rank(value, table)
    return Component("potency", round(rank, 1), 0, f"{label} {value:.1f}%",
                     f"Higher than {rank:.0f}% of {group} tested in the reference set.",
                     "Only higher potency raises it." if rank < 95 else "")


def _terpenes(f: LotFeatures, p: dict, neutral: float) -> Component:
    if f.total_terpenes_pct is None:
        return Component("terpenes", neutral, 0, "not tested", "Terpenes were not tested.",
                         "Order a terpene panel: it is half of what buyers compare.")
    amount = min(1.0, f.total_terpenes_pct / p["terpene_target_pct"]) * 50
    count = f.terpenes_above_threshold or 0
    richness = min(1.0, count / p["terpene_rich_count"]) * 50
    return Component("terpenes", round(amount + richness, 1), 0,
                     f"total {f.total_terpenes_pct:.2f}%, {count} above {p['terpene_threshold_pct']}%",
                     f"Amount {amount:.0f}/50 (full at {p['terpene_target_pct']}%), profile {richness:.0f}/50 "
                     f"(full at {p['terpene_rich_count']} terpenes).",
                     "Richer profiles and more total terpenes score higher." if amount + richness < 100 else "")


def _safety(f: LotFeatures, p: dict) -> tuple[Component, bool]:
    failed = [name for name in PANELS if (f.panels.get(name) or "").lower() == "fail"]
    untested = [name for name in PANELS if not f.panels.get(name)]
    passed = [name for name in PANELS if (f.panels.get(name) or "").lower() == "pass"]
    inputs = f"{len(passed)} passed, {len(failed)} failed, {len(untested)} not tested"
    if failed:
        return Component("safety", 0.0, 0, inputs, f"Failed: {', '.join(failed).replace('_', ' ')}. The total is "
                         f"capped at {p['safety_cap']} and the lot is flagged.", "A lot that fails a panel cannot rank."), True
    score = max(0.0, 100.0 - p["untested_panel_penalty"] * len(untested))
    reason = "Every panel passed." if not untested else (
        f"Not tested: {', '.join(untested).replace('_', ' ')} (an untested panel is never counted as passed).")
    return Component("safety", score, 0, inputs, reason, "Test the missing panels." if untested else ""), False


def _band_score(value: float, band: list[float], falloff: float) -> float:
    low, high = band
    if low <= value <= high:
        return 100.0
    distance = (low - value) if value < low else (value - high)
    return max(0.0, 100.0 * (1 - distance / falloff))


def _moisture(f: LotFeatures, p: dict, neutral: float) -> Component:
    group = PRODUCT_GROUPS.get(f.product_type) or ""
    aw_band, moisture_band = p["aw_band"].get(group), p["moisture_band"].get(group)
    if f.water_activity_aw is not None and aw_band:
        score = _band_score(f.water_activity_aw, aw_band, p["aw_falloff"])
        where = "in band" if score == 100 else ("too dry" if f.water_activity_aw < aw_band[0] else "too wet")
        return Component("moisture", round(score, 1), 0, f"aw {f.water_activity_aw:.2f}, {where}",
                         f"Optimal water activity for {group} is {aw_band[0]}-{aw_band[1]}.",
                         "" if score == 100 else f"Cure to aw {aw_band[0]}-{aw_band[1]}.")
    if f.moisture_pct is not None and moisture_band:
        score = _band_score(f.moisture_pct, moisture_band, p["moisture_falloff"])
        where = "in band" if score == 100 else ("too dry" if f.moisture_pct < moisture_band[0] else "too wet")
        return Component("moisture", round(score, 1), 0, f"moisture {f.moisture_pct:.1f}%, {where}",
                         f"Optimal moisture for {group} is {moisture_band[0]}-{moisture_band[1]}%.",
                         "" if score == 100 else "Bring moisture into the band.")
    return Component("moisture", neutral, 0, "not printed",
                     "Neither water activity nor moisture is printed (or no band for this product): neutral.",
                     "Report water activity to score on storage quality." if aw_band else "")


def _freshness(f: LotFeatures, p: dict, today: date) -> Component:
    reference = f.tested_on or f.packaged_on
    if reference is None:
        return Component("freshness", p["neutral_score"], 0, "no test date", "The test date is unknown: neutral.",
                         "Show the test date.")
    age = max(0, (today - reference).days)
    half_life = p["freshness_half_life_days"]
    score = 100.0 * 0.5 ** (age / half_life)
    return Component("freshness", round(score, 1), 0, f"tested {age} days ago",
                     f"Halves every {half_life:g} days since the test.", "A recent test scores higher." if age > 30 else "")


def _reputation(f: LotFeatures, p: dict) -> Component:
    evidence = f.completed_orders + f.disputes_lost + f.seller_cancellations
    observed = 100.0 * f.completed_orders / evidence if evidence else 0.0
    prior, weight = p["reputation_prior_score"], p["reputation_prior_weight"]
    score = (prior * weight + observed * evidence) / (weight + evidence)
    inputs = (f"{f.completed_orders} completed, {plural(f.disputes_lost, 'dispute')} lost, "
              f"{f.seller_cancellations} cancelled")
    reason = ("A new seller starts at the prior." if evidence == 0
              else f"The record so far, weighed against a prior of {prior} worth {weight} orders.")
    return Component("reputation", round(score, 1), 0, inputs, reason,
                     "Completed orders without disputes raise it." if score < 95 else "")


def score(f: LotFeatures, weights: dict[str, float], params: dict,
          calibration: dict[tuple[str, str], list[float]], *, today: date | None = None) -> Breakdown:
    if not f.has_coa:
        return Breakdown(None, "Not scored: the lot has no parsed COA.", False, [])
    today = today or date.today()
    neutral = params["neutral_score"]
    safety, flagged = _safety(f, params)
    components = [_potency(f, calibration, neutral), _terpenes(f, params, neutral), safety,
                  _moisture(f, params, neutral), _freshness(f, params, today), _reputation(f, params)]
    for component in components:
        component.weight = weights[component.name]
    total = sum(c.score * c.weight for c in components)
    reason = "Weighted sum of the six components."
    if flagged:
        total = min(total, params["safety_cap"])
        reason = f"A safety panel failed: capped at {params['safety_cap']}."
    return Breakdown(round(total, 1), reason, flagged, components)


def _number(value) -> bool:
    """A real, finite number: not a bool, not NaN, not infinite (1E+400 read as a float is infinite)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# Numeric parameters an admin may set, with the range that keeps scores between 0 and 100.
PARAM_RANGES = {"freshness_half_life_days": (1, 3650), "safety_cap": (0, 100), "terpene_target_pct": (0.01, 100),
                "terpene_threshold_pct": (0, 100), "terpene_rich_count": (1, 100), "aw_falloff": (0.001, 1),
                "moisture_falloff": (0.01, 100), "untested_panel_penalty": (0, 100),
                "reputation_prior_score": (0, 100), "reputation_prior_weight": (0, 1000), "neutral_score": (0, 100)}


def validate(weights: dict, params: dict) -> list[tuple[str, str]]:
    """(field, message) for every problem of a config; empty when it can be activated."""
    problems = []
    if not isinstance(weights, dict) or set(weights) != set(COMPONENTS):
        problems.append(("weights", f"Give a weight to each of: {', '.join(COMPONENTS)}."))
    else:
        for name, weight in weights.items():
            if not _number(weight) or not 0 <= weight <= 1:
                problems.append((f"weight_{name}", "A weight is a number from 0 to 1."))
        if not problems and abs(sum(weights.values()) - 1) > 1e-6:
            problems.append(("weights", f"The weights add up to {sum(weights.values()):.3f}; they must add up to 1."))
    for key in ("aw_band", "moisture_band"):
        for group, band in (params.get(key) or {}).items():
            if not (isinstance(band, list | tuple) and len(band) == 2 and all(_number(b) for b in band)
                    and band[0] < band[1]):
                problems.append((key, f"The {key.replace('_', ' ')} of {group} must be low < high."))
    for key, (low, high) in PARAM_RANGES.items():
        value = params.get(key)
        if key in params and not (_number(value) and low <= value <= high):
            problems.append((key, _RANGE_MESSAGES.get(key, f"Between {low:g} and {high:g}.")))
    missing = [k for k in DEFAULT_PARAMS if k not in params]
    if missing:
        problems.append(("params", f"Missing parameters: {', '.join(missing)}."))
    return problems


_RANGE_MESSAGES = {"freshness_half_life_days": "The half-life is a number of days from 1 to 3650.",
                   "safety_cap": "The safety cap is between 0 and 100."}
