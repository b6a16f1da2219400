"""Notifications fixtures: a real SMTP server (aiosmtpd), the app with our router, the worker.

Until the lead mounts ``api.routers.notifications`` in ``create_app``, the tests add it themselves.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import notifications.models  # noqa: F401 - the tables' metadata
from api.app import create_app
from core.settings import Settings
from notifications.settings import NotificationSettings
from notifications.worker import Worker
from tests.response_schemas import response_hooks

SECRET = "test-secret-key-for-links"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpSink:
    """What the SMTP server received; ``reject`` makes it answer 550 for these recipients."""

    port: int
    messages: list[Message] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.sink.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.sink.lock:
            self.sink.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


def start_smtp(sink: SmtpSink) -> Controller:
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    return controller


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = start_smtp(sink)
    yield sink
    controller.stop()


@pytest.fixture
def mail(smtp: SmtpSink) -> SmtpSink:
    smtp.clear()
    smtp.reject.clear()
    return smtp


@pytest.fixture(scope="session")
def vapid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vapid") / "vapid_private.pem"


@pytest.fixture
def notification_settings(smtp: SmtpSink, vapid_file: Path) -> NotificationSettings:
    return NotificationSettings(
        secret_key=SecretStr(SECRET),
        public_base_url="https://civicloop.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="Gemeente <noreply@civicloop.test>",
        vapid_private_key_file=vapid_file,
        satisfaction_delay_seconds=0,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        delivery_max_attempts=3,
        worker_schedule_seconds=0.0,
        smtp_timeout_seconds=2,
        http_timeout_seconds=2,
    )


@pytest.fixture
async def client(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    notification_settings: NotificationSettings,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    app.state.notification_settings = notification_settings
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        yield client


@pytest.fixture
async def worker(
    sessionmaker: async_sessionmaker[AsyncSession], notification_settings: NotificationSettings
) -> AsyncIterator[Worker]:
    # Events that other tests committed (their races) are not this test's business: settle them inside
    # this test's transaction, which is rolled back afterwards, so the worker sees only what we cause.
    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE outbox_events SET processed_at = now() WHERE processed_at IS NULL")
        )
        await session.commit()
    worker = Worker(sessionmaker, notification_settings)
    yield worker
    await worker.aclose()
