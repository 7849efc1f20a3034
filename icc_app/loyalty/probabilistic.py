"""BG/NBD and Pareto/NBD repeat-purchase models, fitted by maximum likelihood with scipy.

Both are the standard "buy till you die" models (Fader, Hardie & Lee 2005; Schmittlein, Morrison & Colombo 1987):
each customer buys at a Poisson rate while alive and drops out at an unobserved moment. They need only three
numbers per customer: x (repeat purchase days), t_x (time of the last purchase since the first) and T (time since
the first purchase), all in the same unit (weeks here). We use them as baselines and as features of the gradient
boosted churn model (P(alive), expected purchases). Written from the published likelihoods; no lifetimes package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            odds = np.where(x > 0, np.exp(np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) + log_ratio), 0.0)
        return 1.0 / (1.0 + odds)

    def expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected repeat purchases in the next t, given each customer's history."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        second = 1 - np.power((alpha + T) / (alpha + T + t), r + x) * hyp
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * np.power((alpha + T) / (alpha + t_x), r + x), 0.0)
        return np.nan_to_num(first * second / (1 + odds), nan=0.0, posinf=0.0)


def _unique(x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """Distinct (x, t_x, T) triples and how many customers share each: the likelihood is evaluated once per triple
    (customers measured in whole days share many), which keeps the fit fast on large books."""
    triples, counts = np.unique(np.round(np.column_stack([x, t_x, T]), 4), axis=0, return_counts=True)
    return triples[:, 0], triples[:, 1], triples[:, 2], counts.astype(float)


def _bgnbd_negll(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> float:
    r, alpha, a, b = np.exp(params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    ll = a1 + a2 + np.logaddexp(a3, a4)
    value = -np.sum(w * ll) / np.sum(w)
    return float(value) if np.isfinite(value) else 1e10


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    x, t_x, T, w = _unique(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    best = None
    for start in ([0.0, 1.0, 0.0, 0.0], [-1.0, 2.0, -0.5, 0.5]):
        res = optimize.minimize(_bgnbd_negll, np.array(start), args=(x, t_x, T, w), method="Nelder-Mead",
                                options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-8})
        if best is None or res.fun < best.fun:
            best = res
    r, alpha, a, b = np.exp(best.x)
    return BgNbd(r=float(r), alpha=float(alpha), a=float(a), b=float(b))


@dataclass(frozen=True)
class ParetoNbd:
    r: float
    alpha: float
    s: float
    beta: float

    def _log_a0(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """log of A0 = F(z(t_x)) / (m + t_x)^(r+s+x) - F(z(T)) / (m + T)^(r+s+x) (the integral over the death time)."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        high, diff = max(alpha, beta), abs(alpha - beta)
        second = r + x if alpha < beta else s + 1
        rsx = r + s + x

        def log_term(t: np.ndarray) -> np.ndarray:
            hyp = special.hyp2f1(rsx, second, rsx + 1, diff / (high + t))
            return np.log(np.maximum(hyp, 1e-300)) - rsx * np.log(high + t)

        lt, lT = log_term(t_x), log_term(T)
        with np.errstate(divide="ignore", invalid="ignore"):
            return lt + np.log(np.maximum(-np.expm1(lT - lt), 1e-300))

    def _log_parts(self, x, t_x, T):
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        alive_now = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died = np.log(s) - np.log(r + s + x) + self._log_a0(x, t_x, T)
        return alive_now, died

    def loglik(self, x, t_x, T) -> np.ndarray:
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        front = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_now, died = self._log_parts(x, t_x, T)
        return front + np.logaddexp(alive_now, died)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        alive_now, died = self._log_parts(x, t_x, T)
        return np.exp(alive_now - np.logaddexp(alive_now, died))

    def expected(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        if s <= 1:  # the closed form needs s > 1; fall back to the rate times the horizon
            return (r + x) / (alpha + T) * t * self.p_alive(x, t_x, T)
        first = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        second = 1 - np.power((beta + T) / (beta + T + t), s - 1)
        return first * second * self.p_alive(x, t_x, T)


def _pnbd_negll(params: np.ndarray, x, t_x, T, w) -> float:
    r, alpha, s, beta = np.exp(params)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        value = -np.sum(w * ParetoNbd(r, alpha, s, beta).loglik(x, t_x, T)) / np.sum(w)
    return float(value) if np.isfinite(value) else 1e10


def fit_pareto_nbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> ParetoNbd:
    x, t_x, T, w = _unique(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    # started from the BG/NBD fit's purchase process (r, alpha), which is close, so one run converges
    bg = fit_bgnbd(x.repeat(w.astype(int)), t_x.repeat(w.astype(int)), T.repeat(w.astype(int)))
    best = None
    for start in ([np.log(bg.r), np.log(bg.alpha), 0.0, np.log(bg.alpha)],):
        res = optimize.minimize(_pnbd_negll, np.array(start), args=(x, t_x, T, w), method="Nelder-Mead",
                                options={"maxiter": 3000, "xatol": 1e-5, "fatol": 1e-8})
        if best is None or res.fun < best.fun:
            best = res
    r, alpha, s, beta = np.exp(best.x)
    return ParetoNbd(r=float(r), alpha=float(alpha), s=float(s), beta=float(beta))
