"""The public dispensary page in headless Chromium against the running app (production build, PostgreSQL):
a store with a 300-item menu (the 226 products of a real Dutchie menu capture, topped up with copies). Time to
first contentful paint and to interactive (the hydrated page with the whole menu in the DOM), and the menu
search's answer time after a keystroke; median of several cold loads, timed inside the page.
Baseline in the same run: the same page for a store with an empty menu. Target: under 1 s locally."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import time

import httpx
from sqlmodel import Session

from bench.common import Section, scratch_database
from icc_app.core.db import make_engine
from icc_app.integrations.dutchie.mapping import menu_item_values
from icc_app.maps.menus import sync_items
from icc_app.maps.models import Dispensary
from icc_app.settings import PROJECT_ROOT

MENU_SIZE = 300
LOADS = int(os.environ.get("BENCH_PAGE_LOADS", "7"))
CAPTURE = PROJECT_ROOT.parent / "shared" / "data" / "menus" / "shopcuzzies_products.json"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "/dispensaries/wa/seattle/bench-store-b0000001"
EMPTY = "/dispensaries/wa/seattle/bench-empty-b0000002"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(url: str) -> None:
    products = json.loads(CAPTURE.read_text())
    items = [menu_item_values(p) for p in products]
    n = 0
    while len(items) < MENU_SIZE:  # copies with their own ids, as a bigger store would list
        external_id, values = menu_item_values(products[n % len(products)])
        items.append((f"{external_id}-copy{n}", {**values, "name": values["name"] + f" #{n + 2}"}))
        n += 1
    engine = make_engine(url)
    with Session(engine) as session:
        store = Dispensary(name="Bench Store", license_number="B0000001", state="WA", city="Seattle",
                           city_slug="seattle", slug="bench-store-b0000001", latitude=47.61, longitude=-122.33,
                           hours={"monday": ["08:00", "22:00"]}, services=["pickup"])
        session.add(store)
        session.add(Dispensary(name="Bench Empty", license_number="B0000002", state="WA", city="Seattle",
                               city_slug="seattle", slug="bench-empty-b0000002", latitude=47.62, longitude=-122.33,
                               hours={"monday": ["08:00", "22:00"]}, services=["pickup"]))
        session.flush()
        sync_items(session, dispensary_id=store.id, source="dutchie", items=[(k, {**v, "in_stock_qty": max(
            1, v["in_stock_qty"])}) for k, v in items[:MENU_SIZE]])
        session.commit()
    engine.dispose()


WATCH = """
window.__icc = {};
document.addEventListener('input', () => { if (!window.__icc.input) window.__icc.input = performance.now(); }, true);
new MutationObserver(() => {
  const n = document.querySelectorAll(window.__iccSelector || '#where').length;
  if (!window.__icc.ready && n >= (window.__iccCount || 1)) window.__icc.ready = performance.now();
  if (window.__icc.ready && window.__icc.typed && !window.__icc.answered && n < window.__iccCount)
    window.__icc.answered = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


def _measure(browser, base: str, path: str, ready: str, count: int | None) -> tuple[float, float, float]:
    """(first contentful paint, content in the DOM, search latency) in seconds, read in the page: a
    MutationObserver notes when the content is in the DOM (from navigation start), and how long after the input
    event the filtered menu is there (no polling from outside)."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(f"window.__iccSelector = {ready!r}; window.__iccCount = {count or 1};" + WATCH)
    page.goto(base + path, wait_until="commit")
    page.wait_for_function("window.__icc && window.__icc.ready", timeout=60000)
    if count is not None:  # the menu search answers: the typing pause, a server round trip and a re-render
        page.evaluate("window.__icc.typed = performance.now()")
        page.fill("#menu-search", "gummies")
        page.wait_for_function("window.__icc.answered", timeout=60000)
    page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0", timeout=60000)
    marks = page.evaluate("({fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime, "
                          "...window.__icc})")
    context.close()
    search = (marks["answered"] - marks["input"]) / 1000 if count is not None else 0.0
    return marks["fcp"] / 1000, marks["ready"] / 1000, search


def run() -> Section:
    from playwright.sync_api import sync_playwright

    section = Section(
        title="Dispensary page",
        description=(f"Headless Chromium against the running app (production build, PostgreSQL), {LOADS} cold loads "
                     f"each, median. The dispensary page has a {MENU_SIZE}-item menu from a real Dutchie capture; "
                     "interactive means the hydrated page with every menu item in the DOM (from navigation start, timed "
                     "in the page); the menu search column is the time from the keystroke to the filtered menu "
                     "(the search box waits 120 ms for typing to pause, then asks the server). Baseline: the same "
                     "page for a store with an empty menu, same run. Target: under 1 s."),
        headers=["page", "first contentful paint ms", "interactive: content in the DOM ms",
                 "ratio to baseline (interactive)", "menu search answered ms"])
    with scratch_database("icc_bench_page") as url:
        _seed(url)
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "PUBLIC_URL": f"http://127.0.0.1:{port}", "MAP_TILE_URL": ""}
        env.pop("REDIS_URL", None)
        process = subprocess.Popen([str(PROJECT_ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port",
                                    "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "warning"],
                                   cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/ping", timeout=2).status_code == 200 and \
                            httpx.get(base + PAGE, timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                _measure(browser, base, PAGE, ".menu-item", MENU_SIZE)  # warm the server
                runs = {"baseline: dispensary page, empty menu": [_measure(browser, base, EMPTY, "h1", None)
                                                                  for _ in range(LOADS)],
                        f"dispensary page, {MENU_SIZE} items": [_measure(browser, base, PAGE, ".menu-item", MENU_SIZE)
                                                               for _ in range(LOADS)]}
                browser.close()
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
    baseline = statistics.median(r[1] for r in runs["baseline: dispensary page, empty menu"])
    for name, samples in runs.items():
        fcp, ready, search = (statistics.median(s[i] for s in samples) for i in range(3))
        section.rows.append([name, f"{fcp * 1000:.0f}", f"{ready * 1000:.0f}", f"{ready / baseline:.2f}",
                             f"{search * 1000:.0f}" if search else "-"])
    return section
