"""The forecast engine on small synthetic series: model choice, fallbacks, holidays, intervals, hierarchy, and the
command line's answers to bad files."""

import json
from datetime import date, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from icc_app.operations import forecasting, holidays
from icc_app.cli import app
from icc_app.operations.reconcile import reconcile

rng = np.random.default_rng(7)


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def test_green_wednesday_is_the_day_before_thanksgiving():
    assert holidays.thanksgiving(2026) == date(2026, 11, 26)
    assert holidays.green_wednesday(2026) == date(2026, 11, 25)
    marks = holidays.holiday_calendar(date(2026, 4, 15), date(2026, 4, 25))
    assert marks[date(2026, 4, 20)] == "4_20" and marks[date(2026, 4, 19)] == "4_20_window"


def test_a_store_with_a_420_spike_gets_a_420_spike_in_its_forecast():
    dates = days(date(2025, 3, 1), 420)  # one past 4/20, forecast into the next
    base = np.array([20 + 6 * (d.weekday() >= 4) for d in dates], dtype=float)
    values = rng.poisson(base * np.array([2.5 if (d.month, d.day) == (4, 20) else 1 for d in dates]))
    cut = dates.index(date(2026, 4, 10))
    result = forecasting.forecast_series("store", dates[:cut], list(values[:cut]), horizon=14)
    by_day = dict(zip(result.dates, result.mean, strict=True))
    assert by_day[date(2026, 4, 20)] > 1.6 * by_day[date(2026, 4, 13)]  # same weekday a week before
    assert any("4/20" in note for note in result.notes)


def test_a_store_without_a_420_bump_is_not_adjusted_for_it():
    dates = days(date(2025, 3, 1), 420)
    values = rng.poisson(np.full(len(dates), 30.0))
    cut = dates.index(date(2026, 4, 10))
    result = forecasting.forecast_series("flat", dates[:cut], list(values[:cut]), horizon=14)
    assert not any("4/20" in note for note in result.notes)


def test_slow_movers_get_an_intermittent_demand_method():
    dates = days(date(2026, 1, 1), 120)
    values = rng.poisson(0.2, len(dates))
    result = forecasting.forecast_series("slow", dates, list(values), horizon=14)
    assert "intermittent demand" in result.notes
    assert set(result.candidates) == set(forecasting.INTERMITTENT)
    assert all(0 <= m < 1 for m in result.mean)


def test_short_history_falls_back_to_seasonal_naive():
    dates = days(date(2026, 3, 1), 10)
    values = [5, 6, 7, 8, 9, 20, 22, 5, 6, 7]
    result = forecasting.forecast_series("new", dates, values, horizon=7)
    assert result.model == "SeasonalNaive" and "short history" in result.notes[0]
    assert result.mean == [float(v) for v in values[3:10]]  # the last week, repeated


def test_model_is_chosen_by_backtest_and_intervals_nest():
    dates = days(date(2026, 1, 1), 120)
    values = [10 + 0.3 * i + rng.normal(0, 1) for i in range(120)]  # a steady trend
    result = forecasting.forecast_series("trend", dates, values, horizon=7)
    assert result.frequency == "daily" and result.backtest_mase is not None
    chosen = result.model.removeprefix("Mean of ").split(", ")
    worst = max(result.candidates, key=result.candidates.get)
    assert worst not in chosen  # the worst model in the backtest is never part of the forecast
    for i in range(7):
        assert result.lo[95][i] <= result.lo[80][i] <= result.mean[i] <= result.hi[80][i] <= result.hi[95][i]
    assert result.mean[-1] > values[-1] - 3  # follows the trend instead of falling back to the mean


