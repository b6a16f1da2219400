"""Web push: VAPID-signed requests carrying RFC 8291 (aes128gcm) encrypted payloads.

pywebpush does the encryption (ephemeral ECDH with the browser's ``p256dh`` key and ``auth``
secret, HKDF, AES-128-GCM) and py-vapid the VAPID JWT; the request goes out over httpx, through the
same SSRF guard as webhooks, because a push endpoint is a URL a resident hands us.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPusher

from notifications.channels import DeliveryFailed
from notifications.channels.network import resolve
from notifications.errors import ForbiddenTarget
from notifications.settings import NotificationSettings

MAX_PAYLOAD_BYTES = 3800  # RFC 8291 leaves ~3993 bytes of plaintext in one 4096-byte record


def load_or_create_vapid(path: Path) -> Vapid02:
    """The server's VAPID key; generated on first run for development, kept private (0600).

    Several processes may start on a fresh machine at once (``civicloop serve`` and workers): a new key is
    written whole to a private temporary file and then linked to ``path``, which fails if another process
    got there first; that process's key, complete by then, is the one everybody uses. (Checking and then
    creating the file let the second process crash on start.)"""
    if path.exists():
        return Vapid02.from_file(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    vapid = Vapid02()
    vapid.generate_keys()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(vapid.private_pem())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return Vapid02.from_file(str(path))
    finally:
        os.unlink(temporary)
    return vapid


def application_server_key(vapid: Vapid02) -> str:
    """The public key the browser's ``pushManager.subscribe`` needs, base64url of the raw point."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(raw)


def payload_bytes(*, event_id: str, topic: str, title: str, body: str, data: dict[str, Any]) -> bytes:
    def encode(trimmed_body: str) -> bytes:
        message = {"event_id": event_id, "topic": topic, "title": title, "body": trimmed_body, "data": data}
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()

    encoded = encode(body)
    while len(encoded) > MAX_PAYLOAD_BYTES and body:
        body = body[: max(0, len(body) - 200)]
        encoded = encode(body)
    return encoded


class PushSender:
    def __init__(self, settings: NotificationSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.vapid = load_or_create_vapid(settings.vapid_private_key_file)

    async def send(self, *, endpoint: str, p256dh: str, auth: str, payload: bytes, ttl: int = 86400) -> None:
        try:
            target = await resolve(endpoint, allowlist=self.settings.network_allowlist)
        except ForbiddenTarget as error:
            raise DeliveryFailed(f"push endpoint refused: {error.detail}", permanent=True) from error
        encrypted = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}).encode(
            payload, content_encoding="aes128gcm"
        )
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": self.settings.vapid_subject,
            "exp": int(time.time()) + 12 * 3600,
        }
        headers = {
            **self.vapid.sign(claims),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": "normal",
            "Host": target.host_header,
        }
        try:
            response = await self.client.post(
                target.url,
                content=encrypted["body"],
                headers=headers,
                extensions={"sni_hostname": target.host},
                timeout=self.settings.http_timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"push service unreachable: {error!r}") from error
        if response.status_code in (200, 201, 202):
            return
        if response.status_code in (404, 410):
            raise PushGone(f"push subscription expired ({response.status_code})")
        raise DeliveryFailed(
            f"push service answered {response.status_code}",
            permanent=400 <= response.status_code < 500 and response.status_code not in (408, 429),
        )


class PushGone(DeliveryFailed):
    """The browser unsubscribed: drop the subscription, retrying cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)
