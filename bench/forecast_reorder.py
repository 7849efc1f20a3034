"""Reorder simulation on the held-out months of the WA license series (../shared/data/sales): each license is a
store whose monthly sales (dollars, read as units) must come off its shelf. Two policies order monthly with a
one-month lead time over the 6 held-out months: the engine's (order up to the forecast demand of the lead time and the
review month plus safety stock at a 95% service level from the forecast's own backtest error, forecast made once at
the end of the training months) and a fixed min/max rule (reorder at one month of the last year's average sales, up
to two months). Both start with 1.5 months of stock. Reported: fill rate, stock-out months, average stock (months of
sales); same series, same run."""

from __future__ import annotations

import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from bench.common import Section
from bench.forecast import H, SALES, WORKERS, _split, washington

Z95 = 1.6449


def _forecast(item):
    from icc_app.operations.forecasting import forecast_series

    sid, (dates, values) = item
    result = forecast_series(sid, dates, values, horizon=H)
    return sid, result.mean, result.residual_sd or 0.0


def simulate(demand: np.ndarray, start: float, order_to) -> tuple[float, int, float]:
    """Fill rate, stock-out months, average end-of-month stock; order_to(t, position) -> quantity ordered at the
    start of month t, arriving at the start of month t + 1."""
    on_hand, arriving, lost, ends, outs = start, 0.0, 0.0, [], 0
    for t, d in enumerate(demand):
        on_hand += arriving
        arriving = max(0.0, order_to(t, on_hand))
        sold = min(on_hand, d)
        lost += d - sold
        outs += d - sold > 1e-9
        on_hand -= sold
        ends.append(on_hand)
    return 1 - lost / max(float(demand.sum()), 1e-9), outs, float(np.mean(ends))


def run() -> Section:
    section = Section(title="Reorder simulation (operations)", description=__doc__.split("\n\n")[0].replace("\n", " "),
                      headers=["policy", "series", "fill rate", "stock-out months", "average stock (months)"])
    if not SALES.exists():
        section.notes.append("Skipped: ../shared/data/sales is absent")
        return section
    train, test = _split(washington())
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        forecasts = {sid: (np.array(mean), sd) for sid, mean, sd in pool.map(_forecast, train.items(), chunksize=8)}
    seconds = time.perf_counter() - start
    results = {"engine": [], "min/max": []}
    for sid, (_, values) in train.items():
        y, demand = np.array(values), test[sid]
        avg = float(np.mean(y[-12:]))
        mean, sd = forecasts[sid]
        nxt = np.append(mean, mean[-1])

        def engine(t, position, mean=nxt, sd=sd):  # order-up-to S = demand(t) + demand(t + 1) + z sd sqrt(2)
            return mean[t] + mean[t + 1] + Z95 * sd * math.sqrt(2) - position

        def min_max(t, position, avg=avg):
            return 2 * avg - position if position <= avg else 0.0

        for name, policy in (("engine", engine), ("min/max", min_max)):
            fill, outs, stock = simulate(demand, 1.5 * avg, policy)
            results[name].append((fill, outs, stock / max(avg, 1e-9)))
    for name, rows in results.items():
        section.rows.append([name, str(len(rows)), f"{statistics.mean(r[0] for r in rows):.1%}",
                             f"{sum(r[1] for r in rows)} of {len(rows) * H}",
                             f"{statistics.mean(r[2] for r in rows):.2f}"])
    section.notes.append(f"Forecasts for the {len(train)} series took {seconds:.1f} s ({WORKERS} worker processes).")
    section.notes.append("No target was set for this simulation in the issue; it is reported as measured.")
    return section
