"""Price suggestions, pure: where the nearby market is, how fast the product sells, what the forecast says, and
the category's guard rails. The order of the rails is the point: the daily change cap and the discount cap shape
the move, and the margin floor comes last, so no combination of cheap competitors, slow sales or an expiry
markdown can take a price under cost / (1 - minimum margin)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from statistics import median

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rules:
    min_margin_pct: Decimal = Decimal("30")
    max_discount_pct: Decimal = Decimal("25")
    max_change_pct_per_day: Decimal = Decimal("10")


@dataclass(frozen=True)
class Situation:
    current_price: Decimal
    unit_cost: Decimal | None
    list_price: Decimal | None = None  # the regular price the discount cap counts from (default: current)
    competitor_prices: tuple[Decimal, ...] = ()
    days_of_supply: float | None = None
    demand_change_pct: float | None = None  # forecast next 14 days vs the last 14 days
    days_to_expiry: int | None = None
    expiry_alert_days: int | None = None


@dataclass
class Suggestion:
    price: Decimal
    floor: Decimal | None
    reason: str
    factors: dict = field(default_factory=dict)
    at_floor: bool = False


def floor_price(unit_cost: Decimal | None, min_margin_pct: Decimal) -> Decimal | None:
    """The lowest price keeping the minimum margin (of the price): cost / (1 - margin), rounded up to the cent."""
    if unit_cost is None:
        return None
    margin = Decimal(min_margin_pct) / 100
    if margin >= 1:
        raise ValueError("The minimum margin is below 100%.")
    return (Decimal(unit_cost) / (1 - margin)).quantize(CENT, rounding=ROUND_CEILING)


def suggest(situation: Situation, rules: Rules) -> Suggestion:
    current = Decimal(situation.current_price)
    if current <= 0:
        raise ValueError("The current price must be above zero.")
    factors: dict = {"current_price": str(current)}
    moves: list[tuple[float, str]] = []  # (relative move, why)
    comps = [Decimal(p) for p in situation.competitor_prices if p and Decimal(p) > 0]
    if comps:
        market = Decimal(str(median(comps)))
        factors.update(competitor_median=str(market.quantize(CENT)), competitors=len(comps))
        gap = float((market - current) / current)
        if abs(gap) >= 0.02:  # half-way toward the nearby market's median
            moves.append((gap / 2, f"{len(comps)} nearby {'store' if len(comps) == 1 else 'stores'} "
                                   f"{'charge' if len(comps) > 1 else 'charges'} a median ${market.quantize(CENT)}"))
    if situation.days_of_supply is not None:
        dos = situation.days_of_supply
        factors["days_of_supply"] = round(dos, 1)
        if dos > 60:
            moves.append((-0.05, f"{dos:.0f} days of stock on hand"))
        elif dos < 7:
            left = round(dos)
            moves.append((0.04, f"only {left} {'day' if left == 1 else 'days'} of stock left"))
    if situation.demand_change_pct is not None and math.isfinite(situation.demand_change_pct):
        change = situation.demand_change_pct
        factors["demand_change_pct"] = round(change, 1)
        if change >= 15:
            moves.append((0.03, f"demand forecast up {change:.0f}%"))
        elif change <= -15:
            moves.append((-0.03, f"demand forecast down {abs(change):.0f}%"))
    markdown = False
    if situation.days_to_expiry is not None and situation.expiry_alert_days:
        days, window = situation.days_to_expiry, situation.expiry_alert_days
        factors["days_to_expiry"] = days
        if days <= window:
            share = 1 - max(days, 0) / window  # 0 at the edge of the window, 1 on the expiry day
            cut = float(rules.max_discount_pct) / 100 * max(0.3, share)
            moves.append((-cut, f"expires in {days} {'day' if days == 1 else 'days'}"))
            markdown = True
    raw = current * Decimal(str(1 + sum(m for m, _ in moves)))
    limits = []
    step = current * Decimal(rules.max_change_pct_per_day) / 100
    if not markdown:  # a markdown for expiring stock may move faster than everyday pricing
        if raw > current + step:
            raw, _ = current + step, limits.append("capped at the daily change limit")
        elif raw < current - step:
            raw, _ = current - step, limits.append("capped at the daily change limit")
    reference = Decimal(situation.list_price or current)
    lowest = reference * (1 - Decimal(rules.max_discount_pct) / 100)
    if raw < lowest:
        raw, _ = lowest, limits.append(f"held at the {rules.max_discount_pct}% maximum discount")
    price = raw.quantize(CENT, rounding=ROUND_HALF_UP)
    floor = floor_price(situation.unit_cost, rules.min_margin_pct)
    at_floor = False
    if floor is not None:
        factors.update(unit_cost=str(situation.unit_cost), floor_price=str(floor))
        if price < floor:
            price, at_floor = floor, True
            limits.append(f"held at the margin floor ${floor} ({rules.min_margin_pct}% over cost)")
    reasons = [why for _, why in sorted(moves, key=lambda m: -abs(m[0]))] or ["in line with the market"]
    reason = "; ".join(reasons + limits)
    factors["moves"] = [{"why": why, "pct": round(m * 100, 1)} for m, why in moves]
    return Suggestion(price=price, floor=floor, reason=reason[:500], factors=factors, at_floor=at_floor)


def elasticity(points: list[tuple[str, float, float]], *, min_points: int = 20) -> float | None:
    """Own-price elasticity from (product, price, quantity) days: slope of log quantity on log price with each
    product's own mean removed (so a premium product's lower volume is not read as elasticity). None when prices
    did not vary enough (under 2% spread) or there are too few days with sales."""
    by_product: dict[str, list[tuple[float, float]]] = {}
    for product, price, quantity in points:
        if price > 0 and quantity > 0:
            by_product.setdefault(product, []).append((math.log(price), math.log(quantity)))
    xs, ys = [], []
    for rows in by_product.values():
        if len(rows) < 3:
            continue
        mx = sum(r[0] for r in rows) / len(rows)
        my = sum(r[1] for r in rows) / len(rows)
        xs += [r[0] - mx for r in rows]
        ys += [r[1] - my for r in rows]
    if len(xs) < min_points:
        return None
    sxx = sum(x * x for x in xs)
    if sxx / len(xs) < 0.02 ** 2:
        return None
    return sum(x * y for x, y in zip(xs, ys, strict=True)) / sxx


def revenue_effect_pct(elasticity_value: float | None, old: Decimal, new: Decimal) -> float | None:
    """Expected revenue change of a price move under constant elasticity: (new/old)^(1 + e) - 1, in percent."""
    if elasticity_value is None or old <= 0:
        return None
    ratio = float(new / old)
    return round(((ratio ** (1 + elasticity_value)) - 1) * 100, 1)
