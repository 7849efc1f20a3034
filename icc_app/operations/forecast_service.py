"""Stored demand forecasts: each product at each location, its category there and the location as a whole are
forecast from daily demand, reconciled so products add up to categories and categories to the location, and
saved with the model, its version and its backtest error (the console's trust indicator)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlmodel import Session, col, select

from icc_app.core.errors import NotFound
from icc_app.core.models import utcnow
from icc_app.identity.schemas import Principal
from icc_app.operations import scoping
from icc_app.operations.forecasting import MODEL_VERSION, Forecast, ForecastError, forecast_series
from icc_app.operations.models import DemandDay, StockItem, StoredForecast
from icc_app.operations.reconcile import reconcile_forecasts

HISTORY_DAYS = 400
FAST_MOVER_PER_DAY = 1.0  # a product selling at least this much a day is refreshed daily, others weekly


def trust(mase: float | None) -> str:
    """How far to trust a forecast, in words, from its backtest MASE (1.0 = as good as last period's value)."""
    if mase is None:
        return "unknown"
    if mase < 0.8:
        return "good"
    if mase < 1.2:
        return "fair"
    return "low"


def _series(rows: list[DemandDay], start: date, end: date) -> tuple[list[date], list[float]]:
    by_day: dict[date, float] = defaultdict(float)
    for r in rows:
        by_day[r.day] += float(r.quantity)
    first = min(by_day) if by_day else start
    days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    return days, [by_day.get(d, 0.0) for d in days]


def forecast_location(rows: list[DemandDay], *, location: str, horizon: int, end: date,
                      state: str | None = None) -> dict[tuple[str, str], Forecast]:
    """Forecasts of every product, category and the location itself, reconciled. Keys: (level, node_key)."""
    products: dict[str, list[DemandDay]] = defaultdict(list)
    category_of: dict[str, str] = {}
    for r in rows:
        products[r.product_key].append(r)
        category_of[r.product_key] = r.category or "other"
    start = min((r.day for r in rows), default=end)
    nodes: dict[str, tuple[list[date], list[float]]] = {}
    for product, product_rows in products.items():
        nodes[f"product:{product}"] = _series(product_rows, start, end)
    groups: dict[str, list[str]] = {}
    for category in sorted(set(category_of.values())):
        members = [p for p in products if category_of[p] == category]
        groups[f"category:{category}"] = [f"product:{p}" for p in members]
        nodes[f"category:{category}"] = _series([r for p in members for r in products[p]], start, end)
    groups[f"location:{location}"] = [f"product:{p}" for p in products]
    nodes[f"location:{location}"] = _series(rows, start, end)
    forecasts: dict[str, Forecast] = {}
    for node, (dates, values) in nodes.items():
        if len(dates) < 2:
            dates, values = [dates[0] - timedelta(days=1), *dates], [0.0, *values]
        try:
            forecasts[node] = forecast_series(node, dates, values, horizon=horizon, frequency="D", state=state)
        except ForecastError:
            continue
    bottom = [n for n in forecasts if n.startswith("product:")]
    usable = {g: [m for m in members if m in forecasts] for g, members in groups.items() if g in forecasts}
    if bottom and usable:
        forecasts, _ = reconcile_forecasts(forecasts, bottom, usable)
    return {tuple(node.split(":", 1)): f for node, f in forecasts.items()}


def refresh_forecasts(session: Session, *, business_id: uuid.UUID, horizon: int = 30, today: date | None = None,
                      state: str | None = None, slow_too: bool = True) -> int:
    """System task (no principal; every statement filtered by the business): forecast every location of a
    business and store the results. `slow_too=False` (the daily run) skips locations whose products are all slow
    movers that were refreshed in the last week. Returns the forecasts stored."""
    today = today or datetime.now(UTC).date()
    end = today - timedelta(days=1)
    rows = session.exec(select(DemandDay).where(DemandDay.business_id == business_id,
                                                DemandDay.day >= end - timedelta(days=HISTORY_DAYS),
                                                DemandDay.day <= end)).all()
    by_location: dict[str, list[DemandDay]] = defaultdict(list)
    for r in rows:
        by_location[r.location_key].append(r)
    stored = {(f.location_key, f.level, f.node_key): f for f in session.exec(
        select(StoredForecast).where(StoredForecast.business_id == business_id))}
    names = {(s.location_key, s.product_key): (s.name, s.menu_item_id) for s in session.exec(
        select(StockItem).where(StockItem.business_id == business_id))}
    count, now = 0, utcnow()
    for location, location_rows in by_location.items():
        if not slow_too and _all_slow_and_fresh(stored, location, now):
            continue
        for (level, node), result in forecast_location(location_rows, location=location, horizon=horizon, end=end,
                                                       state=state).items():
            row = stored.get((location, level, node)) or StoredForecast(
                business_id=business_id, location_key=location, level=level, node_key=node, model="",
                model_version=MODEL_VERSION, refreshed_at=now)
            name, menu_item_id = names.get((location, node), (node, None)) if level == "product" else (node, None)
            row.name, row.menu_item_id = name, menu_item_id
            row.frequency, row.model, row.model_version = result.frequency, result.model, MODEL_VERSION
            row.backtest_mase, row.backtest_mae, row.residual_sd = (result.backtest_mase, result.backtest_mae,
                                                                    result.residual_sd)
            row.history_points, row.horizon, row.notes = result.history_points, horizon, result.notes[:10]
            row.values = result.as_json()["forecast"]
            row.fast_mover = float(np.mean(result.mean)) >= FAST_MOVER_PER_DAY if result.mean else False
            row.refreshed_at = now
            session.add(row)
            count += 1
    session.flush()
    return count


def _all_slow_and_fresh(stored: dict, location: str, now: datetime) -> bool:
    rows = [f for (loc, level, _), f in stored.items() if loc == location and level == "product"]
    return bool(rows) and all(not f.fast_mover and now - f.refreshed_at < timedelta(days=7) for f in rows)


def list_forecasts(session: Session, *, principal: Principal, business_id: uuid.UUID, level: str | None = None,
                   location_key: str | None = None) -> list[StoredForecast]:
    scoping.member(principal, business_id)
    query = scoping.rows(StoredForecast, principal, business_id)
    if level:
        query = query.where(StoredForecast.level == level)
    if location_key:
        query = query.where(StoredForecast.location_key == location_key)
    return list(session.exec(query.order_by(StoredForecast.level, col(StoredForecast.name))))


def get_forecast(session: Session, *, principal: Principal, business_id: uuid.UUID,
                 forecast_id: uuid.UUID) -> StoredForecast:
    scoping.member(principal, business_id)
    row = session.exec(scoping.rows(StoredForecast, principal, business_id)
                       .where(StoredForecast.id == forecast_id)).first()
    if row is None:
        raise NotFound("Forecast not found.")
    return row


def product_forecasts(session: Session, business_id: uuid.UUID) -> dict[tuple[str, str], StoredForecast]:
    """(location, product) -> its stored forecast (services that already checked access)."""
    return {(f.location_key, f.node_key): f for f in session.exec(
        select(StoredForecast).where(StoredForecast.business_id == business_id, StoredForecast.level == "product"))}


def history(session: Session, business_id: uuid.UUID, location_key: str, level: str, node_key: str,
            days: int = 60, today: date | None = None) -> list[tuple[date, float]]:
    """The recent daily demand behind a node, for the chart beside its forecast."""
    today = today or datetime.now(UTC).date()
    query = select(DemandDay).where(DemandDay.business_id == business_id, DemandDay.location_key == location_key,
                                    DemandDay.day >= today - timedelta(days=days))
    if level == "product":
        query = query.where(DemandDay.product_key == node_key)
    elif level == "category":
        query = query.where(DemandDay.category == node_key)
    by_day: dict[date, float] = defaultdict(float)
    for r in session.exec(query):
        by_day[r.day] += float(r.quantity)
    return sorted(by_day.items())
