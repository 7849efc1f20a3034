"""Effects and terpenes as numbers the ranking can use: effect shares corrected for how many reviews back them, the
quiz's match score, and terpene similarity to a consumer's favourites. Pure functions (no database).

A strain with two reviews that both say "relaxed" has a raw share of 100%; ranking by raw shares puts such
strains first and hits almost nothing (HR@10 0.0003 on the Leafly reviews). Shrinking each share toward the
catalogue's average by its review count (a Beta prior worth `PRIOR_REVIEWS` reviews) lets a well-reviewed 62%
outrank a two-review 100%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# Feelings a consumer can ask for in the quiz (key -> words shown), and the ones they can ask to avoid.
FEELINGS = {
    "relaxed": "Relaxed", "happy": "Happy", "euphoric": "Euphoric", "uplifted": "Uplifted", "sleepy": "Sleepy",
    "creative": "Creative", "energetic": "Energetic", "focused": "Focused", "giggly": "Giggly",
    "hungry": "Hungry", "talkative": "Talkative", "tingly": "Tingly", "aroused": "Aroused",
}
AVOIDABLE = {
    "paranoid": "Paranoid", "anxious": "Anxious", "dizzy": "Dizzy", "dry_mouth": "Dry mouth",
    "dry_eyes": "Dry eyes", "headache": "Headache", "sleepy": "Sleepy", "hungry": "Hungry",
}
EFFECT_WORDS = {**FEELINGS, **AVOIDABLE}
PRIOR_REVIEWS = 50.0  # strength of the prior, in reviews (chosen on a validation split, see bench/budtender.py)
QUIZ_WEIGHT = 0.1  # effect match against log popularity (0..1 each), chosen the same way


def effect_word(key: str) -> str:
    return EFFECT_WORDS.get(key, key.replace("_", " ").capitalize())


def shrunk_share(share: float, reviews: int, prior: float, strength: float = PRIOR_REVIEWS) -> float:
    """Posterior mean of an effect's share: `reviews` observations at `share` plus `strength` at `prior`."""
    reviews = max(int(reviews), 0)
    return (share * reviews + prior * strength) / (reviews + strength)


def shrunk_matrix(shares: np.ndarray, reviews: np.ndarray, strength: float = PRIOR_REVIEWS) -> np.ndarray:
    """Row-wise `shrunk_share` for an items x effects matrix; the prior is each effect's mean over reviewed items."""
    reviews = np.maximum(np.asarray(reviews, dtype=np.float64), 0)
    known = reviews > 0
    prior = shares[known].mean(axis=0) if known.any() else np.zeros(shares.shape[1])
    weight = np.maximum(reviews[:, None] + strength, 1e-9)
    return (shares * reviews[:, None] + prior[None, :] * strength) / weight


def wilson_lower(share: float, reviews: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson interval of a share: how low it plausibly is, given `reviews` reviews."""
    if reviews <= 0:
        return 0.0
    centre = share + z * z / (2 * reviews)
    spread = z * math.sqrt(share * (1 - share) / reviews + z * z / (4 * reviews * reviews))
    return max(0.0, (centre - spread) / (1 + z * z / reviews))


def quiz_match(shrunk: np.ndarray, columns: Sequence[str], *, wanted: Sequence[str], avoided: Sequence[str] = ()
               ) -> np.ndarray:
    """Per item: mean shrunk share of the wanted feelings minus half the mean of the avoided ones."""
    position = {c: i for i, c in enumerate(columns)}
    want = [position[w] for w in wanted if w in position]
    avoid = [position[a] for a in avoided if a in position and a not in wanted]
    score = shrunk[:, want].mean(axis=1) if want else np.zeros(shrunk.shape[0])
    if avoid:
        score = score - 0.5 * shrunk[:, avoid].mean(axis=1)
    return score


def log_popularity(counts: np.ndarray) -> np.ndarray:
    pop = np.log1p(np.maximum(np.asarray(counts, dtype=np.float64), 0))
    return pop / pop.max() if pop.size and pop.max() > 0 else pop


def quiz_scores(shrunk: np.ndarray, columns: Sequence[str], counts: np.ndarray, *, wanted: Sequence[str],
                avoided: Sequence[str] = (), weight: float = QUIZ_WEIGHT) -> np.ndarray:
    """Cold start: popularity re-ranked by the quiz's effect match (both on a 0..1 scale)."""
    match = quiz_match(shrunk, columns, wanted=wanted, avoided=avoided)
    return log_popularity(counts) + weight * match / max(float(np.abs(match).max()), 1e-9)


def terpene_vector(terpenes: Mapping[str, float] | Sequence[Mapping], names: Sequence[str]) -> np.ndarray:
    """A terpene profile ({name: pct} or [{name, pct}]) as a vector over `names` (unknown names are dropped)."""
    if not isinstance(terpenes, Mapping):
        terpenes = {t.get("name", ""): t.get("pct", 0) for t in terpenes}
    position = {n: i for i, n in enumerate(names)}
    vector = np.zeros(len(names))
    for name, pct in terpenes.items():
        key = normalise_terpene(name)
        if key in position and pct:
            vector[position[key]] += float(pct)
    return vector


def normalise_terpene(name: str) -> str:
    """'beta-Myrcene', 'Myrcene', 'b-myrcene', 'delta-Limonene' -> 'myrcene', 'limonene'."""
    key = name.strip().lower().replace(" ", "-")
    for prefix in ("alpha-", "beta-", "delta-", "gamma-", "trans-", "cis-", "a-", "b-", "d-", "g-", "p-", "3-"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    if key[-2:-1] == "-" and key[-1].isdigit():  # "trans-Nerolidol 1", "trans-Nerolidol 2": two peaks, one terpene
        key = key[:-2]
    return {"caryophyllene-oxide": "caryophyllene_oxide"}.get(key, key)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b) / (na * nb) if na and nb else 0.0


def shared_top_terpenes(item: np.ndarray, favourites: np.ndarray, names: Sequence[str], *, n: int = 2,
                        floor: float = 0.05) -> list[str]:
    """Terpenes high in both the item and the favourites' mean profile (for "high in myrcene and linalool")."""
    both = np.minimum(item / max(float(item.max()), 1e-9), favourites / max(float(favourites.max()), 1e-9))
    order = [i for i in np.argsort(-both) if both[i] > 0 and item[i] >= floor]
    return [names[i] for i in order[:n]]


def terpene_label(key: str) -> str:
    """A terpene as a word in a sentence: 'caryophyllene_oxide' -> 'caryophyllene oxide'."""
    return key.replace("_", " ").replace("-", " ")