def test_weekly_and_monthly_dates_are_recognised():
    assert forecasting.infer_frequency([date(2026, 1, 5) + timedelta(weeks=i) for i in range(10)]) == "W"
    assert forecasting.infer_frequency([date(2025, m, 1) for m in range(1, 13)]) == "M"
    monthly = forecasting.forecast_series("m", [date(2024 + (i // 12), i % 12 + 1, 1) for i in range(30)],
                                          [100.0 + i for i in range(30)], horizon=3)
    assert monthly.frequency == "monthly" and monthly.dates[0] == date(2026, 7, 1)


def test_reconciled_products_add_up_to_categories_and_store():
    base = {"store": np.array([100.0, 100]), "flower": np.array([70.0, 70]), "edible": np.array([20.0, 20]),
            "a": np.array([40.0, 40]), "b": np.array([25.0, 25]), "c": np.array([25.0, 25])}
    groups = {"store": ["a", "b", "c"], "flower": ["a", "b"], "edible": ["c"]}
    errors = {k: rng.normal(0, 2, 12) for k in base}
    for use in (None, errors):
        out, _ = reconcile(base, ["a", "b", "c"], groups, use)
        assert np.allclose(out["store"], out["a"] + out["b"] + out["c"])
        assert np.allclose(out["flower"], out["a"] + out["b"]) and np.allclose(out["edible"], out["c"])
        assert all((v >= 0).all() for v in out.values())


def test_command_line_prints_one_json_line_per_series(tmp_path):
    path = tmp_path / "sales.csv"
    lines = ["series_id,date,value"] + [f"gummies,{d.isoformat()},{v}" for d, v in
                                        zip(days(date(2026, 1, 1), 60), rng.poisson(8, 60), strict=True)]
    lines += [f"store,{2024 + i // 12}-{i % 12 + 1:02d},{1000 + 5 * i}" for i in range(30)]
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["operations", "forecast", str(path), "--horizon", "5"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [r["series_id"] for r in rows] == ["gummies", "store"]
    assert rows[0]["frequency"] == "daily" and rows[1]["frequency"] == "monthly"
    assert len(rows[0]["forecast"]) == 5 and {"date", "mean", "lo_80", "hi_95"} <= set(rows[0]["forecast"][0])


def test_command_line_names_the_line_of_a_bad_csv(tmp_path):
    cases = {b"": "empty", b"series_id,date\nx,2026-01-01\n": "line 1: Missing column: value",
             b"series_id,date,value\nx,2026-01-01,3\nx,2026-02-30,4\n": "line 3: '2026-02-30' is not a date",
             b"series_id,date,value\nx,2026-01-01,3\nx,2026-01-02,lots\n": "line 3: 'lots' is not a number",
             b"series_id,date,value\nx,2026-01-01,3\x00\n": "line 2: The file contains NUL bytes",
             b"series_id,date,value\nx,2026-01-01,3\nx,2026-01-01,4\n": "line 3: x has 2026-01-01 twice"}
    for i, (data, expected) in enumerate(cases.items()):
        path = tmp_path / f"bad{i}.csv"
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["operations", "forecast", str(path)])
        assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output, data


def month_starts(first: date, n: int) -> list[date]:
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def test_monthly_sales_follow_the_days_of_each_month():
    """A store selling the same amount every day sells less in February than in March: the forecast says so."""
    months = month_starts(date(2023, 1, 1), 30)  # to June 2025; forecast July 2025 .. June 2026
    per_day = 100.0
    values = [per_day * forecasting.days_in([m])[0] for m in months]
    result = forecasting.forecast_series("store", months, values, horizon=12)
    by_month = dict(zip(result.dates, result.mean, strict=True))
    assert by_month[date(2026, 2, 1)] == pytest.approx(2800, rel=0.01)
    assert by_month[date(2026, 3, 1)] == pytest.approx(3100, rel=0.01)
    assert result.backtest_mase is not None and result.backtest_mase < 0.05  # nothing left to get wrong
    noisy = forecasting.forecast_series("noisy", months, list(np.array(values) * rng.normal(1, 0.05, 30)),
                                        horizon=12)
    for i in range(12):  # intervals put back on the month's days still nest around the forecast
        assert noisy.lo[95][i] <= noisy.lo[80][i] <= noisy.mean[i] <= noisy.hi[80][i] <= noisy.hi[95][i]


def test_monthly_candidates_are_cheap_until_four_years_of_history():
    noise = rng.normal(0, 30, 80)
    short = forecasting.forecast_series("young", month_starts(date(2021, 1, 1), 40),
                                        list(3000 + noise[:40]), horizon=6)
    assert set(short.candidates) == set(forecasting.MONTHLY)
    months = month_starts(date(2018, 7, 1), 60)  # to June 2023
    long = forecasting.forecast_series("old", months, [3000 + 400 * (m.month == 12) + noise[i]
                                                       for i, m in enumerate(months)], horizon=6)
    assert set(long.candidates) == set(forecasting.MONTHLY + forecasting.MONTHLY_LONG)
    december = long.mean[long.dates.index(date(2023, 12, 1))]
    assert december > long.mean[long.dates.index(date(2023, 10, 1))] + 150  # the yearly peak comes back
