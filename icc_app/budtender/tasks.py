"""IVB tasks: the nightly retrain (evaluate offline, promote only a model at least as good as the serving one).
Safe to run twice: a second run trains a new version that the gate compares like any other."""

from __future__ import annotations

from pathlib import Path

from icc_app.core.db import unit_of_work
from icc_app.settings import PROJECT_ROOT
from workers.celery_app import celery_app

REFERENCE_REVIEWS = PROJECT_ROOT.parent / "shared" / "data" / "reviews" / "leafly-reviews.csv.gz"


@celery_app.task(name="budtender.retrain", soft_time_limit=900, time_limit=1000)
def retrain(reference_reviews: str | None = None) -> dict:
    """Retrain on consumers' and widgets' feedback (plus the reference reviews when present)."""
    from icc_app.budtender import training

    path = Path(reference_reviews) if reference_reviews else REFERENCE_REVIEWS
    with unit_of_work() as session:
        row = training.retrain(session, reference_reviews=path if path.exists() else None)
        return {"version": row.version, "status": row.status, "metrics": row.metrics, "compared_to": row.compared_to}
