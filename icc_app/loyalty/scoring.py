"""The nightly scoring of a business's customers: RFM, the built-in segment, and the churn model's chance of buying
again in the next HORIZON_DAYS with its reasons.

The model is the business's own when it has enough history (churn.has_enough_history on the last complete
horizon), else the pooled model trained on every business's purchases (customer keys are opaque ids; only
behaviour features leave a business, never PII), else none (the console then shows the recency rule alone). Each
run keeps how the model ranked customers it did not train on next to the recency rule and RFM (ModelRun).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from sqlmodel import Session, col, select

from icc_app.core.models import utcnow
from icc_app.identity.models import Business
from icc_app.integrations.models import Sale
from icc_app.loyalty import churn, rules, segments
from icc_app.loyalty.models import Customer, CustomerLink, CustomerScore, ModelRun

HORIZON_DAYS = 90
EVALUATION_SHARE = 0.3  # customers kept out of training to compare the model with the recency rule and RFM


def purchases_of(session: Session, *, business_id: uuid.UUID) -> list[churn.Purchase]:
    """The business's POS sales joined to its loyalty customers (returns and voids left out), by local day."""
    business = session.get(Business, business_id)
    tz = rules.zone(business.timezone if business else None)
    rows = session.exec(select(CustomerLink.customer_id, Sale.occurred_at, Sale.total)
                        .join(CustomerLink, (col(CustomerLink.external_ref) == Sale.customer_ref)
                              & (col(CustomerLink.business_id) == Sale.business_id))
                        .where(Sale.business_id == business_id, Sale.is_void.is_(False),
                               Sale.is_return.is_(False))).all()
    return [churn.Purchase(str(cid), at.astimezone(tz).date(), float(total)) for cid, at, total in rows]


