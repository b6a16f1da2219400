"""Keys and tokens never reach the logs: uvicorn's access log of a real ``civicloop serve`` and the app's
own log records (issue 12, item 15)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.log_redaction import REDACTED, RedactingFilter, redact
from core.settings import PROJECT_DIR
from tests.api.test_serve import wait_until_up
from tests.notifications.conftest import free_port
from tests.outage import ScratchDatabase, scratch_database

SECRETS = {
    "api_key": "K3y-0f-an-open311-cl1ent",
    "unsubscribe": "eyJ1bnN1YnNjcmliZSI6MX0.c2lnbmF0dXJl",
    "satisfaction": "eyJzYXRpc2ZhY3Rpb24iOjJ9.c2lnbmVk",
    "feedback": "eyJmZWVkYmFjayI6M30.bGluaw",
    "code": "ABCD-EFGH-JKMN-PQRS",
    "bearer": "bearer-token-that-must-not-leak",
}


def test_redact_knows_the_places_secrets_travel_in() -> None:
    line = (
        '127.0.0.1:5000 - "POST /open311/v2/requests.json?jurisdiction_id=amsterdam'
        f"&api_key={SECRETS['api_key']}"
        f' HTTP/1.1" 403 and /api/v1/notifications/unsubscribe/{SECRETS["unsubscribe"]} and'
        f" /feedback/{SECRETS['feedback']}?x=1 and /vote?code={SECRETS['code']}&service_code=pothole and"
        f" Authorization: Bearer {SECRETS['bearer']}"
    )
    cleaned = redact(line)
    assert not [name for name, secret in SECRETS.items() if secret in cleaned and name != "satisfaction"]
    assert "jurisdiction_id=amsterdam" in cleaned and "service_code=pothole" in cleaned
    assert cleaned.count(REDACTED) == 5


def test_the_filter_rewrites_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("civicloop.test-redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="civicloop.test-redaction"):
        logger.info(
            "called %s with %s", f"/satisfaction/{SECRETS['satisfaction']}", f"Bearer {SECRETS['bearer']}"
        )
        logger.info(f"token in the message: /unsubscribe/{SECRETS['unsubscribe']}")
    assert SECRETS["satisfaction"] not in caplog.text and SECRETS["bearer"] not in caplog.text
    assert SECRETS["unsubscribe"] not in caplog.text and caplog.text.count(REDACTED) == 3


@pytest.fixture
def database() -> Iterator[ScratchDatabase]:
    with scratch_database() as scratch:
        yield scratch


def test_the_access_log_of_civicloop_serve_holds_no_key_or_token(
    database: ScratchDatabase, tmp_path: Path
) -> None:
    database.execute(
        "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
        " VALUES ('logs', 'Logs', 'Europe/Amsterdam', 'NL', 'nl')"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_") and k != "DATABASE_URL"
    }
    environment |= {
        "DATABASE_URL": database.url,
        "CIVICLOOP_RUN_WORKER": "false",
        "CIVICLOOP_MEDIA_DIR": str(tmp_path / "media"),
        "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(tmp_path / "vapid.pem"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, process)
        with httpx.Client(base_url=base, timeout=10) as client:
            answers = [
                client.post(
                    "/open311/v2/requests.json",
                    params={"jurisdiction_id": "logs", "api_key": SECRETS["api_key"]},
                    data={"service_code": "x"},
                ),
                client.get(f"/api/v1/notifications/unsubscribe/{SECRETS['unsubscribe']}"),
                client.get(f"/api/v1/notifications/satisfaction/{SECRETS['satisfaction']}"),
                client.get(f"/feedback/{SECRETS['feedback']}"),
                client.get("/vote", params={"code": SECRETS["code"]}),
                client.get("/api/v1/me", headers={"Authorization": f"Bearer {SECRETS['bearer']}"}),
            ]
        assert all(answer.status_code < 500 for answer in answers), [a.status_code for a in answers]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert '"POST /open311/v2/requests.json?jurisdiction_id=logs&api_key=[redacted] HTTP/1.1"' in output, (
        output
    )
    leaked = [name for name, secret in SECRETS.items() if secret in output]
    assert leaked == [], output
    assert output.count(REDACTED) >= 5
