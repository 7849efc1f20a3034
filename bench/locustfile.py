"""Load for the marketplace benchmark (bench/marketplace_search.py starts it with --headless).

BENCH_MODE=baseline hits GET /api/v1/me (authentication and the framework, no search); BENCH_MODE=search runs
the marketplace mix: full text, filters, every sort, distance from the buyer's premises, pages 1-3."""

import os
import random

from locust import HttpUser, between, constant, task

TOKEN = os.environ["BENCH_TOKEN"]
BUYER = os.environ["BENCH_BUYER"]
MODE = os.environ.get("BENCH_MODE", "search")
# "people": each user reads a page 0.5-1.5 s before the next search; "saturation": no pause at all.
PACING = os.environ.get("BENCH_PACING", "people")
WORDS = ["purple", "kush", "haze", "diesel", "cookies", "gelato", "indoor", "sungrown", "runtz", "glue"]
SORTS = ["newest", "price_asc", "price_desc", "thc", "cqi", "distance"]


def search_params() -> dict:
    params = {"sort": random.choice(SORTS), "page": random.choice([1, 1, 1, 2, 3]), "per_page": 24,
              "buyer_business_id": BUYER}
    roll = random.random()
    if roll < 0.35:
        params["q"] = random.choice(WORDS)
    if random.random() < 0.4:
        params["product_type"] = random.choice(["flower", "pre_roll", "concentrate", "vape", "trim"])
    if random.random() < 0.3:
        params["thc_min"] = random.choice([15, 20, 25])
    if random.random() < 0.3:
        params["price_max"] = random.choice([500, 1000, 2000])
    if random.random() < 0.25:
        params["max_distance_miles"] = random.choice([25, 50, 100, 250])
    if random.random() < 0.2:
        params["safety_passed"] = "true"
    return params


class Buyer(HttpUser):
    wait_time = between(0.5, 1.5) if PACING == "people" else constant(0)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"

    @task
    def browse(self):
        if MODE == "baseline":
            self.client.get("/api/v1/me", name="me")
        else:
            self.client.get("/api/v1/lots", params=search_params(), name="search")
