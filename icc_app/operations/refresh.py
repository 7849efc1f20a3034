"""One business's operations refresh, as the nightly task and the `operations refresh` command run it: roll up
the POS sync, refresh and reconcile forecasts, draft purchase orders at reorder points, refresh price suggestions.
Each step is its own transaction, so a failing step leaves the earlier ones done."""

from __future__ import annotations

import uuid

from icc_app.core.db import unit_of_work
from icc_app.operations import data, forecast_service, pricing, purchasing


def refresh_business(business_id: uuid.UUID, *, horizon: int = 30, slow_too: bool = True) -> dict:
    with unit_of_work() as session:
        days = data.sync_from_pos(session, business_id=business_id)
    with unit_of_work() as session:
        stored = forecast_service.refresh_forecasts(session, business_id=business_id, horizon=horizon,
                                                    slow_too=slow_too)
    with unit_of_work() as session:
        drafted = len(purchasing.draft_orders(session, business_id=business_id))
    with unit_of_work() as session:
        suggested = len(pricing.suggest_prices(session, business_id=business_id))
    return {"demand_days": days, "forecasts": stored, "purchase_orders": drafted, "price_suggestions": suggested}
