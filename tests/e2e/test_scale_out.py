"""Scale out: two app workers behind one load balancer share a person's UI state through Redis.

The browser suite always runs this way (tests/e2e/conftest.py: a balancer at the public address, the first worker
from `reflex run --env prod`, the second from scripts/app-worker.sh on the same build). Here the balancer spreads
connections, and a choice made on one worker is still there when the page's next websocket lands on the other.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import sign_in

FLOWER = re.compile("flower", re.IGNORECASE)


def test_a_filter_chosen_on_one_app_worker_is_kept_on_the_other(page, load_balancer):
    sign_in(page, "buyer@icc.demo")
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/exchange")
    page.wait_for_load_state("networkidle")
    product_type = page.get_by_role("combobox", name="Product type")
    product_type.click()
    page.get_by_role("option", name=FLOWER).first.click()
    expect(product_type).to_contain_text(FLOWER)
    chosen_on = load_balancer.websockets()[-1].upstream

    load_balancer.round_robin()
    try:
        for _ in range(4):  # connections alternate; a reload opens a new websocket
            page.reload()
            page.wait_for_load_state("networkidle")
            if load_balancer.websockets()[-1].upstream != chosen_on:
                break
        served_by = load_balancer.websockets()[-1].upstream
        assert served_by != chosen_on, "the balancer never sent the page to the other worker"
        expect(page.get_by_role("combobox", name="Product type")).to_contain_text(FLOWER)
        shot(page, "scale-out-second-worker")
    finally:
        load_balancer.round_robin(False)
