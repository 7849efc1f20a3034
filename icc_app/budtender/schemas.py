"""Read models of IVB passed to the API and the pages: words already formatted, raw values beside them."""

from __future__ import annotations

from pydantic import BaseModel

from icc_app.budtender.effects import AVOIDABLE, FEELINGS
from icc_app.budtender.ranking import EXPERIENCES

FORMATS = {"flower": "Flower", "pre_roll": "Pre-rolls", "vape": "Vapes", "edible": "Edibles",
           "concentrate": "Concentrates", "tincture": "Tinctures", "topical": "Topicals"}


class QuizRead(BaseModel):
    wanted: list[str] = []
    avoided: list[str] = []
    experience: str = "occasional"
    formats: list[str] = []
    budget_max: str = ""  # "40.00" or "" for no limit
    radius_miles: float = 15.0
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    summary: str = ""  # "Relaxed, Sleepy · not Paranoid · Flower · up to $40"


class RecommendationRead(BaseModel):
    menu_item_id: str
    name: str
    brand: str = ""
    category: str
    category_label: str
    strain: str = ""
    price_text: str = ""
    thc: str = ""
    dispensary_id: str
    dispensary_name: str
    distance_text: str = ""
    lat: float | None = None
    lon: float | None = None
    href: str = ""
    reasons: list[str] = []
    cqi_badge: str = ""
    favourite: bool = False


class RunRead(BaseModel):
    id: str
    when: str
    summary: str
    results: list[str]  # product names


class FavouriteRead(BaseModel):
    id: str
    menu_item_id: str = ""
    name: str
    strain: str = ""
    href: str = ""
    in_stock: bool = False


class ModelRead(BaseModel):
    version: int
    status: str
    hit_rate: str
    coverage: str
    compared_to: str
    when: str


def quiz_summary(wanted: list[str], avoided: list[str], formats: list[str], budget: str) -> str:
    parts = [", ".join(FEELINGS.get(w, w) for w in wanted) or "Any feeling"]
    if avoided:
        parts.append("not " + ", ".join(AVOIDABLE.get(a, a) for a in avoided))
    if formats:
        parts.append(", ".join(FORMATS.get(f, f) for f in formats))
    if budget:
        parts.append(f"up to ${budget}")
    return " · ".join(parts)


__all__ = ["EXPERIENCES", "FORMATS", "FavouriteRead", "ModelRead", "QuizRead", "RecommendationRead", "RunRead",
           "quiz_summary"]
