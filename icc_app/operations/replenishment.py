"""Reorder math, pure: how much stock covers the lead time at a chosen service level, and how much to order.

    lead-time demand  D_L = forecast demand over the next L days
    safety stock      SS  = z(service level) x sigma_1 x sqrt(L)
    reorder point     ROP = D_L + SS
    order-up-to       S   = D_(L+R) + z x sigma_1 x sqrt(L + R)   (R = review period)

sigma_1 is the one-day forecast error of the product's own forecast (its backtest), not a constant, so a product
the forecast gets wrong carries more safety stock. When stock (on hand + on order) is at or below the reorder
point, the order is S - position, at least the supplier's minimum order quantity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from statistics import NormalDist


@dataclass(frozen=True)
class ReorderAdvice:
    lead_time_demand: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    position: float
    order_quantity: Decimal  # 0 when no order is due
    days_of_supply: float | None

    @property
    def due(self) -> bool:
        return self.order_quantity > 0


def z_for(service_level: float) -> float:
    if not 0.5 <= service_level < 1:
        raise ValueError("The service level is between 50% and 99.9%.")
    return NormalDist().inv_cdf(service_level)


def demand_over(daily: list[float], days: int) -> float:
    """Forecast demand over the next `days`; beyond the forecast's horizon its last week's average continues."""
    if days <= len(daily):
        return float(sum(daily[:days]))
    tail = daily[-7:] or [0.0]
    return float(sum(daily)) + (days - len(daily)) * sum(tail) / len(tail)


def advise(*, daily_forecast: list[float], error_sd: float, on_hand: float, on_order: float = 0.0,
           lead_time_days: int, review_period_days: int = 7, service_level: float = 0.95,
           min_order_qty: Decimal = Decimal("1")) -> ReorderAdvice:
    if lead_time_days < 0 or review_period_days < 0:
        raise ValueError("Lead time and review period are zero or more days.")
    z = z_for(service_level)
    sigma = max(0.0, error_sd)
    lead = demand_over(daily_forecast, lead_time_days)
    safety = z * sigma * math.sqrt(lead_time_days)
    rop = lead + safety
    cover = lead_time_days + review_period_days
    up_to = max(rop, demand_over(daily_forecast, cover) + z * sigma * math.sqrt(cover))
    position = on_hand + on_order
    quantity = Decimal("0")
    if position <= rop:
        need = Decimal(str(up_to - position)).quantize(Decimal("1"), rounding=ROUND_CEILING)
        quantity = max(need, Decimal(min_order_qty))
    per_day = demand_over(daily_forecast, 7) / 7
    return ReorderAdvice(lead_time_demand=lead, safety_stock=safety, reorder_point=rop, order_up_to=up_to,
                         position=position, order_quantity=quantity,
                         days_of_supply=(on_hand / per_day) if per_day > 0 else None)
