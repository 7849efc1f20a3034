"""Demand forecasts for one series at a time, pure (no database): the model is chosen per series by rolling-origin
cross-validation on the series' own history, so a store whose sales follow a trend gets a trend model and a slow
mover gets an intermittent-demand method. Short histories fall back to seasonal naive (or naive), because nothing
can be validated on them. Daily series are adjusted for cannabis holidays (see holidays.py) by a lift learned
from the series' own past holidays, and those with two years of history or more also try a weekly-and-yearly
seasonal model (MSTL). Every forecast carries its backtest error (MASE) so a reader can tell how far
to trust it.

statsforecast's model classes are used one series at a time (`Model.forecast(y=..., h=...)`): that keeps the
selection, the fallbacks and the holiday adjustment in plain code."""

from __future__ import annotations

import math
import warnings
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from icc_app.operations import holidays as holiday_days

MODEL_VERSION = "ops-forecast-3"
LEVELS = (80, 95)
FREQUENCIES = {"D": "daily", "W": "weekly", "M": "monthly"}
INTERMITTENT_ADI = 1.32  # average demand interval above which a series is intermittent (Syntetos-Boylan)
Z = {80: 1.2816, 95: 1.96}


class ForecastError(ValueError):
    """A series that cannot be forecast as given (the message says why)."""


@dataclass
class Forecast:
    series_id: str
    frequency: str  # daily / weekly / monthly
    model: str
    dates: list[date]
    mean: list[float]
    lo: dict[int, list[float]]  # level -> lower bound per step
    hi: dict[int, list[float]]
    backtest_mase: float | None  # mean absolute scaled error of the chosen model on the history's last windows
    backtest_mae: float | None
    history_points: int
    candidates: dict[str, float] = field(default_factory=dict)  # model -> backtest MASE
    notes: list[str] = field(default_factory=list)
    residual_sd: float | None = None  # one-step error size, for safety stock and reconciliation
    backtest_errors: list[float] = field(default_factory=list)  # actual - forecast over the backtest windows

    def as_json(self) -> dict:
        return {"series_id": self.series_id, "frequency": self.frequency, "model": self.model,
                "backtest_mase": _round(self.backtest_mase), "backtest_mae": _round(self.backtest_mae),
                "history_points": self.history_points,
                "candidates": {k: _round(v) for k, v in self.candidates.items()},
                "forecast": [{"date": d.isoformat(), "mean": _round(m),
                              **{f"lo_{lv}": _round(self.lo[lv][i]) for lv in sorted(self.lo)},
                              **{f"hi_{lv}": _round(self.hi[lv][i]) for lv in sorted(self.hi)}}
                             for i, (d, m) in enumerate(zip(self.dates, self.mean, strict=True))],
                "notes": self.notes}


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


# ---- calendar ----------------------------------------------------------------------------------------------

def infer_frequency(dates: list[date]) -> str:
    """D, W or M from the typical gap between consecutive dates."""
    unique = sorted(set(dates))
    if len(unique) < 2:
        raise ForecastError("A series needs at least two dates to tell daily, weekly or monthly apart.")
    gaps = np.diff([d.toordinal() for d in unique])
    typical = float(np.median(gaps))
    if typical <= 1.5:
        return "D"
    if 6 <= typical <= 8 and all(g % 7 == 0 for g in gaps):
        return "W"
    if 27 <= typical <= 32:
        return "M"
    raise ForecastError(f"Dates are {typical:g} days apart: use daily, weekly or monthly dates.")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_key(day: date, frequency: str) -> date:
    """The start of the period a date belongs to (monthly dates are the month's first day)."""
    return day.replace(day=1) if frequency == "M" else day


def step(day: date, frequency: str, n: int = 1) -> date:
    if frequency == "M":
        return _add_months(day, n)
    return day + timedelta(days=n * (7 if frequency == "W" else 1))


