"""A running app (production build, single port) on its own migrated and seeded database, and Chromium."""

from __future__ import annotations

import contextlib
import email
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import redis as redis_lib
from playwright.sync_api import expect

from icc_app.core import migrations
from icc_app.settings import PROJECT_ROOT
from tests.conftest import PG_SERVER, SHARED_DATA
from tests.e2e.balancer import LoadBalancer

# Assertions wait up to 15 s (Playwright's default is 5): two app workers, a Celery worker and Chromium share two
# cores, and a page that hydrates a little late is not a failure a user would see.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-results"
E2E_REDIS_URL = "redis://127.0.0.1:6379/14"  # the app workers' Redis (Celery, UI state, rate limits)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The running app's environment (database, Redis, storage), for tests that use its CLI.
LIVE_ENV: dict[str, str] = {}


def live_cli(*args: str) -> str:
    """Run `python -m icc_app.cli ...` against the running app's database; returns its output."""
    done = subprocess.run([str(PROJECT_ROOT / ".venv/bin/python"), "-m", "icc_app.cli", *args], env=LIVE_ENV,
                          check=True, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return done.stdout


class Mailbox:
    """A local SMTP server (aiosmtpd) that the app's worker delivers to: tests read what people would get."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, subject_contains: str, timeout: float = 30) -> email.message.Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if message["To"] == to and subject_contains in message["Subject"]:
                    return message
            time.sleep(0.25)
        raise AssertionError(f"no email to {to} about {subject_contains!r}; got {[m['Subject'] for m in self.messages]}")

    @staticmethod
    def link(message: email.message.Message, path: str) -> str:
        body = message.get_payload(decode=True).decode()
        match = re.search(rf"https?://\S+{re.escape(path)}\?token=[\w-]+", body)
        assert match, f"no {path} link in: {body}"
        return match.group(0)


@pytest.fixture(scope="session")
def mailbox():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"
    yield box
    controller.stop()


class TileServer:
    """A local map tile server (what MAP_TILE_URL points at in production): answers every {z}/{x}/{y}.png with a
    real 256x256 PNG and records what the visitors' browsers asked for."""

    def __init__(self):
        import io
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), (226, 232, 222)).save(buffer, "PNG")
        tile, requests = buffer.getvalue(), []
        self.requests = requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tiles/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def tiles():
    server = TileServer()
    yield server
    server.server.shutdown()


def _wait_until_serving(url: str, process: subprocess.Popen, log_path: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app worker exited early:\n{Path(log_path).read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200 and httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"app worker did not start in time:\n{Path(log_path).read_text()[-3000:]}")


# The running load balancer (one per test session), for tests about the app workers behind it.
LIVE_BALANCER: list[LoadBalancer] = []


@pytest.fixture(scope="session")
def load_balancer(live_app) -> LoadBalancer:
    return LIVE_BALANCER[0]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, mailbox, tiles):
    db_name = f"icc_e2e_{os.getpid()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = f"{PG_SERVER}/{db_name}"
    # Production's shape: a load balancer at the public address, two app workers sharing UI state through Redis.
    port, balancer_port, second_port = _free_port(), _free_port(), _free_port()
    public_url = f"http://127.0.0.1:{balancer_port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": E2E_REDIS_URL,
        "REFLEX_REDIS_URL": E2E_REDIS_URL,
        "REFLEX_API_URL": public_url,  # baked into the build: browsers talk to the balancer, never to one worker
        "GRANIAN_WORKERS": "1",
        "STORAGE_URL": f"file://{tmp_path_factory.mktemp('e2e-media')}",
        "PUBLIC_URL": public_url,
        "SMTP_URL": mailbox.url,
        "MAP_TILE_URL": tiles.url,
    }
    LIVE_ENV.clear()
    LIVE_ENV.update(env)
    migrations.upgrade(database_url=database_url)
    # No demo lots: the browser flows start from empty lists and create their own.
    subprocess.run([str(PROJECT_ROOT / ".venv/bin/python"), "-m", "icc_app.cli", "seed", "--demo", "--no-demo-lots",
                    "--no-demo-maps"], env=env,
                   check=True, cwd=PROJECT_ROOT, capture_output=True)
    wa_registry = SHARED_DATA / "licenses" / "licenses-wa-latest.csv"
    if wa_registry.exists():  # the regulator list KYB verifies against (always there in CI)
        subprocess.run([str(PROJECT_ROOT / ".venv/bin/python"), "-m", "icc_app.cli", "licenses", "import",
                        str(wa_registry), "--state", "WA"], env=env, check=True, cwd=PROJECT_ROOT, capture_output=True)
    log_path = tmp_path_factory.mktemp("e2e-log") / "app.log"
    log = open(log_path, "w")
    redis_lib.Redis.from_url(env["REDIS_URL"]).flushdb()  # before the app: its UI state lives here too
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "warning"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    worker = subprocess.Popen(  # the real worker fleet, as `make worker` starts it
        [str(PROJECT_ROOT / ".venv/bin/celery"), "-A", "workers.celery_app", "worker", "-Q", "default,cqi,notifications",
         "--pool", "solo", "--concurrency", "1", "--loglevel", "WARNING"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    children = [process, worker]
    balancer = None
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}", process, log_path, timeout=240)
        second = subprocess.Popen(  # a second app worker on the same build, as scripts/app-worker.sh runs it
            [str(PROJECT_ROOT / "scripts/app-worker.sh"), str(second_port)], env={**env, "HOST": "127.0.0.1"},
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        children.append(second)
        _wait_until_serving(f"http://127.0.0.1:{second_port}", second, log_path, timeout=120)
        balancer = LoadBalancer(upstream_ports=[port, second_port], port=balancer_port)
        LIVE_BALANCER.append(balancer)
        yield public_url
    finally:
        if balancer:
            balancer.close()
            LIVE_BALANCER.clear()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
        log.close()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def fresh_sign_in_budget(live_app):
    """Every browser flow signs in from 127.0.0.1, and the per-address sign-in limit (30 in 5 minutes, tested in
    tests/identity) is real in this app: each flow starts with the budget a person would have, instead of
    inheriting the sign-ins of the flows before it."""
    client = redis_lib.Redis.from_url(E2E_REDIS_URL)
    for key in client.scan_iter("ratelimit:login-ip:*"):
        client.delete(key)
    yield


@pytest.fixture()
def page(browser, live_app):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_app)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
