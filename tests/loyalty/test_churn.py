"""The churn model on generated histories: it trains, ranks returning customers above lapsed ones better than
chance and at least as well as the recency rule, explains each prediction, and the probabilistic baselines fit."""

from datetime import date, timedelta

import numpy as np
from sklearn.metrics import roc_auc_score

from icc_app.loyalty import churn
from icc_app.loyalty.probabilistic import fit_bgnbd, fit_pareto_nbd
from tests.loyalty.histories import generate

START, TODAY = date(2025, 1, 1), date(2026, 1, 1)


def test_model_learns_who_comes_back_and_says_why():
    train_p = generate(900, start=START, end=TODAY, seed=1)
    test_p = generate(600, start=START, end=TODAY, seed=2)
    model, frame, counts = churn.fit_at(train_p, today=TODAY, horizon_days=90, rounds=120)
    assert len(frame.customers) > 500 and 0.1 < (counts > 0).mean() < 0.9
    cutoff = TODAY - timedelta(days=90)
    test_frame = churn.build_features(test_p, cutoff=cutoff, horizon_days=90, probabilistic=model.probabilistic)
    bought = churn.holdout_counts(test_p, test_frame.customers, start=cutoff, end=TODAY) > 0
    auc_model = roc_auc_score(bought, model.probabilities(test_frame))
    auc_recency = roc_auc_score(bought, churn.recency_score(test_frame))
    assert auc_model > 0.75
    assert auc_model >= auc_recency - 0.01
    predictions = model.predict(test_frame.subset(np.arange(5)))
    for p in predictions:
        assert 0 <= p.probability <= 1 and p.expected_purchases >= 0
        assert len(p.reasons) == 3 and all(r.words for r in p.reasons)
    assert sum(model.importance.values()) > 0.99


def test_lapsed_customer_scores_below_a_regular():
    history = generate(700, start=START, end=TODAY, seed=3)
    regular = [churn.Purchase("regular", TODAY - timedelta(days=d), 40.0) for d in range(3, 360, 10)]
    lapsed = [churn.Purchase("lapsed", TODAY - timedelta(days=d), 40.0) for d in range(200, 360, 10)]
    model, _, _ = churn.fit_at(history, today=TODAY - timedelta(days=1), horizon_days=90, rounds=120)
    scores = {p.customer: p for p in churn.score_today(model, history + regular + lapsed, today=TODAY)}
    assert scores["regular"].probability > 0.7 > 0.3 > scores["lapsed"].probability
    assert scores["lapsed"].reasons[0].contribution < 0


def test_probabilistic_models_fit_and_behave():
    p = generate(800, start=START, end=TODAY, seed=4)
    frame = churn.build_features(p, cutoff=TODAY, horizon_days=90, probabilistic=None)
    x = frame.column("purchase_days") - 1
    T = frame.column("age_days") / 7
    t_x = T - frame.column("recency_days") / 7
    bg, pn = fit_bgnbd(x, t_x, T), fit_pareto_nbd(x, t_x, T)
    for model in (bg, pn):
        # someone who bought weekly until yesterday is more alive and buys more than one silent for 40 weeks
        alive = model.p_alive(np.array([20.0, 20.0]), np.array([45.0, 5.0]), np.array([45.1, 45.0]))
        expected = model.expected(13, np.array([20.0, 20.0]), np.array([45.0, 5.0]), np.array([45.1, 45.0]))
        assert alive[0] > alive[1] and expected[0] > expected[1] > 0


def test_business_with_little_history_is_not_given_its_own_model():
    small = generate(50, start=START, end=TODAY, seed=5)
    cutoff = TODAY - timedelta(days=90)
    frame = churn.build_features(small, cutoff=cutoff, horizon_days=90, probabilistic=None)
    counts = churn.holdout_counts(small, frame.customers, start=cutoff, end=TODAY)
    assert not churn.has_enough_history(frame, counts)
