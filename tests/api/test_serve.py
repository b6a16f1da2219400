"""``civicloop serve`` as an operator runs it: several processes on one database, links that follow the port.

A real ``civicloop serve --workers 2`` (two uvicorn processes, each with its notifications worker) on a
scratch database and a free port; a real SMTP server counts what the residents get.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.cli import default_public_base_url
from core.settings import PROJECT_DIR, Settings
from tests.notifications.conftest import SmtpSink, free_port, start_smtp
from tests.outage import ScratchDatabase, scratch_database


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 9000, "http://localhost:9000"),
        ("::", 9000, "http://localhost:9000"),
        ("::1", 8001, "http://[::1]:8001"),
        ("civicloop.example.org", 80, "http://civicloop.example.org:80"),
    ],
)
def test_the_default_public_base_url_follows_host_and_port(host: str, port: int, expected: str) -> None:
    assert default_public_base_url(Settings(_env_file=None), host, port) == expected


def test_an_explicit_public_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLOOP_PUBLIC_BASE_URL", "https://meldingen.example.org")
    settings = Settings(_env_file=None)
    assert default_public_base_url(settings, "127.0.0.1", 8123) == "https://meldingen.example.org"


@pytest.fixture
def database() -> Iterator[ScratchDatabase]:
    with scratch_database() as scratch:
        yield scratch


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = start_smtp(sink)
    yield sink
    controller.stop()


def wait_until_up(base: str, process: subprocess.Popen[bytes], within: float = 150) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "civicloop serve exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("civicloop serve did not come up")


def test_two_serve_processes_deliver_each_notification_once_with_links_to_their_port(
    database: ScratchDatabase, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    [(jurisdiction,)] = database.execute(
        "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
        " VALUES ('serve', 'Serve', 'Europe/Amsterdam', 'NL', 'nl') RETURNING id"
    )
    [(account,)] = database.execute(
        "INSERT INTO accounts (jurisdiction_id, email, is_anonymous, locale)"
        " VALUES (%s, 'bewoner@serve.test', false, 'nl') RETURNING id",
        (jurisdiction,),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CIVICLOOP_") and key != "DATABASE_URL"
    }
    environment |= {
        "DATABASE_URL": database.url,
        "CIVICLOOP_SMTP_HOST": "127.0.0.1",
        "CIVICLOOP_SMTP_PORT": str(smtp_server.port),
        "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(tmp_path / "vapid.pem"),
        "CIVICLOOP_MEDIA_DIR": str(tmp_path / "media"),
        "CIVICLOOP_WORKER_POLL_SECONDS": "0.5",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, process)
        events = database.execute(
            "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
            " SELECT %s, 'ballot.received', 'round', 1,"
            " jsonb_build_object('title', 'Buurtbudget', 'account_id', %s::bigint)"
            " FROM generate_series(1, 60) RETURNING event_id",
            (jurisdiction, account),
        )
        expected = {str(row[0]) for row in events}
        deadline = time.monotonic() + 30
        while len(smtp_server.messages) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # a second copy, if any were coming
        with smtp_server.lock:
            received = Counter(str(message["X-Civicloop-Event-Id"]) for message in smtp_server.messages)
            links = {str(message["List-Unsubscribe"]) for message in smtp_server.messages}
        assert set(received) == expected and max(received.values()) == 1
        assert all(link.startswith(f"<{base}/api/v1/notifications/unsubscribe/") for link in links), links
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["worker"]["in_this_process"] is True

        def listeners() -> int:
            [(count,)] = database.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ILIKE 'LISTEN %%'"
            )
            return int(str(count))

        deadline = time.monotonic() + 30
        while listeners() < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert listeners() == 4, "each process's worker listens on its two channels"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert f"links in notifications point to {base}" not in output  # the same as where it serves
    assert "Traceback" not in output, output
