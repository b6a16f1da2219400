"""Web push to a real HTTP push service on localhost: VAPID-signed, RFC 8291 encrypted, decrypted here."""

from __future__ import annotations

import base64
import json
import os

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.settings import NotificationSettings
from notifications.worker import Worker
from tests.conftest import World, bearer
from tests.notifications.helpers import BASE, submit
from tests.notifications.receivers import receiver


@pytest.fixture
def notification_settings(notification_settings: NotificationSettings) -> NotificationSettings:
    # The operator allowlists the local push service; without it the SSRF guard refuses 127.0.0.1.
    return notification_settings.model_copy(update={"network_allowlist": ["127.0.0.1/32"]})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


async def test_push_is_encrypted_for_the_subscriber_and_vapid_signed(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker
) -> None:
    browser_key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    p256dh = b64(
        browser_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    key = (await client.get("/api/v1/notifications/vapid-public-key")).json()["public_key"]
    async with receiver() as push_service:
        endpoint = push_service.url("/push/device-1")
        registered = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={
                "endpoint": endpoint,
                "keys": {"p256dh": p256dh, "auth": b64(auth)},
                "expirationTime": None,
            },
            headers=bearer(world.tokens["resident"]),
        )
        assert registered.status_code == 201, registered.text
        bad = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={"endpoint": endpoint, "keys": {"p256dh": "A" * 87, "auth": b64(auth)}},
            headers=bearer(world.tokens["resident"]),
        )
        assert bad.status_code == 422 and bad.json()["code"] == "invalid-push-key"
        report = await submit(client, world.tokens["resident"])
        await worker.run_until_idle()
        [request] = push_service.requests
        assert request.headers["Content-Encoding"] == "aes128gcm"
        plaintext = http_ece.decrypt(
            request.body, private_key=browser_key, auth_secret=auth, version="aes128gcm"
        )
        message = json.loads(plaintext)
        assert message["topic"] == "report.submitted"
        assert message["title"] == f"We hebben uw melding #{report['id']} ontvangen"
        assert message["data"]["report_id"] == report["id"]
        event_id = await session.scalar(
            text(
                "SELECT event_id FROM outbox_events WHERE aggregate_id = :id AND topic = 'report.submitted'"
            ),
            {"id": report["id"]},
        )
        assert message["event_id"] == str(event_id)
        # VAPID: "vapid t=<JWT>, k=<our public key>", the JWT signed with our private key, aud = the service.
        scheme, _, params = request.headers["Authorization"].partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert scheme == "vapid" and fields["k"] == key
        header, claims, signature = fields["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
        raw = unb64(signature)
        public.verify(
            encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
            f"{header}.{claims}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
        assert json.loads(unb64(claims))["aud"] == f"http://127.0.0.1:{push_service.port}"

        # The browser unsubscribed (410): the subscription is dropped, the delivery goes dead at once.
        push_service.statuses = [410]
        await submit(client, world.tokens["resident"])
        await worker.run_until_idle()
        left = await session.scalar(
            text("SELECT count(*) FROM push_subscriptions WHERE endpoint = :e"), {"e": endpoint}
        )
        assert left == 0


async def test_a_push_endpoint_in_private_space_is_refused_without_the_allowlist(
    client: httpx.AsyncClient, world: World, notification_settings: NotificationSettings
) -> None:
    client_app = client._transport.app  # type: ignore[attr-defined]  # httpx's ASGITransport, typed as BaseTransport
    client_app.state.notification_settings = notification_settings.model_copy(
        update={"network_allowlist": []}
    )
    response = await client.post(
        f"{BASE}/me/push-subscriptions",
        json={
            "endpoint": "http://10.0.0.5/push/x",
            "keys": {
                "p256dh": b64(
                    ec.generate_private_key(ec.SECP256R1())
                    .public_key()
                    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
                ),
                "auth": b64(os.urandom(16)),
            },
        },
        headers=bearer(world.tokens["resident"]),
    )
    assert response.status_code == 422 and response.json()["code"] == "forbidden-target"


async def test_a_push_endpoint_stays_with_its_owner(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    """Issue 12, item 16: another account re-registering a known endpoint took the subscription over."""

    def keys() -> dict[str, str]:
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64(point), "auth": b64(os.urandom(16))}

    async with receiver() as push_service:
        endpoint = push_service.url("/push/owned-device")
        own = keys()
        first = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={"endpoint": endpoint, "keys": own},
            headers=bearer(world.tokens["resident"]),
        )
        assert first.status_code == 201, first.text
        taken = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={"endpoint": endpoint, "keys": keys()},
            headers=bearer(world.tokens["other_resident"]),
        )
        assert (taken.status_code, taken.json()["code"]) == (409, "push-endpoint-taken")

        async def owner() -> int:
            return await session.scalar(
                text("SELECT account_id FROM push_subscriptions WHERE endpoint = :e"), {"e": endpoint}
            )

        assert await owner() == world.accounts["resident"]
        # The same browser subscription (its own keys), signed in to another account: it moves along.
        moved = await client.post(
            f"{BASE}/me/push-subscriptions",
            json={"endpoint": endpoint, "keys": own},
            headers=bearer(world.tokens["other_resident"]),
        )
        assert moved.status_code == 201, moved.text
        assert await owner() == world.accounts["other_resident"]