def regular(dates: list[date], values: list[float], frequency: str) -> tuple[list[date], np.ndarray, int]:
    """The series on a gap-free calendar: a missing day or week is no sales (0); a missing month is a missing
    report, filled in linearly between its neighbours. Returns dates, values and how many periods were filled."""
    points: dict[date, float] = {}
    for day, value in zip(dates, values, strict=True):
        key = period_key(day, frequency)
        points[key] = points.get(key, 0.0) + float(value)
    start, end = min(points), max(points)
    calendar = [start]
    while calendar[-1] < end:
        calendar.append(step(calendar[-1], frequency))
    if frequency in ("D", "W") or len(points) == len(calendar):
        return calendar, np.array([points.get(d, 0.0) for d in calendar]), len(calendar) - len(points)
    known = [i for i, d in enumerate(calendar) if d in points]
    filled = np.interp(range(len(calendar)), known, [points[calendar[i]] for i in known])
    return calendar, filled, len(calendar) - len(points)


def season_length(frequency: str, n: int, horizon: int) -> int:
    """The seasonal period the history can support: a week for daily series, a year for weekly and monthly ones
    once two full years (plus a validation window) are there."""
    season = {"D": 7, "W": 52, "M": 12}[frequency]
    return season if n >= 2 * season + horizon else (7 if frequency == "D" and n >= 14 else 1)


# ---- models ------------------------------------------------------------------------------------------------

def _model(name: str, season: int):
    from statsforecast import models as m

    match name:
        case "Naive":
            return m.Naive()
        case "SeasonalNaive":
            return m.SeasonalNaive(season_length=season)
        case "AutoETS":
            return m.AutoETS(season_length=season)
        case "AutoETS(nonseasonal)":
            return m.AutoETS(season_length=1)
        case "SES":
            return m.AutoETS(season_length=1, model="ANN")
        case "Theta":
            return m.Theta(season_length=1)
        case "RandomWalkWithDrift":
            return m.RandomWalkWithDrift()
        case "AutoTheta":
            return m.AutoTheta(season_length=season)
        case "AutoARIMA":
            return m.AutoARIMA(season_length=season)
        case "CrostonOptimized":
            return m.CrostonOptimized()
        case "TSB":
            return m.TSB(alpha_d=0.2, alpha_p=0.2)
        case "ADIDA":
            return m.ADIDA()
        case "IMAPA":
            return m.IMAPA()
        case "MSTL":
            return YearlyMSTL()
    raise ValueError(name)


# ---- the yearly model of daily series ------------------------------------------------------------------------

YEAR = 365  # days; the quarter day a year drifts by is left to the decomposition's smoothing across years
YEARLY = "MSTL"
YEARLY_SMOOTH = 21  # days (three weeks: no weekly pattern leaks in) the yearly profile is averaged over


def yearly_history(n: int, horizon: int, windows: int) -> bool:
    """Whether a daily series of n days can have the yearly model: every backtest fit (the last `windows` blocks
    of `horizon` days held out) must still see two full years, which is what a yearly decomposition needs."""
    return n >= 2 * YEAR + windows * horizon


def _odd(x: float) -> int:
    """The smallest odd integer above x."""
    k = math.floor(x) + 1
    return k if k % 2 else k + 1


def mstl_components(y: np.ndarray, periods: tuple[int, ...] = (7, YEAR), iterate: int = 2) -> np.ndarray:
    """MSTL (Bandara, Hyndman and Bergmeir 2021, as R's forecast::mstl and statsforecast's `mstl`): STL for each
    period in turn, twice, on the series with the other seasonal parts removed. The LOESS smoothers are evaluated
    every tenth of their window and interpolated between (R's stl defaults; statsmodels evaluates every point,
    which on three years of days costs twenty times as much for nearly the same decomposition). Returns one row per
    period."""
    from statsmodels.tsa.seasonal import STL

    seasonal = np.zeros((len(periods), len(y)))
    deseasonal = y.astype(float).copy()
    for _ in range(iterate):
        for i, period in enumerate(periods):
            deseasonal += seasonal[i]
            s_window = 7 + 4 * (i + 1)
            t_window = _odd(1.5 * period / (1 - 1.5 / s_window))  # statsmodels' default windows, as in `mstl`
            l_window = _odd(period)
            fit = STL(deseasonal, period=period, seasonal=s_window, seasonal_deg=0,
                      seasonal_jump=math.ceil(s_window / 10), trend_jump=math.ceil(t_window / 10),
                      low_pass_jump=math.ceil(l_window / 10)).fit()
            seasonal[i] = fit.seasonal
            deseasonal -= seasonal[i]
    return seasonal


