"""The strain reference in the database (budtender_strains) and the in-memory StrainBook the ranking reads.

Filled by `python -m icc_app.cli budtender import-strains` from the public Leafly effect shares (with each strain's
review count from the Leafly reviews) and lab terpene means; the book is cached per process and rebuilt when the
table changes."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from icc_app.budtender import reference
from icc_app.budtender.effects import normalise_terpene
from icc_app.budtender.models import StrainProfile
from icc_app.budtender.ranking import StrainBook

TERPENES = ["myrcene", "limonene", "caryophyllene", "linalool", "pinene", "humulene", "terpinolene", "ocimene",
            "bisabolol", "nerolidol", "eucalyptol", "geraniol", "guaiol", "camphene", "carene", "terpinene",
            "cymene", "caryophyllene_oxide", "isopulegol"]
_cache: dict[str, tuple[tuple, StrainBook]] = {}
_lock = threading.Lock()


def import_reference(session: Session, *, effects_csv: Path, reviews_gz: Path | None = None,
                     terpenes_dir: Path | None = None) -> int:
    """Upsert every strain of the reference files; returns how many rows were written."""
    strains = reference.read_strain_effects(effects_csv)
    if reviews_gz is not None and reviews_gz.exists():
        reference.attach_review_counts(strains, reference.review_events(reviews_gz))
    lab = reference.read_lab_terpenes(terpenes_dir) if terpenes_dir is not None and terpenes_dir.exists() else {}
    existing = {s.key: s for s in session.exec(select(StrainProfile))}
    for s in strains:
        row = existing.get(s.key) or StrainProfile(key=s.key, name=s.name)
        row.name, row.strain_type, row.thc_level = s.name, s.strain_type, s.thc_level
        row.dominant_terpene, row.effects, row.review_count = s.dominant_terpene, s.shares, s.reviews
        row.terpenes = lab.get(s.key, row.terpenes or {})
        session.add(row)
    session.flush()
    return len(strains)


def add_strain(session: Session, *, name: str, effects: dict[str, float], review_count: int,
               terpenes: dict[str, float] | None = None, strain_type: str | None = None) -> StrainProfile:
    """One strain by hand (tests, a lab's own data)."""
    row = StrainProfile(key=reference.strain_key(name), name=name, effects=effects, review_count=review_count,
                        terpenes={normalise_terpene(k): v for k, v in (terpenes or {}).items()},
                        strain_type=strain_type)
    session.add(row)
    session.flush()
    return row


def book(session: Session, popularity: dict[str, float] | None = None) -> StrainBook:
    """Every strain as a StrainBook (cached until the table changes)."""
    stamp = tuple(session.exec(select(sa.func.count(col(StrainProfile.id)), sa.func.max(StrainProfile.updated_at))).one())
    with _lock:
        cached = _cache.get("book")
        if cached is None or cached[0] != stamp:
            rows = list(session.exec(select(StrainProfile).order_by(col(StrainProfile.key))))
            _cache["book"] = (stamp, build_book(rows))
        result = _cache["book"][1]
    if popularity:
        result.popularity = np.array([popularity.get(k, 0.0) for k in result.keys])
    return result


def build_book(rows: list[StrainProfile]) -> StrainBook:
    columns = sorted({c for r in rows for c in r.effects})
    shares = np.array([[float(r.effects.get(c, 0.0)) for c in columns] for r in rows]).reshape(len(rows), len(columns))
    terpenes = np.array([[float(r.terpenes.get(t, 0.0)) for t in TERPENES] for r in rows]).reshape(len(rows), len(TERPENES))
    for i, r in enumerate(rows):  # a strain known only by its dominant terpene still has a profile
        if not terpenes[i].any() and r.dominant_terpene in TERPENES:
            terpenes[i, TERPENES.index(r.dominant_terpene)] = 1.0
    return StrainBook(keys=[r.key for r in rows], names=[r.name for r in rows], columns=columns, shares=shares,
                      reviews=np.array([r.review_count for r in rows], dtype=np.float64),
                      terpene_names=list(TERPENES), terpenes=terpenes,
                      popularity=np.array([r.review_count for r in rows], dtype=np.float64))
