"""Repeat-purchase prediction on real retail customers (CDNOW master, ../shared/data/customers): who buys again in
the holdout, and how often. Calibration 1997-01-01..1997-09-30, holdout 1997-10-01..1998-06-30; customers split
50/50 at random (seed 42): every model is fitted on one half (calibration features -> holdout outcome) and scored on
the other half. Baselines are measured again in the same run: the recency rule, the RFM rank sum, BG/NBD and
Pareto/NBD fitted by maximum likelihood (icc_app.loyalty.probabilistic), LightGBM on RFM features only; the model
is icc_app.loyalty.churn (LightGBM on richer behaviour features, including the BG/NBD and Pareto/NBD summaries).
Targets: AUC >= 0.78 and holdout purchase-count MAE <= 0.80."""

from __future__ import annotations

import gzip
import random
import time
from datetime import date

import numpy as np
from sklearn.metrics import roc_auc_score

from bench.common import Section
from icc_app.loyalty import churn
from icc_app.loyalty.churn import Purchase
from icc_app.settings import PROJECT_ROOT

DATA = PROJECT_ROOT.parent / "shared" / "data" / "customers" / "cdnow-master.txt.gz"
CALIBRATION_START, CUTOFF, HOLDOUT_END = date(1997, 1, 1), date(1997, 10, 1), date(1998, 6, 30)
AUC_TARGET, MAE_TARGET = 0.78, 0.80


def load() -> list[Purchase]:
    out = []
    with gzip.open(DATA, "rt") as handle:
        next(handle)
        for line in handle:
            customer, day, items, dollars = line.split()
            out.append(Purchase(customer, date(int(day[:4]), int(day[4:6]), int(day[6:])), float(dollars), float(items)))
    return out


