"""Read schemas of CQI: a score with its breakdown as pages show it (display-ready text; no reflex)."""

from __future__ import annotations

from pydantic import BaseModel

from icc_app.quality.models import CQIScore, PriceModel, ScoringConfig
from icc_app.ui.format import label


def band(score: float | None) -> str:
    """The colour band of a score: what a buyer reads at a glance."""
    if score is None:
        return "gray"
    return "green" if score >= 80 else "lime" if score >= 65 else "amber" if score >= 50 else "red"


class ComponentRead(BaseModel):
    name: str
    score: str  # "36"
    percent: int  # 0..100, the bar's width
    weight: str  # "25%"
    inputs: str = ""
    reason: str = ""
    improve: str = ""


class ScoreRead(BaseModel):
    total: str = ""  # "" when not scored (the reason says why), never 0
    color: str = "gray"
    reason: str = "Not scored yet: scoring runs when the COA is parsed."
    version: str = ""
    model: str = ""  # the price model's view, when it may be shown
    components: list[ComponentRead] = []


def component_read(component: dict) -> ComponentRead:
    score = float(component["score"])
    return ComponentRead(name=label(component["name"]), score=f"{score:.0f}", percent=max(0, min(100, round(score))),
                         weight=f"{component['weight'] * 100:.0f}%", inputs=component.get("inputs", ""),
                         reason=component.get("reason", ""), improve=component.get("improve", ""))


def score_read(score: CQIScore | None, *, model_note: str = "") -> ScoreRead:
    if score is None:
        return ScoreRead(model=model_note)
    return ScoreRead(total="" if score.total is None else f"{score.total:.0f}", color=band(score.total),
                     reason=score.reason, version=str(score.config_version), model=model_note,
                     components=[component_read(c) for c in score.components])


class ConfigRead(BaseModel):
    """A scoring config in the admin's list."""

    id: str
    version: str
    status: str
    status_label: str
    note: str
    weights: str


def config_read(config: ScoringConfig) -> ConfigRead:
    return ConfigRead(id=str(config.id), version=str(config.version), status=str(config.status),
                      status_label=label(config.status), note=config.note,
                      weights=", ".join(f"{label(k).lower()} {v:g}" for k, v in config.weights.items()))


class PriceModelRead(BaseModel):
    id: str
    version: str
    status: str
    status_label: str
    trades: str
    mae: str
    baseline: str
    trained: str
    gate: str  # "ready", or why it cannot be promoted


def price_model_read(model: PriceModel, gate: str | None) -> PriceModelRead:
    return PriceModelRead(id=str(model.id), version=str(model.version), status=str(model.status),
                          status_label=label(model.status),
                          trades=f"{model.metrics['n_train']} + {model.metrics['n_val']}",
                          mae=f"${model.metrics['mae']:,.2f}", baseline=f"${model.metrics['baseline_mae']:,.2f}",
                          trained=model.trained_at.strftime("%Y-%m-%d"), gate=gate or "ready")


class MoveRead(BaseModel):
    """One lot whose score the draft would move the most: named, linked."""

    lot_id: str
    title: str
    before: str
    after: str


class PreviewRead(BaseModel):
    version: str = ""
    lots: str = ""
    before: str = ""
    after: str = ""
    up: str = ""
    down: str = ""
    moves: list[MoveRead] = []


def preview_read(version: int, preview) -> PreviewRead:
    """From quality.service.Preview."""
    def number(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    return PreviewRead(version=str(version), lots=str(preview.lots), before=number(preview.mean_before),
                       after=number(preview.mean_after), up=str(preview.moved_up), down=str(preview.moved_down),
                       moves=[MoveRead(lot_id=lot_id, title=preview.titles.get(lot_id, "a lot"), before=number(b),
                                       after=number(a)) for lot_id, b, a in preview.biggest_moves])
