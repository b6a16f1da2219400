"""Signed link tokens: unsubscribe and answer a satisfaction request without signing in.

An HMAC-SHA256 over the purpose and a compact JSON payload, keyed with the application's secret
key. Nothing is stored: the link proves itself, and rotating the secret key revokes every link.
The purpose is part of the MAC so an unsubscribe token can never be replayed as an answer token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from core.errors import LinkExpired
from notifications.errors import InvalidLinkToken


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\0{body}".encode(), hashlib.sha256).digest()


def sign(secret: str, purpose: str, payload: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
    data = dict(payload)
    if ttl_seconds is not None:
        data["exp"] = int(time.time()) + ttl_seconds
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(secret, purpose, body))}"


def verify(secret: str, purpose: str, token: str) -> dict[str, Any]:
    body, _, signature = token.partition(".")
    try:
        given = _unb64(signature)
        if not body or not hmac.compare_digest(given, _mac(secret, purpose, body)):
            raise InvalidLinkToken("this link is not valid")
        data = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidLinkToken("this link is not valid") from error
    if not isinstance(data, dict):
        raise InvalidLinkToken("this link is not valid")
    if "exp" in data and int(data["exp"]) < time.time():
        raise LinkExpired("this link has expired")
    return data
