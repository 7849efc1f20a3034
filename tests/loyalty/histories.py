"""Generated purchase histories with a known truth: each customer buys at their own rate until they silently stop,
so a model that learns behaviour can tell who will come back."""

from __future__ import annotations

import random
from datetime import date, timedelta

from icc_app.loyalty.churn import Purchase


def generate(n: int, *, start: date, end: date, seed: int = 1) -> list[Purchase]:
    rng = random.Random(seed)
    out = []
    span = (end - start).days
    for i in range(n):
        rate = rng.choice([1 / 7, 1 / 14, 1 / 30, 1 / 60])  # visits per day
        first = rng.randrange(0, span // 2)
        life = rng.expovariate(1 / rng.choice([60, 200, 2000]))  # days until they stop
        spend = rng.uniform(20, 90)
        day = float(first)
        while day < span and day - first <= life:
            out.append(Purchase(f"c{i}", start + timedelta(days=int(day)), round(spend * rng.uniform(0.6, 1.4), 2)))
            day += rng.expovariate(rate)
    return out
