"""Webhooks for municipal systems: signed bodies, a timestamp against replay, retries.

Signature: ``X-Civicloop-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` with
``X-Civicloop-Timestamp`` (Unix seconds). A receiver recomputes the MAC over the raw body, compares
in constant time and refuses timestamps more than a few minutes old, so a captured request cannot
be replayed later; ``X-Civicloop-Event-Id`` (also ``event_id`` in the body) lets it drop the
duplicates at-least-once delivery brings. The body is fixed at fan-out; each attempt is signed anew.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

from notifications.channels import DeliveryFailed
from notifications.channels.network import resolve
from notifications.errors import ForbiddenTarget
from notifications.settings import NotificationSettings

SIGNATURE_HEADER = "X-Civicloop-Signature"
TIMESTAMP_HEADER = "X-Civicloop-Timestamp"
EVENT_HEADER = "X-Civicloop-Event-Id"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(
    secret: str, *, body: bytes, timestamp: str, signature_header: str, now: float | None = None
) -> bool:
    """What a receiver does; used by our tests, and documentation for integrators."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent_at) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), signature_header)


class WebhookSender:
    def __init__(self, settings: NotificationSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client

    async def send(
        self, *, url: str, secret: str, allow_private_network: bool, event_id: str, body: bytes
    ) -> None:
        try:
            target = await resolve(
                url, allow_private=allow_private_network, allowlist=self.settings.network_allowlist
            )
        except ForbiddenTarget as error:
            raise DeliveryFailed(f"webhook target refused: {error.detail}", permanent=True) from error
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "civicloop-webhooks/1",
            EVENT_HEADER: event_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            "Host": target.host_header,
        }
        try:
            response = await self.client.post(
                target.url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host},
                timeout=self.settings.http_timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"webhook target unreachable: {error!r}") from error
        if 200 <= response.status_code < 300:
            return
        raise DeliveryFailed(
            f"webhook target answered {response.status_code}",
            permanent=400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429),
        )
