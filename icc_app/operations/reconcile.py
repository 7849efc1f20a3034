"""Hierarchy reconciliation: product forecasts that add up to their category's, and categories that add up to the
store's. Each level is forecast on its own (a category's total is smoother and better forecast than any of its
products), then all are combined by MinT with a shrunk error covariance (Wickramasuriya, Athanasopoulos & Hyndman
2019; shrinkage of Schäfer & Strimmer 2005): the reconciled bottom level is
    b = (S' W^-1 S)^-1 S' W^-1 y_hat,
where S sums products into every node and W is the covariance of the nodes' forecast errors. Without enough
aligned errors it falls back to WLS with each node's own error variance, and without errors at all to structural
weights (a node weighs as many products as it sums). Negative product forecasts are set to 0 and the totals are
summed again from them, so the result always adds up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from icc_app.operations.forecasting import Forecast


def summing_matrix(bottom: list[str], groups: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    """Node order (aggregates first, then the bottom) and S: one row per node, one column per bottom series."""
    position = {b: j for j, b in enumerate(bottom)}
    nodes = [*groups, *bottom]
    s = np.zeros((len(nodes), len(bottom)))
    for i, (_, members) in enumerate(groups.items()):
        for member in members:
            s[i, position[member]] = 1.0
    s[len(groups):, :] = np.eye(len(bottom))
    return nodes, s


def shrunk_covariance(errors: np.ndarray) -> np.ndarray:
    """Schäfer-Strimmer shrinkage of the sample covariance (columns = nodes) toward its diagonal."""
    t, n = errors.shape
    centered = errors - errors.mean(axis=0)
    sample = centered.T @ centered / t
    sd = np.sqrt(np.diag(sample))
    sd[sd == 0] = 1e-9
    scaled = centered / sd
    corr = scaled.T @ scaled / t
    w = np.einsum("ti,tj->tij", scaled, scaled)
    var_corr = t / (t - 1) ** 3 * ((w - corr) ** 2).sum(axis=0) if t > 1 else np.zeros((n, n))
    off = ~np.eye(n, dtype=bool)
    denominator = float((corr[off] ** 2).sum())
    lam = 1.0 if denominator == 0 else float(np.clip(var_corr[off].sum() / denominator, 0.0, 1.0))
    shrunk_corr = corr.copy()
    shrunk_corr[off] *= 1 - lam
    return shrunk_corr * np.outer(sd, sd)


def reconcile(base: dict[str, np.ndarray], bottom: list[str], groups: dict[str, list[str]],
              errors: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], str]:
    """Coherent forecasts for every node, and the method used (mint_shrink / wls_var / wls_struct).
    base: node -> forecast (h,); errors: node -> that node's forecast errors on the same past dates."""
    nodes, s = summing_matrix(bottom, groups)
    y_hat = np.vstack([np.asarray(base[n], dtype=float) for n in nodes])
    method, w = "wls_struct", np.diag(s.sum(axis=1))
    if errors and all(n in errors for n in nodes):
        lengths = {len(errors[n]) for n in nodes}
        if len(lengths) == 1 and lengths.pop() >= 2:
            e = np.column_stack([np.asarray(errors[n], dtype=float) for n in nodes])
            variances = e.var(axis=0)
            if np.all(variances > 0):
                method, w = "wls_var", np.diag(variances)
                if e.shape[0] >= 8:
                    method, w = "mint_shrink", shrunk_covariance(e)
    w_inv = np.linalg.pinv(w)
    g = np.linalg.pinv(s.T @ w_inv @ s) @ s.T @ w_inv
    bottom_values = np.maximum(g @ y_hat, 0.0)
    coherent = s @ bottom_values
    return {n: coherent[i] for i, n in enumerate(nodes)}, method


def reconcile_forecasts(forecasts: dict[str, Forecast], bottom: list[str],
                        groups: dict[str, list[str]]) -> tuple[dict[str, Forecast], str]:
    """The same forecasts made coherent; each node's intervals move with its mean (their width is kept)."""
    base = {n: np.array(f.mean) for n, f in forecasts.items()}
    errors = {n: np.array(f.backtest_errors) for n, f in forecasts.items() if f.backtest_errors}
    coherent, method = reconcile(base, bottom, groups, errors)
    out = {}
    for node, f in forecasts.items():
        if node not in coherent:
            out[node] = f
            continue
        shift = coherent[node] - base[node]
        out[node] = replace(f, mean=[float(v) for v in coherent[node]],
                            lo={k: [max(0.0, float(v)) for v in np.array(lo) + shift] for k, lo in f.lo.items()},
                            hi={k: [max(0.0, float(v)) for v in np.array(hi) + shift] for k, hi in f.hi.items()},
                            notes=[*f.notes, f"reconciled ({method})"])
    return out, method