class YearlyMSTL:
    """Weekly and yearly seasonality for daily series: MSTL with periods 7 and 365, the weekly part repeated from
    the last week, the yearly part from the last year averaged over YEARLY_SMOOTH days around each date (with two or
    three years behind it, the raw yearly part of a day still holds a third to a half of that day's noise, which
    repeated a year later only adds error), and the rest (trend and remainder) forecast by AutoETS without
    seasonality, whose intervals it keeps."""

    def forecast(self, y: np.ndarray, h: int, level: list[int] | None = None) -> dict[str, np.ndarray]:
        from statsforecast.models import AutoETS

        n = len(y)
        if n < 2 * YEAR:
            raise ValueError("the yearly model needs two years")
        weekly, yearly = mstl_components(y)
        half = YEARLY_SMOOTH // 2
        last = yearly[-YEAR:]
        profile = np.convolve(np.concatenate([last[-half:], last, last[:half]]), np.ones(YEARLY_SMOOTH) / YEARLY_SMOOTH,
                              mode="valid")  # circular: the year wraps around
        seasonal = weekly + profile[(np.arange(n) - (n - YEAR)) % YEAR]
        out = AutoETS(model="ZZN").forecast(y=y - seasonal, h=h, **({"level": level} if level else {}))
        ahead = np.arange(n, n + h)
        future = weekly[-7:][(ahead - (n - 7)) % 7] + profile[(ahead - (n - YEAR)) % YEAR]
        return {key: np.asarray(value, dtype=float) + future for key, value in out.items()}


NATIVE_INTERVALS = {"Naive", "SeasonalNaive", "AutoETS", "AutoETS(nonseasonal)", "AutoTheta", "AutoARIMA", "SES",
                    "Theta", "RandomWalkWithDrift", YEARLY}
# Profiles of candidate models for regular (not intermittent) series.
# fast: the default of scheduled refreshes and of the command line. A yearly-seasonal AutoETS costs ten times a
#   non-seasonal one on monthly data and AutoARIMA a hundred times, so for monthly and weekly series AutoETS is
#   fitted without a seasonal part (seasonality is covered by AutoTheta's decomposition and SeasonalNaive); daily
#   series keep their weekly-seasonal AutoETS.
#   Monthly and weekly series with four seasons of history or more get the full set.
# full: every model of the family, AutoARIMA included (`--full`).
FAST = ("Naive", "SeasonalNaive", "AutoETS", "AutoTheta")
FULL = ("Naive", "SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA")
INTERMITTENT = ("CrostonOptimized", "TSB", "ADIDA", "IMAPA")
# Monthly series: cheap non-seasonal models fitted on sales per day of the month (a February has 10% fewer days
# than a March, which a model of monthly totals reads as noise), joined by the yearly-seasonal AutoARIMA, AutoETS,
# AutoTheta and seasonal naive (fitted on the monthly totals: their season already holds the short February) once
# four years of history (plus the horizon) can support them. Chosen on pseudo-holdouts inside the training months
# of the sales benchmark (docs/operations.md).
MONTHLY = ("Naive", "SES", "Theta", "RandomWalkWithDrift")
MONTHLY_LONG = ("AutoARIMA", "AutoETS", "AutoTheta", "SeasonalNaive")
TOP = 3  # the forecast is the mean of the models with the lowest backtest error


SEASONAL = {"SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA"}  # models with a seasonal part of their own