def run() -> Section:
    purchases = load()
    customers = sorted({p.customer for p in purchases})
    random.Random(42).shuffle(customers)
    train_half = set(customers[: len(customers) // 2])
    train_p = [p for p in purchases if p.customer in train_half]
    test_p = [p for p in purchases if p.customer not in train_half]
    horizon = (HOLDOUT_END - CUTOFF).days + 1

    started = time.perf_counter()
    prob = churn.fit_probabilistic(train_p, cutoff=CUTOFF, start=CALIBRATION_START)
    fit_seconds = time.perf_counter() - started

    def frame_and_counts(ps):
        frame = churn.build_features(ps, cutoff=CUTOFF, horizon_days=horizon, probabilistic=prob, start=CALIBRATION_START)
        return frame, churn.holdout_counts(ps, frame.customers, start=CUTOFF, end=HOLDOUT_END)

    train_f, train_y = frame_and_counts(train_p)
    test_f, test_y = frame_and_counts(test_p)
    bought = test_y > 0
    started = time.perf_counter()
    rfm_model = churn.train(train_f, train_y, horizon_days=horizon, probabilistic=prob, features=churn.RFM_FEATURES)
    model = churn.train(train_f, train_y, horizon_days=horizon, probabilistic=prob)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predictions = model.predict(test_f)
    predict_ms = (time.perf_counter() - started) * 1000 / max(len(predictions), 1)

    def auc(score) -> float:
        return float(roc_auc_score(bought, score))

    def mae(pred) -> float:
        return float(np.abs(np.asarray(pred) - test_y).mean())

    ours_auc = auc(np.array([p.probability for p in predictions]))
    ours_mae = mae(model.median_counts(test_f))
    rows = [
        ["Recency rule (days since last purchase)", f"{auc(churn.recency_score(test_f)):.3f}", "-"],
        ["RFM rank sum", f"{auc(churn.rfm_rank_score(test_f)):.3f}", "-"],
        ["BG/NBD (expected purchases)", f"{auc(test_f.column('bgnbd_expected')):.3f}",
         f"{mae(test_f.column('bgnbd_expected')):.3f}"],
        ["Pareto/NBD (expected purchases)", f"{auc(test_f.column('pnbd_expected')):.3f}",
         f"{mae(test_f.column('pnbd_expected')):.3f}"],
        ["LightGBM on RFM features", f"{auc(rfm_model.probabilities(test_f)):.3f}",
         f"{mae(rfm_model.median_counts(test_f)):.3f}"],
        ["Always 0 purchases (MAE floor check)", "-", f"{mae(np.zeros_like(test_y)):.3f}"],
        ["**churn model** (LightGBM, behaviour features)", f"**{ours_auc:.3f}**", f"**{ours_mae:.3f}**"],
        ["churn model, expected count (Poisson mean)", "-", f"{mae(model.expected_counts(test_f)):.3f}"],
    ]
    top = list(model.importance.items())[:6]
    named = ", ".join(f"{churn.FEATURE_WORDS[n]} ({n}, {share:.0%})" for n, share in top)
    reason_counts: dict[str, int] = {}
    for p in predictions:
        reason_counts[p.reasons[0].feature] = reason_counts.get(p.reasons[0].feature, 0) + 1
    leading = ", ".join(f"{n} {c:,}" for n, c in sorted(reason_counts.items(), key=lambda t: -t[1])[:4])
    return Section(
        title="Loyalty: repeat-purchase (churn) prediction",
        description=(f"CDNOW master ({len(purchases):,} purchases, {len(customers):,} customers). {__doc__.split('. ', 1)[1]}"
                     f" Trained on {len(train_f.customers):,} customers, evaluated on {len(test_f.customers):,} "
                     f"({bought.mean():.1%} bought again in the holdout). AUC: bought again (any purchase) in the "
                     "holdout; MAE: purchase days in the holdout."),
        headers=["method", "AUC bought again", "holdout count MAE"],
        rows=rows,
        notes=[
            f"Target AUC >= {AUC_TARGET}: {'met' if ours_auc >= AUC_TARGET else 'NOT met'} ({ours_auc:.3f}).",
            f"Target holdout purchase-count MAE <= {MAE_TARGET}: {'met' if ours_mae <= MAE_TARGET else 'NOT met'} "
            f"({ours_mae:.3f}, the model's median count; Pareto/NBD {mae(test_f.column('pnbd_expected')):.3f}).",
            "MAE rewards the median, and most customers buy nothing in the holdout, so predicting 0 for everyone "
            "already scores the 'Always 0' row: the expected-count models (BG/NBD, Pareto/NBD, Poisson LightGBM) "
            "are judged on a loss they do not minimise. We report the median count for the target and the mean too.",
            f"Features that did it (LightGBM gain share): {named}.",
            f"Most common leading reason per customer (pred_contrib): {leading}.",
            f"BG/NBD r={prob.bgnbd.r:.3f} alpha={prob.bgnbd.alpha:.2f} a={prob.bgnbd.a:.3f} b={prob.bgnbd.b:.3f}; "
            f"Pareto/NBD r={prob.pnbd.r:.3f} alpha={prob.pnbd.alpha:.2f} s={prob.pnbd.s:.3f} beta={prob.pnbd.beta:.2f} "
            f"(weeks; fitted in {fit_seconds:.1f} s).",
            f"LightGBM training {train_seconds:.1f} s (both models, 1 thread, including the inner CV); prediction with "
            f"reasons {predict_ms:.3f} ms per customer. Hyper-parameters chosen by 4-fold CV inside the training half; "
            f"the classifier's boosting rounds ({model.classifier_rounds}, at most 300) by 4-fold CV with early stopping "
            "on the training rows at every fit (before: a fixed 300, which overfits a book of this size).",
            "Tried for issue 19 and measured only by 5 x 5-fold CV inside the training half (AUC, paired folds; the "
            "evaluation half was scored once, by this run): fixed 300 rounds 0.7734, rounds by inner CV 0.7748, "
            "fixed 100 rounds 0.7752. None of these raised CV AUC by more than 0.0002 over the same folds' LightGBM "
            "(0.7760 on 2 x 5 folds; several lowered it) and they were left out: "
            "14 more behaviour features (visits in the last 60 days, spend in the last 30, median/longest gap, "
            "time since last visit against the longest gap, days past the usual gap, last gap against the average, "
            "clumpiness, visit trend, share of visits in the last 90 days, weekend share and weekday spread, items "
            "on the first/last visit), a 30-day visit profile, Pareto/NBD P(any visit in the horizon), monotone "
            "constraints, fewer leaves / more min_child_samples / stronger L2 / feature_fraction 0.5, extra trees, "
            "5-seed bagging, rank blends with Pareto/NBD expected visits and with a spline logistic regression, a "
            "Poisson model's ranking, time-shifted training snapshots (cutoffs 1997-07/08/09 added as rows). The "
            "behaviour in this data set is summarised by recency, frequency and the customer's age, which the "
            "features above already carry; we found no honest route to 0.78.",
        ],
    )
