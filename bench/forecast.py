"""Demand forecasts on real cannabis sales (../shared/data/sales, read in place): WA monthly sales by license, CO
monthly sales by county (medical + recreational), OR statewide monthly sales. The last 6 months of every series
are held out (h = 6); each method sees only the months before them. The engine's forecast (operations.forecasting:
cheap models (Naive, SES, Theta, drift) fitted on sales per day of the month, joined once a series has four years
by yearly-seasonal AutoARIMA, AutoETS, AutoTheta and seasonal naive on the monthly totals; scored per series by a
two-window rolling-origin backtest on the training months only; the mean of the best three) is compared with baselines measured in the same run: Naive, AutoETS, AutoARIMA (yearly season), the mean of
ETS/Theta/ARIMA, and Prophet when it can be installed in a scratch virtualenv outside the repository
(BENCH_PROPHET_PYTHON, default /tmp/prophetenv/bin/python; it runs there in a subprocess).

Series: WA licenses with at least 43 monthly reports (345), CO counties whose medical and recreational sales are
both reported in at least 90% of the months (7), the OR statewide series. MASE is scaled by the training months'
mean absolute 12-month difference. Targets: mean MASE at most 0.95x the best baseline on each dataset; at least
20x faster than Prophet per series; the WA series forecast in under 10 s (wall time, 2 worker processes)."""

from __future__ import annotations

import csv
import json
import os
import re
import statistics
import subprocess
import time
import zipfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from xml.etree import ElementTree

import numpy as np

from bench.common import Section
from icc_app.settings import PROJECT_ROOT

SALES = PROJECT_ROOT.parent / "shared" / "data" / "sales"
H = 6
WORKERS = int(os.environ.get("BENCH_FORECAST_WORKERS", "2"))
PROPHET_PYTHON = os.environ.get("BENCH_PROPHET_PYTHON", "/tmp/prophetenv/bin/python")
Series = dict[str, tuple[list[date], list[float]]]
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


# ---- data ------------------------------------------------------------------------------------------------------

def _xlsx_rows(path) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as book:
        strings = ["".join(t.text or "" for t in item.iter(f"{_NS}t"))
                   for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall(f"{_NS}si")]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{_NS}row"):
        cells = {}
        for cell in row.findall(f"{_NS}c"):
            value = cell.find(f"{_NS}v")
            if value is not None:
                column = re.match(r"[A-Z]+", cell.get("r")).group()
                cells[column] = strings[int(value.text)] if cell.get("t") == "s" else value.text
        rows.append(cells)
    return rows


def washington(min_months: int = 43) -> Series:
    per: dict[str, dict[date, float]] = defaultdict(dict)
    for row in _xlsx_rows(SALES / "wa-monthly-sales-by-license.xlsx"):
        period, total = row.get("B", ""), row.get("C")
        if re.fullmatch(r"\d{4}-\d{2}", period) and total not in (None, ""):
            per[row["A"]][date(int(period[:4]), int(period[5:]), 1)] = float(total)
    return {f"WA {lic}": (sorted(d), [d[k] for k in sorted(d)]) for lic, d in sorted(per.items())
            if len(d) >= min_months}


def _number(text: str | None) -> float | None:
    text = (text or "").replace(",", "").strip()
    return float(text) if text else None


def colorado(min_share: float = 0.9) -> Series:
    per: dict[str, dict[date, tuple[float | None, float | None]]] = defaultdict(dict)
    with (SALES / "co-monthly-sales-by-county.csv").open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            day = date(int(row["Year"]), int(row["Month"]), 1)
            per[row["County"].strip()][day] = (_number(row["Med_Sales"]), _number(row["Rec_Sales"]))
    months = len({d for county in per.values() for d in county})
    out = {}
    for county, values in sorted(per.items()):
        both = {d: med + rec for d, (med, rec) in values.items() if med is not None and rec is not None}
        if len(both) >= min_share * months:
            out[f"CO {county}"] = (sorted(both), [both[d] for d in sorted(both)])
    return out


def oregon() -> Series:
    dates, values = [], []
    with (SALES / "or-monthly-sales.csv").open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            month, _, year = row["Date"].split("/")
            dates.append(date(int(year), int(month), 1))
            values.append(float(row["Sales"]))
    return {"OR statewide": (dates, values)}


# ---- methods ---------------------------------------------------------------------------------------------------

def _split(series: Series) -> tuple[Series, dict[str, np.ndarray]]:
    """Training part and the 6 held-out months, on the engine's regular monthly calendar (gaps interpolated)."""
    from icc_app.operations.forecasting import regular

    train, test = {}, {}
    for sid, (dates, values) in series.items():
        calendar, y, _ = regular(dates, values, "M")
        train[sid] = (calendar[:-H], list(y[:-H]))
        test[sid] = y[-H:]
    return train, test