def _fit(name: str, y: np.ndarray, h: int, season: int, levels: tuple[int, ...] = (),
         days: np.ndarray | None = None, future_days: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """`_predict`, on sales per day of the month when `days` are given, unless the model has a yearly season of its
    own (it learns the short February with the rest of the year; dividing it out would only add leap-year noise)."""
    if days is None or (name in SEASONAL and season > 1):
        return _predict(name, y, h, season, levels)
    out = _predict(name, y / days, h, season, levels)
    return {key: value * future_days for key, value in out.items()}


def _predict(name: str, y: np.ndarray, h: int, season: int, levels: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
    model = _model(name, season)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if levels and name in NATIVE_INTERVALS:
            out = model.forecast(y=y.astype(float), h=h, level=list(levels))
        else:
            out = model.forecast(y=y.astype(float), h=h)
    mean = np.asarray(out["mean"], dtype=float)
    if not np.all(np.isfinite(mean)):
        raise FloatingPointError(name)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def mase_scale(y: np.ndarray, season: int) -> float:
    """In-sample mean absolute seasonal difference (one-step when the series is shorter than two seasons)."""
    lag = season if len(y) > season else 1
    diffs = np.abs(y[lag:] - y[:-lag]) if len(y) > lag else np.abs(y - y.mean())
    scale = float(np.mean(diffs)) if len(diffs) else 0.0
    return scale if scale > 0 else max(float(np.mean(np.abs(y))), 1e-9)


def intermittent(y: np.ndarray) -> bool:
    nonzero = int(np.count_nonzero(y))
    return nonzero > 0 and len(y) / nonzero > INTERMITTENT_ADI


@dataclass
class _Backtest:
    mase: dict[str, float]
    mae: dict[str, float]
    errors: dict[str, np.ndarray]  # model -> (windows x h) forecast errors (actual - forecast)
    scales: list[float]


def backtest(y: np.ndarray, names: tuple[str, ...], h: int, season: int, windows: int,
             days: np.ndarray | None = None) -> _Backtest:
    """Rolling-origin cross-validation on the history only: each model forecasts the last `windows` blocks of h
    periods from the data before each block; errors are scaled by the training part's seasonal differences.
    `days` (monthly series): the models see sales per day and their forecasts are multiplied back by the days of
    each month, errors are on the series' own scale."""
    errors: dict[str, list[np.ndarray | None]] = {n: [] for n in names}
    scales = []
    for w in range(windows, 0, -1):
        cut = len(y) - w * h
        train, test = y[:cut], y[cut:cut + h]
        scales.append(mase_scale(train, season))
        for name in names:
            try:
                pred = _fit(name, train, len(test), season, (), *((days[:cut], days[cut:cut + h])
                                                                  if days is not None else (None, None)))
                errors[name].append(test - pred["mean"])
            except Exception:  # noqa: BLE001 - a model that cannot fit this window is judged as failing it
                errors[name].append(None)
    ok = {n: np.array(e) for n, e in errors.items() if all(x is not None for x in e)}
    return _Backtest(mase={n: _scaled(e, scales) for n, e in ok.items()},
                     mae={n: float(np.mean(np.abs(e))) for n, e in ok.items()}, errors=ok, scales=scales)


def _scaled(errors: np.ndarray, scales: list[float]) -> float:
    return float(np.mean([np.mean(np.abs(row)) / s for row, s in zip(errors, scales, strict=True)]))


def combination_name(members: tuple[str, ...]) -> str:
    order = [*FULL, YEARLY, "AutoETS(nonseasonal)", "SES", "Theta", "RandomWalkWithDrift", *INTERMITTENT]
    members = tuple(sorted(members, key=lambda m: order.index(m) if m in order else len(order)))
    return members[0] if len(members) == 1 else "Mean of " + ", ".join(members)


def _choose(bt: _Backtest) -> tuple[str, ...]:
    """The TOP models with the lowest backtest error (ties: simpler first, in candidate order). Averaging the best
    few beat picking the single best on the training part of the WA benchmark (docs/operations.md): with a few
    dozen points, one backtest cannot tell close models apart, and the mean is more robust than any of them."""
    ranked = sorted(bt.mase, key=lambda n: (bt.mase[n], list(bt.mase).index(n)))
    return tuple(ranked[:TOP])


def _intervals(out: dict[str, np.ndarray], errors: np.ndarray | None, h: int,
               levels: tuple[int, ...]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The model's own intervals when it has them, else normal intervals from the backtest errors, widening with
    the square root of the step (the random-walk rule) beyond the steps the backtest saw."""
    mean = out["mean"]
    lo, hi = {}, {}
    for level in levels:
        if f"lo-{level}" in out:
            lo[level], hi[level] = out[f"lo-{level}"], out[f"hi-{level}"]
            continue
        if errors is not None and errors.size:
            per_step = np.sqrt(np.mean(errors ** 2, axis=0))
            base = float(per_step[0]) if per_step[0] > 0 else float(np.sqrt(np.mean(errors ** 2)))
            sd = np.array([per_step[i] if i < len(per_step) else base * math.sqrt(i + 1) for i in range(h)])
        else:
            sd = np.full(h, float(np.std(mean)) if len(mean) > 1 else 0.0)
        z = Z.get(level) or _z(level)
        lo[level], hi[level] = mean - z * sd, mean + z * sd
    return lo, hi


def _z(level: int) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 200)


# ---- holidays ----------------------------------------------------------------------------------------------

def holiday_lifts(calendar: list[date], y: np.ndarray, state: str | None) -> dict[str, float]:
    """How much each holiday kind moved this series: the day's sales over the median of the same weekday in the
    three weeks either side (non-holiday days only), as a mean log ratio over its occurrences. A kind counts only
    when that mean stands out from the day-to-day noise of ordinary days (more than 2.5 standard errors), so a
    store with no 4/20 bump gets no 4/20 adjustment."""
    if len(y) < 28 or np.count_nonzero(y) < 0.8 * len(y):
        return {}
    marks = holiday_days.holiday_calendar(calendar[0], calendar[-1], state)

    def log_ratio(i: int) -> float | None:
        same = [y[j] for k in (-3, -2, -1, 1, 2, 3) if 0 <= (j := i + 7 * k) < len(y) and calendar[j] not in marks]
        if len(same) < 3 or np.median(same) <= 0 or y[i] <= 0:
            return None
        return math.log(y[i] / float(np.median(same)))

    ordinary = [r for i in range(0, len(y), 3) if calendar[i] not in marks and (r := log_ratio(i)) is not None]
    noise = float(np.std(ordinary)) if len(ordinary) > 5 else 0.5
    ratios: dict[str, list[float]] = {}
    for i, day in enumerate(calendar):
        if day in marks and (r := log_ratio(i)) is not None:
            ratios.setdefault(marks[day], []).append(r)
    lifts = {}
    for kind, logs in ratios.items():
        effect = float(np.mean(logs))
        if abs(effect) > 2.5 * noise / math.sqrt(len(logs)):
            lifts[kind] = float(np.clip(math.exp(effect), 0.2, 5.0))
    return lifts


# ---- the forecast ------------------------------------------------------------------------------------------

def forecast_series(series_id: str, dates: list[date], values: list[float], *, horizon: int,
                    levels: tuple[int, ...] = LEVELS, frequency: str | None = None, state: str | None = None,
                    candidates: tuple[str, ...] | None = None, windows: int = 2, yearly: bool = True) -> Forecast:
    """Forecast `horizon` periods after the last date. `candidates`: the regular-series models (default FAST);
    intermittent series always get the Croston family. Daily regular series with the history for it
    (`yearly_history`) also get the yearly model, unless `yearly` is False."""
    if horizon < 1 or horizon > 366:
        raise ForecastError("The horizon is 1 to 366 periods.")
    if len(dates) != len(values) or not dates:
        raise ForecastError("A series needs dates and values of the same length.")
    if not all(math.isfinite(float(v)) for v in values):
        raise ForecastError("Values must be finite numbers.")
    frequency = frequency or infer_frequency(dates)
    calendar, y, filled = regular(dates, values, frequency)
    notes = [f"{filled} missing {'months interpolated' if frequency == 'M' else 'periods counted as 0'}"] if filled else []
    season = season_length(frequency, len(y), horizon)
    future = [step(calendar[-1], frequency, i) for i in range(1, horizon + 1)]
    lifts: dict[str, float] = {}
    if frequency == "D":
        lifts = holiday_lifts(calendar, y, state)
        if lifts:  # fit on the series without its holiday bumps, put them back on the forecast
            marks = holiday_days.holiday_calendar(calendar[0], calendar[-1], state)
            y = np.array([v / lifts.get(marks.get(d, ""), 1.0) for d, v in zip(calendar, y, strict=True)])
    is_intermittent = intermittent(y)
    names = INTERMITTENT if is_intermittent else tuple(candidates or FAST)
    days = future_days = None
    if frequency == "M" and not is_intermittent:  # models see sales per day of the month
        days, future_days = days_in(calendar), days_in(future)
    if not is_intermittent and candidates is None and frequency == "M":
        names = MONTHLY + (MONTHLY_LONG if season > 1 and len(y) >= 4 * season + horizon else ())
    elif not is_intermittent and candidates is None and season > 7:
        if len(y) >= 4 * season + horizon:  # four years and more: enough to estimate yearly seasonal models
            names = FULL
        else:
            names = tuple("AutoETS(nonseasonal)" if n == "AutoETS" else n for n in names)
    if season == 1:
        names = tuple(n for n in names if n != "SeasonalNaive")
    windows = max(1, min(windows, (len(y) - max(2 * season, 8)) // horizon))
    if (yearly and frequency == "D" and not is_intermittent and YEARLY not in names
            and yearly_history(len(y), horizon, windows)):
        names = (*names, YEARLY)
    short = len(y) - horizon < max(2 * season, 8) or len(y) < 2 * horizon
    bt: _Backtest | None = None
    errors = None
    if short:
        seasonal = {"D": 7, "W": 52, "M": 12}[frequency]
        members = ("SeasonalNaive",) if len(y) >= seasonal else ("Naive",)
        season = seasonal if members[0] == "SeasonalNaive" else 1
        notes.append(f"short history ({len(y)} points): {'seasonal ' if season > 1 else ''}naive")
        if len(y) >= 4:
            bt = backtest(y, members, max(1, min(horizon, len(y) // 4)), season, 1, days)
    else:
        bt = backtest(y, names, horizon, season, windows, days)
        members = _choose(bt) or (("SeasonalNaive",) if season > 1 else ("Naive",))
    chosen = combination_name(members)
    if bt is not None and all(m in bt.errors for m in members):
        errors = np.mean([bt.errors[m] for m in members], axis=0)  # the mean forecast's error, window by window
    if is_intermittent:
        notes.append("intermittent demand")
    out = _final(members, y, horizon, season, levels, days, future_days)
    lo, hi = _intervals(out, errors, horizon, levels)
    mean = out["mean"]
    if lifts:
        marks = holiday_days.holiday_calendar(future[0], future[-1], state)
        factor = np.array([lifts.get(marks.get(d, ""), 1.0) for d in future])
        mean, lo, hi = mean * factor, {k: v * factor for k, v in lo.items()}, {k: v * factor for k, v in hi.items()}
        seen = sorted({marks[d] for d in future if marks.get(d) in lifts})
        notes += [f"{holiday_days.KINDS[k]}: x{lifts[k]:.2f} from past years" for k in seen]
    if float(np.min(y)) >= 0:  # demand is never negative
        mean = np.maximum(mean, 0)
        lo, hi = {k: np.maximum(v, 0) for k, v in lo.items()}, {k: np.maximum(v, 0) for k, v in hi.items()}
    residual_sd = float(np.sqrt(np.mean(errors[:, 0] ** 2))) if errors is not None and errors.size else None
    mase = _scaled(errors, bt.scales) if errors is not None else None
    mae = float(np.mean(np.abs(errors))) if errors is not None else None
    return Forecast(series_id=series_id, frequency=FREQUENCIES[frequency], model=chosen, dates=future,
                    mean=[float(v) for v in mean], lo={k: [float(x) for x in v] for k, v in lo.items()},
                    hi={k: [float(x) for x in v] for k, v in hi.items()}, backtest_mase=mase, backtest_mae=mae,
                    history_points=len(y), candidates=dict(bt.mase) if bt and not short else {}, notes=notes,
                    residual_sd=residual_sd,
                    backtest_errors=[float(e) for e in errors.ravel()] if errors is not None else [])


def _final(members: tuple[str, ...], y: np.ndarray, horizon: int, season: int, levels: tuple[int, ...],
           days: np.ndarray | None = None, future_days: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The members fitted on the whole history and averaged (their intervals too, where all of them have some).
    With `days`, non-seasonal members are fitted on sales per day and multiplied back by the days of each month."""
    parts = []
    for name in members:
        try:
            parts.append(_fit(name, y, horizon, season, levels, days, future_days))
        except Exception:  # noqa: BLE001 - the final fit failed where the backtest fits did not: leave it out
            continue
    if not parts:
        parts = [_fit("Naive", y, horizon, 1, levels, days, future_days)]
    return {key: np.mean([p[key] for p in parts], axis=0) for key in parts[0] if all(key in p for p in parts)}


def days_in(months: list[date]) -> np.ndarray:
    """The number of days of each month (monthly dates)."""
    return np.array([monthrange(d.year, d.month)[1] for d in months], dtype=float)
