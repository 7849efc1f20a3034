"""Reading the public reference data the budtender starts from: Leafly strain effect shares, Leafly reviews
(pseudonymised users, for collaborative filtering) and lab terpene measurements. Paths are given by the caller
(the CLI and the benchmark point at ../shared/data); nothing here touches the database."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from icc_app.budtender.effects import normalise_terpene
from icc_app.budtender.recommender import Event

csv.field_size_limit(10_000_000)


def strain_key(name: str | None) -> str:
    """'Grandma's Sugar Cookies' -> 'grandmas-sugar-cookies' (Leafly's slugs; menu strain names map the same way)."""
    if not name:
        return ""
    text = str(name).lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass
class StrainReference:
    key: str
    name: str
    strain_type: str | None
    thc_level: float | None
    dominant_terpene: str | None
    shares: dict[str, float] = field(default_factory=dict)  # effect -> share of reviewers (0..1)
    terpenes: dict[str, float] = field(default_factory=dict)  # terpene -> mean % by weight in lab results
    reviews: int = 0  # reviews behind the shares
    alias: str | None = None  # the slug in Leafly's image URL, when it differs


def _percent(value: str | None) -> float | None:
    try:
        return float(str(value).strip().rstrip("%")) / 100.0
    except (TypeError, ValueError):
        return None


def read_strain_effects(path: Path) -> list[StrainReference]:
    """leafly-strain-effects.csv: one row per strain, effect columns as 'NN%'."""
    strains, seen = [], set()
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        effect_columns = reader.fieldnames[6:] if reader.fieldnames else []
        for row in reader:
            key = strain_key(row.get("name"))
            if not key or key in seen:
                continue
            seen.add(key)
            shares = {c: v for c in effect_columns if (v := _percent(row.get(c))) is not None and v > 0}
            match = re.search(r"flower-images/([^./]+)\.", row.get("img_url") or "")
            terpene = (row.get("most_common_terpene") or "").strip()
            strains.append(StrainReference(
                key=key, name=row["name"].strip(), strain_type=(row.get("type") or "").strip().lower() or None,
                thc_level=(_percent(row.get("thc_level")) or 0) * 100 or None,
                dominant_terpene=normalise_terpene(terpene) if terpene and terpene.lower() != "nan" else None,
                shares=shares, alias=match.group(1) if match and match.group(1) != key else None))
    return strains


def read_reviews(path: Path) -> Iterator[tuple[int, str, str]]:
    """(review_id, user, strain_slug) of leafly-reviews.csv.gz."""
    with gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            try:
                yield int(row["review_id"]), row["user"], row["strain_slug"]
            except (KeyError, ValueError):
                continue


def review_events(path: Path) -> list[Event]:
    return [Event(user=user, item=slug, order=review_id) for review_id, user, slug in read_reviews(path)]


def attach_review_counts(strains: list[StrainReference], events: list[Event]) -> None:
    """Each strain's review count (the weight of its effect shares), matched by slug or image alias."""
    counts = Counter(e.item for e in events)
    for strain in strains:
        strain.reviews = counts.get(strain.key, 0) or counts.get(strain.alias or "", 0)


def read_lab_terpenes(folder: Path) -> dict[str, dict[str, float]]:
    """Mean terpene % per strain name key over the lab results in `folder` (*-results.csv), flower only."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    seen: Counter = Counter()
    for path in sorted(folder.glob("*results.csv")):
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.DictReader(handle)
            columns = [c for c in reader.fieldnames or [] if c and c[0].isalpha() and "THC" not in c
                       and "CB" not in c and c not in {"Test Result UID", "Sample Name", "Sample Type",
                                                       "Receipt Time", "Test Time", "Provider", "Moisture Content"}]
            for row in reader:
                if "flower" not in (row.get("Sample Type") or "").lower():
                    continue
                key = strain_key(re.sub(r"\(.*?\)|#\S+", "", row.get("Sample Name") or ""))
                if not key:
                    continue
                seen[key] += 1
                for column in columns:
                    try:
                        value = float(row.get(column) or 0)
                    except ValueError:
                        continue
                    if value > 0:
                        sums[key][normalise_terpene(column)] += value
    return {key: {t: round(v / seen[key], 4) for t, v in terps.items()} for key, terps in sums.items()}