def _engine_one(item):
    from icc_app.operations.forecasting import forecast_series

    sid, (dates, values) = item
    start = time.perf_counter()
    result = forecast_series(sid, dates, values, horizon=H)
    return sid, np.array(result.mean), result.lo[80], result.hi[80], result.lo[95], result.hi[95], \
        time.perf_counter() - start, result.model


def _baseline(name: str, y: np.ndarray) -> np.ndarray:
    from icc_app.operations.forecasting import _predict

    return _predict(name, y, H, 12 if len(y) >= 24 + H else 1)["mean"]


def _prophet(train: Series) -> tuple[dict[str, np.ndarray], float, str]:
    """Forecasts, seconds per series (fit + predict), or why it was not measured."""
    if not os.path.exists(PROPHET_PYTHON):
        return {}, 0.0, f"not measured here: not installable (no {PROPHET_PYTHON})"
    request = {"h": H, "series": {sid: [[d.isoformat(), v] for d, v in zip(*dv, strict=True)]
                                  for sid, dv in train.items()}}
    proc = subprocess.run([PROPHET_PYTHON, "-c", PROPHET_SCRIPT], input=json.dumps(request), capture_output=True,
                          text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        return {}, 0.0, f"not measured here: Prophet failed ({proc.stderr.strip().splitlines()[-1][:120]})"
    out = json.loads(proc.stdout)
    seconds = statistics.mean(v["seconds"] for v in out.values())
    return {sid: np.array(v["mean"]) for sid, v in out.items()}, seconds, ""


PROPHET_SCRIPT = """
import json, logging, sys, time
logging.getLogger("cmdstanpy").disabled = True
logging.getLogger("prophet").disabled = True
import pandas as pd
from prophet import Prophet
request = json.load(sys.stdin)
out = {}
for sid, points in request["series"].items():
    frame = pd.DataFrame({"ds": pd.to_datetime([p[0] for p in points]), "y": [p[1] for p in points]})
    start = time.perf_counter()
    model = Prophet()
    model.fit(frame)
    future = model.make_future_dataframe(periods=request["h"], freq="MS", include_history=False)
    out[sid] = {"mean": model.predict(future)["yhat"].tolist(), "seconds": time.perf_counter() - start}
json.dump(out, sys.stdout)
"""


def _mase(train: Series, test: dict[str, np.ndarray], forecasts: dict[str, np.ndarray]) -> list[float]:
    from icc_app.operations.forecasting import mase_scale

    return [float(np.mean(np.abs(test[sid] - forecasts[sid]))) / mase_scale(np.array(train[sid][1]), 12)
            for sid in train]


def _measure(name: str, series: Series, pool: ProcessPoolExecutor) -> dict:
    train, test = _split(series)
    start = time.perf_counter()
    results = list(pool.map(_engine_one, train.items(), chunksize=8))
    wall = time.perf_counter() - start
    engine = {r[0]: r[1] for r in results}
    cover = {80: [], 95: []}
    for sid, _, lo80, hi80, lo95, hi95, _, _ in results:
        cover[80] += list((test[sid] >= lo80) & (test[sid] <= hi80))
        cover[95] += list((test[sid] >= lo95) & (test[sid] <= hi95))
    # Speed per series the way Prophet's is measured (one process, one series after the other, wall time), in
    # this process: the pool's per-series times depend on how busy the other core is.
    sequential = [_engine_one(item)[6] for item in train.items()]
    out = {"n": len(train), "engine": _mase(train, test, engine), "engine_wall": wall,
           "engine_cpu": statistics.mean(sequential),
           "coverage": {k: float(np.mean(v)) for k, v in cover.items()}, "baselines": {}, "baseline_seconds": {},
           "models": defaultdict(int)}
    for r in results:
        out["models"][r[7]] += 1
    single: dict[str, dict[str, np.ndarray]] = {}
    for model in ("Naive", "AutoETS", "AutoTheta", "AutoARIMA"):
        start = time.perf_counter()
        single[model] = {sid: _baseline(model, np.array(v)) for sid, (_, v) in train.items()}
        out["baseline_seconds"][model] = (time.perf_counter() - start) / len(train)
    single["Ensemble ETS/Theta/ARIMA"] = {sid: np.mean([single[m][sid] for m in ("AutoETS", "AutoTheta", "AutoARIMA")],
                                                       axis=0) for sid in train}
    out["baseline_seconds"]["Ensemble ETS/Theta/ARIMA"] = sum(out["baseline_seconds"][m]
                                                              for m in ("AutoETS", "AutoTheta", "AutoARIMA"))
    del out["baseline_seconds"]["AutoTheta"]
    for baseline in ("Naive", "AutoETS", "AutoARIMA", "Ensemble ETS/Theta/ARIMA"):
        out["baselines"][baseline] = _mase(train, test, single[baseline])
    # Ablation, not a baseline of the issue: last month's sales per day times the days of each held-out month (the
    # engine's calendar step alone, without its models and backtest).
    from icc_app.operations.forecasting import days_in

    per_day = {}
    for sid, (dates, values) in train.items():
        future = [date(d.year + (d.month + i - 1) // 12, (d.month + i - 1) % 12 + 1, 1)
                  for d in dates[-1:] for i in range(1, H + 1)]
        per_day[sid] = values[-1] / days_in(dates[-1:])[0] * days_in(future)
    out["ablation"] = _mase(train, test, per_day)
    prophet, seconds, why = _prophet(train)
    if prophet:
        out["baselines"]["Prophet"] = _mase(train, test, prophet)
        out["baseline_seconds"]["Prophet"] = seconds
    out["prophet_note"] = why
    return out


ISSUE_PROPHET = {"WA licenses": (1.167, 0.22), "CO counties": (1.191, 0.22)}  # issue 18, measured elsewhere


def run() -> Section:
    section = Section(
        title="Demand forecasts (operations)",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        headers=["dataset", "series", "method", "mean MASE", "median MASE", "s / series"],
    )
    if not SALES.exists():
        section.notes.append("Target: skipped: ../shared/data/sales is absent")
        return section
    datasets = [("WA licenses", washington()), ("CO counties", colorado()), ("OR statewide", oregon())]
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        warm = list(_split(datasets[2][1])[0].items())
        list(pool.map(_engine_one, warm * WORKERS))  # imports and first calls, in the workers and here
        _baseline("AutoARIMA", np.array(warm[0][1][1]))
        measured = {name: _measure(name, series, pool) for name, series in datasets}
    targets, speed = [], []
    for name, m in measured.items():
        engine = statistics.mean(m["engine"])
        section.rows.append([name, str(m["n"]), "**engine (per-day models, 2-window backtest, mean of best 3)**",
                             f"{engine:.3f}", f"{statistics.median(m['engine']):.3f}", f"{m['engine_cpu']:.4f}"])
        for baseline, values in m["baselines"].items():
            section.rows.append([name, str(m["n"]), baseline, f"{statistics.mean(values):.3f}",
                                 f"{statistics.median(values):.3f}", f"{m['baseline_seconds'][baseline]:.3f}"])
        section.rows.append([name, str(m["n"]), "(ablation, not a baseline) Naive per day x days of month",
                             f"{statistics.mean(m['ablation']):.3f}", f"{statistics.median(m['ablation']):.3f}",
                             "0.000"])
        if "Prophet" not in m["baselines"] and name in ISSUE_PROPHET:
            mase, secs = ISSUE_PROPHET[name]
            section.rows.append([name, str(m["n"]), f"Prophet ({m['prophet_note']}; issue's numbers)", f"{mase:.3f}",
                                 "-", f"{secs:.2f}"])
        best_name, best = min(((b, statistics.mean(v)) for b, v in m["baselines"].items()), key=lambda kv: kv[1])
        ratio = engine / best
        targets.append(f"Target mean MASE <= 0.95x the best baseline on {name} ({best_name} {best:.3f}): "
                       f"{'met' if ratio <= 0.95 else 'NOT met'} ({engine:.3f}, {ratio:.2f}x)")
        if name == "WA licenses":
            prophet_secs = m["baseline_seconds"].get("Prophet") or ISSUE_PROPHET[name][1]
            speed.append((name, prophet_secs / m["engine_cpu"], "Prophet" in m["baselines"]))
        mix = ", ".join(f"{k} {v}" for k, v in sorted(m["models"].items(), key=lambda kv: -kv[1])[:4])
        section.notes.append(f"{name}: held-out coverage of the 80% interval {m['coverage'][80]:.0%}, of the 95% "
                             f"interval {m['coverage'][95]:.0%}; most chosen: {mix}.")
    section.notes += targets
    for name, ratio, here in speed:
        section.notes.append(f"Target at least 20x faster than Prophet per series on {name}: "
                             f"{'met' if ratio >= 20 else 'NOT met'} ({ratio:.1f}x"
                             f"{'' if here else ', against the issue’s 0.22 s'})")
    wall = measured["WA licenses"]["engine_wall"]
    section.notes.append(f"Target the {measured['WA licenses']['n']} WA series forecast in under 10 s: "
                         f"{'met' if wall < 10 else 'NOT met'} ({wall:.1f} s with {WORKERS} worker processes)")
    section.notes.append("s / series: one process's wall time per series, one series after the other (the "
                         "engine's includes its backtest fits; Prophet's is its fit and predict in its own process). "
                         "No choice was tuned on the held-out months: the engine's design (models on sales per day "
                         "of the month, candidate set, two backtest windows, mean of the best three) was chosen on "
                         "pseudo-holdouts inside the training months (the 6 and the 12 months before the held-out "
                         "ones; docs/operations.md). The ablation row is the calendar step alone (last month's sales "
                         "per day), shown so the gain of the models over it can be read; it was not used as a "
                         "baseline of the targets, which are the issue's.")
    return section
