"""Command line of operations (`python -m icc_app.cli operations ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Operations suite: forecasts, reorder, pricing.")


@app.command("forecast")
def forecast(
    file: Path = typer.Argument(..., help="CSV with columns series_id, date, value (daily, weekly or monthly)."),
    horizon: int = typer.Option(14, "--horizon", "-h", min=1, max=366, help="Periods ahead to forecast."),
    state: str = typer.Option("", "--state", help="Two-letter state, for its holidays (daily series)."),
    full: bool = typer.Option(False, "--full", help="Every candidate model, AutoARIMA and yearly-seasonal ETS too (slower)."),
) -> None:
    """Forecast every series in FILE: one JSON line per series with the chosen model, its backtest error, and the
    point forecast with 80% and 95% intervals per date."""
    from icc_app.operations import forecasting
    from icc_app.operations.series_csv import CsvError, read_series

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"Cannot read {file}: {exc.strerror or exc}.", err=True)
        raise typer.Exit(2) from None
    try:
        series = read_series(data)
    except CsvError as exc:
        typer.echo(f"{file.name}: {exc}", err=True)
        raise typer.Exit(2) from None
    failed = 0
    candidates = forecasting.FULL if full else None
    for series_id, (dates, values) in series.items():
        try:
            result = forecasting.forecast_series(series_id, dates, values, horizon=horizon, state=state or None,
                                                 candidates=candidates)
        except forecasting.ForecastError as exc:
            failed += 1
            typer.echo(json.dumps({"series_id": series_id, "error": str(exc)}))
            continue
        typer.echo(json.dumps(result.as_json()))
    if failed:
        raise typer.Exit(1)


@app.command("refresh")
def refresh(business_id: str = typer.Argument(..., help="The business's id."),
            horizon: int = typer.Option(30, "--horizon", min=1, max=366, help="Days ahead.")) -> None:
    """Roll up the POS sync, refresh and reconcile forecasts, draft purchase orders and price suggestions for one
    business now (what the nightly task does)."""
    import uuid

    from icc_app.operations.refresh import refresh_business

    try:
        business = uuid.UUID(business_id)
    except ValueError:
        typer.echo(f"{business_id!r} is not a business id.", err=True)
        raise typer.Exit(2) from None
    done = refresh_business(business, horizon=horizon)
    typer.echo(f"{done['demand_days']} demand days from the POS, {done['forecasts']} forecasts, "
               f"{done['purchase_orders']} purchase orders drafted, {done['price_suggestions']} price suggestions.")
