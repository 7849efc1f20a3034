"""Who will buy again: the probability that a customer makes another purchase in the next period, with reasons.

Pure (no database): the service hands in purchases (customer key, day, amount, items) and gets back one
prediction per customer. Features are general behaviour summaries computed at a cutoff date from purchases before
it: recency, frequency, spend and its trend, inter-purchase time statistics, time since the first purchase, recent
activity windows, and the BG/NBD and Pareto/NBD summaries (P(alive), expected purchases over the horizon). A
LightGBM classifier learns P(buys again within the horizon), with its number of boosting rounds chosen by k-fold CV
on the training rows (early stopping), and a Poisson LightGBM the expected number of purchase days; LightGBM's
per-row feature contributions (SHAP values) are the reasons shown to the operator.

Training needs labels, so a model is trained on an earlier cutoff (features before it, purchases in the horizon
after it as the label) and applied at today's cutoff. A business with too little history gets the pooled model
trained on every business's anonymous features (`ChurnModel.trained_on` says which).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from icc_app.loyalty.probabilistic import BgNbd, ParetoNbd, fit_bgnbd, fit_pareto_nbd

MIN_CUSTOMERS_FOR_OWN_MODEL = 400  # below this (or with too few repeat buyers) a business uses the pooled model
MIN_POSITIVES_FOR_OWN_MODEL = 60


@dataclass(frozen=True)
class Purchase:
    customer: str
    day: date
    amount: float
    items: float = 1.0


FEATURE_WORDS: dict[str, str] = {
    "recency_days": "days since the last purchase",
    "age_days": "days since the first purchase",
    "purchase_days": "days with a purchase",
    "rate_per_month": "purchase days per month",
    "total_spend": "total spend",
    "mean_spend": "average spend per visit",
    "max_spend": "largest visit",
    "last_spend": "spend on the last visit",
    "spend_trend": "last visit against the average",
    "spend_slope": "spend trend across visits",
    "mean_items": "items per visit",
    "ipt_mean": "average days between visits",
    "ipt_std": "variation of days between visits",
    "ipt_last": "days between the last two visits",
    "ipt_min": "shortest gap between visits",
    "overdue_ratio": "time since last visit against the usual gap",
    "visits_30d": "visits in the last 30 days",
    "visits_90d": "visits in the last 90 days",
    "spend_90d": "spend in the last 90 days",
    "first_spend": "spend on the first visit",
    "visits_180d": "visits in the last 180 days",
    "spend_180d": "spend in the last 180 days",
    "active_months": "months with a visit",
    "tickets_per_visit": "tickets per visit day",
    "ipt_first": "days between the first two visits",
    "early_visits": "visits in the first 60 days",
    "price_per_item": "average price per item",
    "total_items": "items bought",
    "spend_std": "variation of spend per visit",
    "bgnbd_p_alive": "BG/NBD chance still active",
    "bgnbd_expected": "BG/NBD expected visits",
    "pnbd_p_alive": "Pareto/NBD chance still active",
    "pnbd_expected": "Pareto/NBD expected visits",
}
RFM_FEATURES = ["recency_days", "purchase_days", "mean_spend", "age_days"]
FEATURES = list(FEATURE_WORDS)


@dataclass
class FeatureFrame:
    customers: list[str]
    names: list[str]
    values: np.ndarray  # customers x names; NaN where undefined (e.g. gaps of one-visit customers)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def subset(self, rows: np.ndarray) -> FeatureFrame:
        return FeatureFrame([self.customers[i] for i in rows], self.names, self.values[rows])


def _visits(purchases: Iterable[Purchase], start: date | None, cutoff: date) -> dict[str, list[tuple]]:
    """Purchases before the cutoff, aggregated per customer per day (several tickets a day are one visit)."""
    days: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    for p in purchases:
        if p.day < cutoff and (start is None or p.day >= start):
            cell = days[p.customer][p.day]
            cell[0] += p.amount
            cell[1] += p.items
            cell[2] += 1
    return {c: sorted((d, v[0], v[1], v[2]) for d, v in per_day.items()) for c, per_day in days.items()}


def rfm_summary(visits: dict[str, list[tuple]], customers: Sequence[str], cutoff: date):
    """x (repeat visit days), t_x, T in weeks, for the probabilistic models."""
    x = np.zeros(len(customers))
    t_x = np.zeros(len(customers))
    T = np.zeros(len(customers))
    for i, c in enumerate(customers):
        v = visits[c]
        x[i] = len(v) - 1
        t_x[i] = (v[-1][0] - v[0][0]).days / 7.0
        T[i] = (cutoff - v[0][0]).days / 7.0
    return x, t_x, T


@dataclass
class Probabilistic:
    bgnbd: BgNbd
    pnbd: ParetoNbd


def fit_probabilistic(purchases: Iterable[Purchase], *, cutoff: date, start: date | None = None) -> Probabilistic:
    visits = _visits(purchases, start, cutoff)
    customers = sorted(visits)
    x, t_x, T = rfm_summary(visits, customers, cutoff)
    return Probabilistic(bgnbd=fit_bgnbd(x, t_x, T), pnbd=fit_pareto_nbd(x, t_x, T))


def build_features(purchases: Iterable[Purchase], *, cutoff: date, horizon_days: int,
                   probabilistic: Probabilistic | None, start: date | None = None,
                   customers: Sequence[str] | None = None) -> FeatureFrame:
    """One row per customer with a purchase before the cutoff (or the given customers, in that order)."""
    visits = _visits(purchases, start, cutoff)
    keys = [c for c in (customers if customers is not None else sorted(visits)) if c in visits]
    rows = np.full((len(keys), len(FEATURES)), np.nan)
    col = {n: i for i, n in enumerate(FEATURES)}
    for r, c in enumerate(keys):
        v = visits[c]
        days = np.array([(cutoff - e[0]).days for e in v], dtype=float)  # days before cutoff, descending
        spend = np.array([e[1] for e in v])
        items = np.array([e[2] for e in v])
        n = len(v)
        row = rows[r]
        row[col["recency_days"]] = days[-1]
        row[col["age_days"]] = days[0]
        row[col["purchase_days"]] = n
        row[col["rate_per_month"]] = n / max(days[0], 1.0) * 30.0
        row[col["total_spend"]] = spend.sum()
        row[col["mean_spend"]] = spend.mean()
        row[col["max_spend"]] = spend.max()
        row[col["last_spend"]] = spend[-1]
        row[col["first_spend"]] = spend[0]
        row[col["spend_trend"]] = spend[-1] / spend.mean() if spend.mean() > 0 else 1.0
        row[col["mean_items"]] = items.mean()
        row[col["visits_30d"]] = float((days < 30).sum())
        row[col["visits_90d"]] = float((days < 90).sum())
        row[col["spend_90d"]] = float(spend[days < 90].sum())
        row[col["visits_180d"]] = float((days < 180).sum())
        row[col["spend_180d"]] = float(spend[days < 180].sum())
        row[col["active_months"]] = float(len({(e[0].year, e[0].month) for e in v}))
        row[col["tickets_per_visit"]] = sum(e[3] for e in v) / n
        row[col["early_visits"]] = float((days > days[0] - 60).sum())
        row[col["total_items"]] = items.sum()
        row[col["price_per_item"]] = spend.sum() / items.sum() if items.sum() > 0 else np.nan
        row[col["spend_std"]] = spend.std()
        if n >= 2:
            gaps = -np.diff(days)
            row[col["ipt_mean"]] = gaps.mean()
            row[col["ipt_std"]] = gaps.std()
            row[col["ipt_last"]] = gaps[-1]
            row[col["ipt_min"]] = gaps.min()
            row[col["ipt_first"]] = gaps[0]
            row[col["overdue_ratio"]] = days[-1] / max(gaps.mean(), 1.0)
            row[col["spend_slope"]] = np.polyfit(np.arange(n), spend, 1)[0] / max(spend.mean(), 1e-9) if n >= 3 else np.nan
    if probabilistic is not None and keys:
        x, t_x, T = rfm_summary(visits, keys, cutoff)
        horizon = horizon_days / 7.0
        rows[:, col["bgnbd_p_alive"]] = probabilistic.bgnbd.p_alive(x, t_x, T)
        rows[:, col["bgnbd_expected"]] = probabilistic.bgnbd.expected(horizon, x, t_x, T)
        rows[:, col["pnbd_p_alive"]] = probabilistic.pnbd.p_alive(x, t_x, T)
        rows[:, col["pnbd_expected"]] = probabilistic.pnbd.expected(horizon, x, t_x, T)
    return FeatureFrame(keys, list(FEATURES), rows)


def holdout_counts(purchases: Iterable[Purchase], customers: Sequence[str], *, start: date, end: date) -> np.ndarray:
    """Purchase days per customer in [start, end] (the label: > 0 means bought again)."""
    seen: dict[str, set[date]] = defaultdict(set)
    for p in purchases:
        if start <= p.day <= end:
            seen[p.customer].add(p.day)
    return np.array([len(seen.get(c, ())) for c in customers], dtype=float)


# Simple scores the model must beat (higher = more likely to buy again).
def recency_score(frame: FeatureFrame) -> np.ndarray:
    return -frame.column("recency_days")


def rfm_rank_score(frame: FeatureFrame) -> np.ndarray:
    from scipy.stats import rankdata

    return (rankdata(-frame.column("recency_days")) + rankdata(frame.column("purchase_days"))
            + rankdata(frame.column("mean_spend")))


@dataclass(frozen=True)
class Reason:
    feature: str
    words: str
    value: float
    contribution: float  # log-odds pushed up (+) or down (-)


@dataclass(frozen=True)
class Prediction:
    customer: str
    probability: float
    expected_purchases: float
    reasons: list[Reason]


# Chosen by 4-fold cross-validation inside the training half of the benchmark (never on the evaluation half).
CLASSIFIER_PARAMS = {"objective": "binary", "learning_rate": 0.02, "num_leaves": 7, "min_child_samples": 100,
                     "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
                     "verbose": -1, "num_threads": 1, "seed": 7}
COUNT_PARAMS = {**CLASSIFIER_PARAMS, "objective": "poisson"}
MEDIAN_PARAMS = {**CLASSIFIER_PARAMS, "objective": "quantile", "alpha": 0.5}  # the count an MAE rewards


@dataclass
class ChurnModel:
    names: list[str]
    classifier: object
    counter: object
    median: object
    probabilistic: Probabilistic | None
    horizon_days: int
    trained_on: str = "own"  # "own" (this business) or "pooled"
    importance: dict[str, float] = field(default_factory=dict)
    classifier_rounds: int = 0  # boosting rounds of the classifier (chosen by inner CV in `train`)

    def predict(self, frame: FeatureFrame, *, reasons: int = 3) -> list[Prediction]:
        if not frame.customers:
            return []
        cols = [frame.names.index(n) for n in self.names]
        X = frame.values[:, cols]
        prob = self.classifier.predict(X)
        count = self.counter.predict(X)
        contrib = self.classifier.predict(X, pred_contrib=True)[:, :-1]
        out = []
        for i, c in enumerate(frame.customers):
            top = np.argsort(-np.abs(contrib[i]))[:reasons]
            out.append(Prediction(c, float(prob[i]), float(count[i]), [
                Reason(self.names[j], FEATURE_WORDS.get(self.names[j], self.names[j]), float(X[i, j]),
                       float(contrib[i, j])) for j in top]))
        return out

    def probabilities(self, frame: FeatureFrame) -> np.ndarray:
        cols = [frame.names.index(n) for n in self.names]
        return self.classifier.predict(frame.values[:, cols])

    def expected_counts(self, frame: FeatureFrame) -> np.ndarray:
        cols = [frame.names.index(n) for n in self.names]
        return self.counter.predict(frame.values[:, cols])

    def median_counts(self, frame: FeatureFrame) -> np.ndarray:
        """The most typical number of purchase days (the conditional median): what minimises absolute error."""
        cols = [frame.names.index(n) for n in self.names]
        return np.maximum(self.median.predict(frame.values[:, cols]), 0.0)


def choose_rounds(params: dict, X: np.ndarray, y: np.ndarray, names: list[str], *, max_rounds: int,
                  folds: int = 4, patience: int = 40, metric: str = "binary_logloss") -> int:
    """Boosting rounds for the classifier by stratified k-fold CV on the training rows themselves (early stopping
    on the held-out folds' log loss): a small book overfits in fewer rounds than a large one, so the count is chosen
    per fit rather than fixed."""
    import lightgbm as lgb

    if len(y) < 4 * folds or min(int(y.sum()), int(len(y) - y.sum())) < folds:
        return max_rounds
    result = lgb.cv({**params, "metric": metric}, lgb.Dataset(X, y, feature_name=names), num_boost_round=max_rounds,
                    nfold=folds, stratified=True, seed=int(params.get("seed", 0)),
                    callbacks=[lgb.early_stopping(patience, verbose=False)])
    return max(10, len(next(iter(result.values()))))


def train(frame: FeatureFrame, counts: np.ndarray, *, horizon_days: int, probabilistic: Probabilistic | None,
          features: Sequence[str] = FEATURES, rounds: int = 300, trained_on: str = "own",
          classifier_rounds: int | None = None) -> ChurnModel:
    """`rounds` for the count models; the classifier's rounds are chosen by inner CV (at most `rounds`) unless given."""
    import lightgbm as lgb

    names = [n for n in features if n in frame.names and (probabilistic is not None or not n.startswith(("bgnbd", "pnbd")))]
    cols = [frame.names.index(n) for n in names]
    X = frame.values[:, cols]
    bought = (counts > 0).astype(float)
    # leaves need enough customers to mean something, but a small business must still get splits
    leaf = {"min_child_samples": max(5, min(CLASSIFIER_PARAMS["min_child_samples"], len(X) // 20))}
    if classifier_rounds is None:
        classifier_rounds = choose_rounds({**CLASSIFIER_PARAMS, **leaf}, X, bought, names, max_rounds=rounds)
    classifier = lgb.train({**CLASSIFIER_PARAMS, **leaf}, lgb.Dataset(X, bought, feature_name=names),
                           num_boost_round=classifier_rounds)
    counter = lgb.train({**COUNT_PARAMS, **leaf}, lgb.Dataset(X, counts, feature_name=names), num_boost_round=rounds)
    median = lgb.train({**MEDIAN_PARAMS, **leaf}, lgb.Dataset(X, counts, feature_name=names), num_boost_round=rounds)
    gain = classifier.feature_importance(importance_type="gain")
    total = float(gain.sum()) or 1.0
    importance = {n: float(g) / total for n, g in sorted(zip(names, gain, strict=True), key=lambda t: -t[1])}
    return ChurnModel(names, classifier, counter, median, probabilistic, horizon_days, trained_on, importance,
                      classifier_rounds)


def has_enough_history(frame: FeatureFrame, counts: np.ndarray) -> bool:
    return len(frame.customers) >= MIN_CUSTOMERS_FOR_OWN_MODEL and int((counts > 0).sum()) >= MIN_POSITIVES_FOR_OWN_MODEL


def fit_at(purchases: Sequence[Purchase], *, today: date, horizon_days: int, rounds: int = 300,
           trained_on: str = "own") -> tuple[ChurnModel, FeatureFrame, np.ndarray]:
    """Trains on the last complete horizon: features at today - horizon, label = visits in the horizon since."""
    cutoff = today - timedelta(days=horizon_days)
    prob = fit_probabilistic(purchases, cutoff=cutoff)
    frame = build_features(purchases, cutoff=cutoff, horizon_days=horizon_days, probabilistic=prob)
    counts = holdout_counts(purchases, frame.customers, start=cutoff, end=today - timedelta(days=1))
    return train(frame, counts, horizon_days=horizon_days, probabilistic=prob, rounds=rounds,
                 trained_on=trained_on), frame, counts


def score_today(model: ChurnModel, purchases: Sequence[Purchase], *, today: date) -> list[Prediction]:
    """Predictions at today's cutoff with the probabilistic models refitted on everything up to today."""
    prob = fit_probabilistic(purchases, cutoff=today) if model.probabilistic is not None else None
    frame = build_features(purchases, cutoff=today, horizon_days=model.horizon_days, probabilistic=prob)
    return model.predict(frame)
