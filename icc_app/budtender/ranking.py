"""Ranking one request's candidates: in-stock menu items (already limited to the consumer's radius or the widget's
store by the caller) scored by the trained model, the quiz, and terpene similarity, each with the reasons that
produced it. Pure: the service loads rows into `Candidate`s and a `StrainBook`; the benchmark builds them in
memory, so the request path it times is this one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from icc_app.budtender import effects
from icc_app.budtender.recommender import HybridModel
from icc_app.budtender.reference import strain_key

EXPERIENCES = {"new": "New to cannabis", "occasional": "Now and then", "regular": "Regular"}
BEGINNER_MAX_THC = 20.0  # % THC above which a product is marked down for someone new to cannabis
SAME_STRAIN_LIMIT = 2  # at most this many results of one strain, so a list is not ten jars of Blue Dream


@dataclass
class StrainBook:
    """What is known about strains, aligned by key: effect shares, their review counts, terpene profiles."""

    keys: list[str]
    names: list[str]
    columns: list[str]  # effect keys of `shares`
    shares: np.ndarray  # strains x effects, 0..1
    reviews: np.ndarray  # reviews behind each strain's shares
    terpene_names: list[str]
    terpenes: np.ndarray  # strains x terpenes, % by weight (0 when unknown)
    popularity: np.ndarray | None = None  # users per strain, for cold start

    def __post_init__(self) -> None:
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.shrunk = effects.shrunk_matrix(self.shares, self.reviews) if len(self.keys) else self.shares
        self._column = {c: i for i, c in enumerate(self.columns)}
        reviewed = self.reviews > 0
        self.average = self.shares[reviewed].mean(axis=0) if reviewed.any() else np.zeros(len(self.columns))

    def above_average(self, effect: str, share: float) -> bool:
        """A share worth quoting as a reason: above the catalogue's average for that effect."""
        c = self._column.get(effect)
        return c is not None and share > float(self.average[c])

    def share(self, key: str, effect: str) -> tuple[float, int] | None:
        i, c = self.index.get(key), self._column.get(effect)
        if i is None or c is None or self.reviews[i] <= 0:
            return None
        return float(self.shares[i, c]), int(self.reviews[i])

    def name(self, key: str) -> str:
        i = self.index.get(key)
        return self.names[i] if i is not None else key


@dataclass
class Candidate:
    item_id: str
    name: str
    category: str
    strain_name: str | None
    in_stock_qty: int
    is_active: bool = True
    price: Decimal | None = None
    thc_max: float | None = None
    thc_unit: str = "%"
    terpenes: list[dict] = field(default_factory=list)
    dispensary_id: str = ""
    dispensary_name: str = ""
    distance_miles: float | None = None
    cqi_badge: str | None = None  # e.g. "CQI 87 (Gold)" when the item's lot is scored
    review_count: int = 0  # the product's own ICC reviews
    review_effects: dict = field(default_factory=dict)  # effect -> share (ReviewSummary.effects)

    @property
    def strain(self) -> str:
        return strain_key(self.strain_name)


@dataclass
class Profile:
    wanted: list[str] = field(default_factory=list)
    avoided: list[str] = field(default_factory=list)
    experience: str = "occasional"
    formats: list[str] = field(default_factory=list)  # menu categories; empty: any
    budget_max: Decimal | None = None


@dataclass
class Ranked:
    candidate: Candidate
    score: float
    reasons: list[str]


def in_stock(candidates: Sequence[Candidate], profile: Profile) -> list[Candidate]:
    """The hard filter: in stock, active, of a wanted format, within budget."""
    formats = {f.lower() for f in profile.formats}
    return [c for c in candidates if c.in_stock_qty > 0 and c.is_active
            and (not formats or c.category.lower() in formats)
            and (profile.budget_max is None or c.price is None or c.price <= profile.budget_max)]


