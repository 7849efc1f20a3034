"""The yearly model of daily series (MSTL, weekly and yearly seasons): it joins the candidates only with two full
years behind every backtest fit, wins only through the series' own backtest, follows a summer peak the way past
years did, and leaves a series without a yearly cycle no worse."""

import json
import math
from datetime import date, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from icc_app.cli import app
from icc_app.operations import forecasting

START = date(2023, 3, 1)
WINTER_END = date(2026, 3, 1)  # three years of history (1096 days), forecast into March
HORIZON = 30


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def curve(dates: list[date], yearly: float) -> np.ndarray:
    """Sales that peak in mid-July and bottom out in mid-January (amplitude `yearly`), 30% more on Fridays to
    Sundays."""
    return np.array([(60 + yearly * math.cos(2 * math.pi * (d.timetuple().tm_yday - 196) / 365.25))
                     * (1.3 if d.weekday() >= 4 else 1.0) for d in dates])


def noisy(dates: list[date], yearly: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    truth = curve(dates, yearly)
    return truth, np.round(np.random.default_rng(seed).normal(truth, 5), 1)


def members(result: forecasting.Forecast) -> list[str]:
    return result.model.removeprefix("Mean of ").split(", ")


def mean_error(forecast: list[float] | np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(forecast) - truth)))


def rise(values: list[float] | np.ndarray) -> float:
    """Last forecast week over the first."""
    return float(np.mean(values[-7:]) - np.mean(values[:7]))


@pytest.fixture(scope="module")
def summer_peak():
    dates = days(START, (WINTER_END - START).days + HORIZON)
    truth, values = noisy(dates, 30.0, seed=18)
    cut = dates.index(WINTER_END)
    history, ahead = dates[:cut], truth[cut:]
    with_yearly = forecasting.forecast_series("store", history, list(values[:cut]), horizon=HORIZON)
    weekly_only = forecasting.forecast_series("store", history, list(values[:cut]), horizon=HORIZON, yearly=False)
    return values[:cut], ahead, with_yearly, weekly_only


def test_the_yearly_model_needs_two_years_behind_every_backtest_fit():
    assert not forecasting.yearly_history(2 * 365 + 2 * 30 - 1, 30, 2)
    assert forecasting.yearly_history(2 * 365 + 2 * 30, 30, 2)
    assert forecasting.yearly_history(2 * 365 + 14, 14, 1)


def test_a_summer_peak_is_learned_from_past_years(summer_peak):
    history, ahead, with_yearly, weekly_only = summer_peak
    assert forecasting.YEARLY in with_yearly.candidates and forecasting.YEARLY not in weekly_only.candidates
    assert forecasting.YEARLY in members(with_yearly)
    # it is a member because its backtest error on the series' own history is among the TOP lowest
    ranked = sorted(with_yearly.candidates, key=with_yearly.candidates.get)
    assert forecasting.YEARLY in ranked[:forecasting.TOP]
    error_yearly, error_weekly = mean_error(with_yearly.mean, ahead), mean_error(weekly_only.mean, ahead)
    assert error_yearly < 0.85 * error_weekly, (error_yearly, error_weekly)
    assert rise(with_yearly.mean) > rise(weekly_only.mean) + 1
    # the yearly model alone climbs out of winter the way the previous years did
    alone = forecasting.YearlyMSTL().forecast(history, HORIZON, [80, 95])
    assert 0.7 * rise(ahead) < rise(alone["mean"]) < 1.3 * rise(ahead)
    assert mean_error(alone["mean"], ahead) < 0.6 * error_weekly
    assert np.all(alone["lo-95"] < alone["lo-80"]) and np.all(alone["hi-80"] < alone["hi-95"])
    for i in range(HORIZON):  # the combined intervals still nest around the mean
        assert (with_yearly.lo[95][i] <= with_yearly.lo[80][i] <= with_yearly.mean[i] <= with_yearly.hi[80][i]
                <= with_yearly.hi[95][i])


def test_one_year_of_daily_history_gets_no_yearly_model():
    dates = days(date(2025, 3, 1), 365)
    _, values = noisy(dates, 30.0, seed=5)
    result = forecasting.forecast_series("new store", dates, list(values), horizon=HORIZON)
    assert forecasting.YEARLY not in result.candidates and forecasting.YEARLY not in members(result)
    assert set(result.candidates) == set(forecasting.FAST)


def test_intermittent_daily_series_get_no_yearly_model():
    dates = days(START, 3 * 365)
    values = np.random.default_rng(3).poisson(0.3, len(dates))
    result = forecasting.forecast_series("slow", dates, list(values), horizon=14)
    assert set(result.candidates) == set(forecasting.INTERMITTENT)


def test_a_series_without_a_yearly_cycle_is_not_made_worse():
    dates = days(START, (WINTER_END - START).days + HORIZON)
    truth, values = noisy(dates, 0.0, seed=7)
    cut = dates.index(WINTER_END)
    with_yearly = forecasting.forecast_series("flat", dates[:cut], list(values[:cut]), horizon=HORIZON)
    weekly_only = forecasting.forecast_series("flat", dates[:cut], list(values[:cut]), horizon=HORIZON, yearly=False)
    assert forecasting.YEARLY in with_yearly.candidates
    assert mean_error(with_yearly.mean, truth[cut:]) <= 1.1 * mean_error(weekly_only.mean, truth[cut:]) + 0.2


def test_the_combination_name_keeps_the_yearly_model_readable():
    assert forecasting.combination_name(("MSTL", "AutoTheta", "Naive")) == "Mean of Naive, AutoTheta, MSTL"
    assert forecasting.combination_name(("MSTL",)) == "MSTL"
    assert forecasting.MODEL_VERSION == "ops-forecast-3"


def test_command_line_names_the_yearly_model(tmp_path):
    dates = days(START, (WINTER_END - START).days)
    _, values = noisy(dates, 30.0, seed=18)
    path = tmp_path / "daily.csv"
    path.write_text("series_id,date,value\n" + "".join(f"store,{d.isoformat()},{v}\n"
                                                         for d, v in zip(dates, values, strict=True)))
    result = CliRunner().invoke(app, ["operations", "forecast", str(path), "--horizon", str(HORIZON)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert len(rows) == 1 and rows[0]["series_id"] == "store" and rows[0]["frequency"] == "daily"
    assert "MSTL" in rows[0]["model"] and "MSTL" in rows[0]["candidates"]
    assert len(rows[0]["forecast"]) == HORIZON and rows[0]["forecast"][0]["date"] == WINTER_END.isoformat()
