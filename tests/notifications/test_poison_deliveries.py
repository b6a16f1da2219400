"""One resident's bad data fails one delivery, never the worker: push keys off the curve, CR/LF in titles."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import record_event
from notifications.settings import NotificationSettings
from notifications.worker import Worker
from participation.events import ProjectProgress
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import BASE, deliveries, submit
from tests.notifications.receivers import receiver


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# 65 bytes in the uncompressed form (0x04 ‖ x ‖ y) whose (x, y) = (1, 1) is not on P-256.
OFF_THE_CURVE = b64(b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"))


def real_key() -> str:
    return b64(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


@pytest.fixture
def notification_settings(notification_settings: NotificationSettings) -> NotificationSettings:
    return notification_settings.model_copy(update={"network_allowlist": ["127.0.0.1/32"]})


async def test_a_push_key_that_is_not_a_point_on_the_curve_is_refused_when_registered(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    async with receiver() as push_service:
        refused = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={
                "endpoint": push_service.url("/push/a"),
                "keys": {"p256dh": OFF_THE_CURVE, "auth": b64(os.urandom(16))},
            },
            headers=bearer(world.tokens["resident"]),
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "invalid-push-key"
        assert "P-256" in refused.json()["detail"]
        stored = await session.scalar(
            text("SELECT count(*) FROM push_subscriptions WHERE endpoint = :e"),
            {"e": push_service.url("/push/a")},
        )
        assert stored == 0
        accepted = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={
                "endpoint": push_service.url("/push/b"),
                "keys": {"p256dh": real_key(), "auth": b64(os.urandom(16))},
            },
            headers=bearer(world.tokens["resident"]),
        )
        assert accepted.status_code == 201, accepted.text


async def test_a_stored_subscription_with_a_bad_key_fails_only_its_own_delivery(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    """A subscription stored before keys were checked (or by any other way): its push goes dead with the
    reason, the worker goes on, and every other delivery of the batch goes out."""
    async with receiver() as push_service:
        await session.execute(
            text(
                "INSERT INTO push_subscriptions (account_id, endpoint, p256dh, auth)"
                " VALUES (:account, :endpoint, :key, :auth)"
            ),
            {
                "account": world.accounts["resident"],
                "endpoint": push_service.url("/push/poison"),
                "key": OFF_THE_CURVE,
                "auth": b64(os.urandom(16)),
            },
        )
        await session.commit()
        report = await submit(client, world.tokens["resident"])
        other = await submit(client, world.tokens["other_resident"])
        stats = await worker.run_until_idle()
        assert push_service.requests == []
        [push] = await deliveries(session, channel="push")
        assert push.status == "dead" and "ValueError" in push.last_error, push.last_error
        for account in ("resident", "other_resident"):
            [email] = [
                row
                for row in await deliveries(session, channel="email")
                if row.account_id == world.accounts[account]
            ]
            assert email.status == "delivered"
        assert len(mail.to("resident@example.org")) == 1 and len(mail.to("other_resident@example.org")) == 1
        assert stats.dead == 1 and report["id"] != other["id"]


async def test_a_title_with_line_breaks_reaches_the_resident_as_a_one_line_subject(
    world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    """A proposal title is a resident's words; CR/LF in it must not break, nor inject into, the mail."""
    await record_event(
        session,
        jurisdiction_id=world.amsterdam,
        event=ProjectProgress(
            account_ids=[world.accounts["resident"], world.accounts["other_resident"]],
            title="Speel\rtuin\r\nBcc: iedereen@example.org",
            status="in_progress",
            message="De bouw is begonnen.",
            round_id=1,
            project_id=1,
        ),
    )
    await session.commit()
    await worker.run_until_idle()
    for address in ("resident@example.org", "other_resident@example.org"):
        [message] = mail.to(address)
        assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
        assert "Speel tuin Bcc: iedereen@example.org" in message["Subject"]
        assert message["Bcc"] is None
    assert {row.status for row in await deliveries(session, channel="email")} == {"delivered"}