def _percent(share: float) -> str:
    return f"{round(share * 100)}%"


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def rank(candidates: Sequence[Candidate], *, book: StrainBook, profile: Profile, model: HybridModel | None = None,
         history: Sequence[str] = (), favourite_terpenes: np.ndarray | None = None, limit: int = 10
         ) -> list[Ranked]:
    """The best `limit` in-stock candidates, best first, each with its reasons (never an item out of stock)."""
    pool = in_stock(candidates, profile)
    if not pool:
        return []
    history = [h for h in history if h]
    strain_scores = None
    if model is not None and history and any(h in model.index for h in history):
        raw = model.scores(history)
        finite = raw[np.isfinite(raw)]
        strain_scores = (raw, float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    popularity = effects.log_popularity(book.popularity) if book.popularity is not None else None
    has_quiz = bool(profile.wanted or profile.avoided)
    match = (effects.quiz_match(book.shrunk, book.columns, wanted=profile.wanted, avoided=profile.avoided)
             if has_quiz and len(book.keys) else None)
    match_scale = max(float(np.abs(match).max()), 1e-9) if match is not None else 1.0
    fav = favourite_terpenes if favourite_terpenes is not None and favourite_terpenes.any() else None

    scored = []
    for c in pool:
        key = c.strain
        i = book.index.get(key)
        score = 0.0
        if strain_scores is not None and model is not None and key in model.index:
            value = strain_scores[0][model.index[key]]
            score += float(value) / strain_scores[1] if np.isfinite(value) else -0.5  # already liked: lower
        if popularity is not None and i is not None:
            score += 0.3 * float(popularity[i])
        if match is not None:
            if i is not None:
                score += effects.QUIZ_WEIGHT * 10 * float(match[i]) / match_scale
            elif c.review_count:
                own = np.array([[c.review_effects.get(col, 0.0) for col in book.columns]])
                shrunk = effects.shrunk_matrix(np.vstack([book.shares, own]),
                                               np.append(book.reviews, c.review_count))[-1:]
                own_match = effects.quiz_match(shrunk, book.columns, wanted=profile.wanted, avoided=profile.avoided)
                score += effects.QUIZ_WEIGHT * 10 * float(own_match[0]) / match_scale
        terpene_vector = effects.terpene_vector(c.terpenes, book.terpene_names)
        if not terpene_vector.any() and i is not None:
            terpene_vector = book.terpenes[i]
        if fav is not None:
            score += 0.3 * effects.cosine(terpene_vector, fav)
        if profile.experience == "new" and c.thc_unit == "%" and (c.thc_max or 0) > BEGINNER_MAX_THC:
            score -= 0.3
        scored.append((score, c, terpene_vector))

    scored.sort(key=lambda t: (-t[0], t[1].price if t[1].price is not None else Decimal("1e9"), t[1].item_id))
    results, per_strain = [], {}
    for score, c, terpene_vector in scored:
        key = c.strain or c.item_id
        if per_strain.get(key, 0) >= SAME_STRAIN_LIMIT:
            continue
        per_strain[key] = per_strain.get(key, 0) + 1
        results.append(Ranked(candidate=c, score=round(score, 4),
                              reasons=explain(c, book=book, profile=profile, model=model, history=history,
                                              favourite_terpenes=fav, terpene_vector=terpene_vector)))
        if len(results) >= limit:
            break
    return results


def explain(c: Candidate, *, book: StrainBook, profile: Profile, model: HybridModel | None, history: Sequence[str],
            favourite_terpenes: np.ndarray | None, terpene_vector: np.ndarray) -> list[str]:
    """Reasons built only from the inputs that scored the item; no reason is shown without its evidence."""
    reasons = []
    if model is not None and history:
        liked = model.because_of(history, c.strain)
        if liked:
            reasons.append(f"Because you liked {book.name(liked)}")
    if favourite_terpenes is not None:
        shared = effects.shared_top_terpenes(terpene_vector, favourite_terpenes, book.terpene_names)
        if shared:
            reasons.append(f"High in {_and([effects.terpene_label(t) for t in shared])}, like your favourites")
    best = None
    for feeling in profile.wanted:
        fact = book.share(c.strain, feeling)
        if fact is None and c.review_count and feeling in c.review_effects:
            fact = (float(c.review_effects[feeling]), c.review_count)
        if fact and book.above_average(feeling, fact[0]) and (best is None or effects.shrunk_share(fact[0], fact[1], 0.3)
                                     > effects.shrunk_share(best[1][0], best[1][1], 0.3)):
            best = (feeling, fact)
    if best:
        feeling, (share, count) = best
        noun = "review" if count == 1 else "reviews"
        reasons.append(f"Reviewers report {effects.effect_word(feeling).lower()} {_percent(share)} of the time "
                       f"({count:,} {noun})")
    if c.cqi_badge:
        reasons.append(c.cqi_badge)
    return reasons