def _held_out(customer: str) -> bool:
    return int(hashlib.sha256(customer.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < EVALUATION_SHARE


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if len(set(y.tolist())) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def train(purchases: list[churn.Purchase], *, today: date, trained_on: str):
    """(model, run metrics) or (None, metrics) when there is too little history."""
    cutoff = today - timedelta(days=HORIZON_DAYS)
    if not any(p.day < cutoff for p in purchases):
        return None, {"customers": 0, "positives": 0}
    prob = churn.fit_probabilistic(purchases, cutoff=cutoff)
    frame = churn.build_features(purchases, cutoff=cutoff, horizon_days=HORIZON_DAYS, probabilistic=prob)
    counts = churn.holdout_counts(purchases, frame.customers, start=cutoff, end=today - timedelta(days=1))
    metrics = {"customers": len(frame.customers), "positives": int((counts > 0).sum())}
    if not churn.has_enough_history(frame, counts):
        return None, metrics
    held = np.array([_held_out(c) for c in frame.customers])
    fit_rows = np.where(~held)[0]
    model = churn.train(frame.subset(fit_rows), counts[fit_rows], horizon_days=HORIZON_DAYS, probabilistic=prob,
                        trained_on=trained_on)
    test = frame.subset(np.where(held)[0])
    y = counts[held] > 0
    if len(test.customers):
        metrics.update(auc_model=_auc(y, model.probabilities(test)), auc_recency=_auc(y, churn.recency_score(test)),
                       auc_rfm=_auc(y, churn.rfm_rank_score(test)))
    return model, metrics


_POOLED: dict[tuple[date, int], tuple] = {}


def pooled_model(session: Session, *, today: date):
    """Trained once per day per process on every business's purchases (customer keys prefixed by business)."""
    pooled: list[churn.Purchase] = []
    for business_id in session.exec(select(CustomerLink.business_id).distinct()).all():
        pooled += [churn.Purchase(f"{business_id}:{p.customer}", p.day, p.amount)
                   for p in purchases_of(session, business_id=business_id)]
    key = (today, len(pooled))
    if key not in _POOLED:
        _POOLED.clear()
        _POOLED[key] = train(pooled, today=today, trained_on="pooled")
    return _POOLED[key]


def compute(session: Session, *, business_id: uuid.UUID, today: date | None = None) -> ModelRun:
    """Scores every customer of the business and snapshots segment counts. Idempotent for a day."""
    today = today or utcnow().date()
    purchases = purchases_of(session, business_id=business_id)
    model, metrics = train(purchases, today=today, trained_on="own")
    trained_on = "own"
    if model is None:
        model, pooled_metrics = pooled_model(session, today=today)
        trained_on = "pooled" if model is not None else "none"
        if model is not None:
            metrics = {**pooled_metrics, "customers": metrics["customers"], "positives": metrics["positives"]}
    by_customer: dict[str, list[churn.Purchase]] = defaultdict(list)
    for p in purchases:
        by_customer[p.customer].append(p)
    predictions: dict[str, churn.Prediction] = {}
    if model is not None and purchases:
        scored = [p for p in purchases if p.day < today]
        if trained_on == "pooled":  # the pooled model's own probabilistic fit; our keys as they are
            frame = churn.build_features(scored, cutoff=today, horizon_days=HORIZON_DAYS,
                                         probabilistic=model.probabilistic)
            predictions = {p.customer: p for p in model.predict(frame)}
        else:
            predictions = {p.customer: p for p in churn.score_today(model, scored, today=today)}
    customers = session.exec(select(Customer).where(Customer.business_id == business_id)).all()
    visits = {c: _visits(ps) for c, ps in by_customer.items()}
    year_spend = {c: sum((v.amount for v in vs if (today - v.day).days <= 365), Decimal("0")) for c, vs in visits.items()}
    cut = segments.high_value_cut(list(year_spend.values()))
    keys = [str(c.id) for c in customers]
    recency = [float((today - visits[k][-1].day).days) if visits.get(k) else 9999.0 for k in keys]
    frequency = [float(sum(1 for v in visits.get(k, []) if (today - v.day).days <= 365)) for k in keys]
    monetary = [float(year_spend.get(k, 0)) for k in keys]
    r_q = segments.quintiles([-r for r in recency])
    f_q, m_q = segments.quintiles(frequency), segments.quintiles(monetary)
    existing = {s.customer_id: s for s in session.exec(select(CustomerScore)
                                                       .where(CustomerScore.business_id == business_id)).all()}
    now = utcnow()
    for i, customer in enumerate(customers):
        key = keys[i]
        vs = visits.get(key, [])
        score = existing.get(customer.id) or CustomerScore(business_id=business_id, customer_id=customer.id)
        score.segment = segments.label(vs, today=today, high_value_cut=cut)
        score.recency_days = int(recency[i]) if vs else 0
        score.frequency, score.monetary = int(frequency[i]), Decimal(str(round(monetary[i], 2)))
        score.rfm_score = r_q[i] + f_q[i] + m_q[i] if vs else 0
        prediction = predictions.get(key)
        score.buy_again_probability = round(prediction.probability, 4) if prediction else None
        score.reasons = [{"feature": r.feature, "words": r.words, "value": round(r.value, 2),
                          "contribution": round(r.contribution, 3)} for r in prediction.reasons] if prediction else []
        score.recency_rule_probability = _recency_rule(score.recency_days) if vs else None
        score.model = trained_on if prediction else "none"
        score.computed_at = now
        session.add(score)
    run = ModelRun(business_id=business_id, trained_on=trained_on, horizon_days=HORIZON_DAYS,
                   customers=metrics.get("customers", 0), positives=metrics.get("positives", 0),
                   auc_model=metrics.get("auc_model"), auc_recency=metrics.get("auc_recency"),
                   auc_rfm=metrics.get("auc_rfm"), importance=dict(list(model.importance.items())[:8]) if model else {})
    session.add(run)
    session.flush()
    segments.snapshot(session, business_id=business_id, today=today)
    return run


def _visits(purchases: list[churn.Purchase]) -> list[segments.Visit]:
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for p in purchases:
        per_day[p.day] += Decimal(str(p.amount))
    return [segments.Visit(d, a) for d, a in sorted(per_day.items())]


def _recency_rule(recency_days: int) -> float:
    """The plain rule the model is compared with: the more recent, the likelier (a 60-day half-life)."""
    return round(0.5 ** (recency_days / 60), 4)


def latest_run(session: Session, *, business_id: uuid.UUID) -> ModelRun | None:
    return session.exec(select(ModelRun).where(ModelRun.business_id == business_id)
                        .order_by(col(ModelRun.created_at).desc())).first()
