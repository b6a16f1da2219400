"""Browser tests: a real uvicorn server on a real migrated PostGIS database, driven by Debian's
Chromium through Python Playwright. See docs/mobile-app.md ("Add a browser test").

Per pytest-xdist worker, once: a database of its own (``civicloop_browser_<pid>``, migrated by alembic,
with the reference data of ``tests/conftest.py``: Amsterdam and Utrecht, their areas, categories and
staff), an SMTP sink and one uvicorn process (with the notifications worker and the clock, as in
production); per test module one Chromium. Per test: a fresh browser context (own storage, service worker and
IndexedDB) with a phone profile, geolocation granted at Dam square. Tests make their own data (a
new anonymous device each, unique texts), so nothing is deleted and nothing is shared.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from playwright.sync_api import Browser, Playwright, sync_playwright

from core.db import make_engine, sync_url
from core.settings import PROJECT_DIR
from tests.conftest import World, _server_url, build_world
from tests.mobile_client.harness import PHONES, App
from tests.notifications.conftest import SmtpSink, start_smtp

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # WebGL for the maps without a GPU: ANGLE on SwiftShader (software).
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
SECRET = "browser-tests-secret-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Live:
    """The running server and what a test needs to check its effects."""

    base_url: str
    database_url: str  # libpq form, for psycopg
    world: World
    smtp: SmtpSink

    def db(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, autocommit=True)

    def api(self, who: str | None = None) -> httpx.Client:
        """An HTTP client to the live server, as one of the world's people (or anonymous)."""
        headers = {"Authorization": f"Bearer {self.world.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    admin_url, template = _server_url()
    name = f"civicloop_browser_{os.getpid()}"
    with psycopg.connect(sync_url(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = template.replace("{db}", name)
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")

    async def seed() -> World:
        engine = make_engine(url, pool_size=2)
        try:
            return await build_world(engine)
        finally:
            await engine.dispose()

    # In a thread of its own: pytest-asyncio keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        world = pool.submit(asyncio.run, seed()).result()
    smtp = SmtpSink(port=free_port())
    controller = start_smtp(smtp)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CIVICLOOP_ENVIRONMENT": "test",
        "CIVICLOOP_SECRET_KEY": SECRET,
        "CIVICLOOP_MEDIA_DIR": str(folder / "media"),
        "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(folder / "vapid.pem"),
        "CIVICLOOP_SMTP_HOST": "127.0.0.1",
        "CIVICLOOP_SMTP_PORT": str(smtp.port),
        "CIVICLOOP_PUBLIC_BASE_URL": base_url,
        "CIVICLOOP_SATISFACTION_DELAY_SECONDS": "0",
        "CIVICLOOP_DB_POOL_SIZE": "4",
        # Every test registers devices from 127.0.0.1; the limits are tested in tests/api/test_rate_limits.py.
        "CIVICLOOP_RATE_LIMITS": "false",
    }
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.mobile_client.server:app",
            "--factory",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(folder / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield Live(base_url=base_url, database_url=sync_url(url), world=world, smtp=smtp)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        controller.stop()
        log.close()
        with psycopg.connect(sync_url(admin_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Module scope, not session: while Playwright's sync API is started it keeps an event loop marked as
# running in this thread, and the async tests of other modules on the same xdist worker could not run
# theirs. pytest finalizes module fixtures as soon as the worker moves to a test of another module.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def open_app(
    playwright: Playwright, browser: Browser, live: Live, *, phone: str = "pixel", language: str = "nl"
) -> App:
    context = browser.new_context(
        **PHONES[phone](playwright),
        locale={"nl": "nl-NL", "en": "en-GB"}[language],
        geolocation={"longitude": 4.8927, "latitude": 52.3731, "accuracy": 12},
        permissions=["geolocation"],
        base_url=live.base_url,
        service_workers="allow",
    )
    return App(context, live, language)


@pytest.fixture
def app(playwright: Playwright, browser: Browser, live: Live) -> Iterator[App]:
    """The app on a Pixel 7 in Dutch, not yet started (``app.start()`` registers a device)."""
    opened = open_app(playwright, browser, live)
    yield opened
    opened.close()


@pytest.fixture
def open_phone(playwright: Playwright, browser: Browser, live: Live) -> Iterator[object]:
    """Open more apps: ``open_phone(phone="iphone_se", language="en")``; all closed after the test."""
    opened: list[App] = []

    def opener(**options: str) -> App:
        opened.append(open_app(playwright, browser, live, **options))
        return opened[-1]

    yield opener
    for each in opened:
        each.close()
