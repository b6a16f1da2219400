"""``Idempotency-Key`` for writes from phones that retry.

The key row is written in the same transaction as the change (see ``core.idempotency``): a retry
gets the first answer, the same key with another body gets 422, and a concurrent retry waits on
the key's unique index instead of writing a second row.

Keys are scoped: by account for signed-in calls. A call without a token has no account to scope by, so
its key itself must be the client's secret: a random UUID (or at least 22 URL-safe characters), stored
only as its SHA-256, so two clients cannot share one by accident and a database reader cannot replay
one. No stored answer ever holds a secret: a route whose answer carries one (a device token) stores the
answer without it (``Redaction``) and rebuilds it on a replay.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.errors import IdempotencyKeyReused, InvalidIdempotencyKey, RequestInProgress, WeakIdempotencyKey
from core.db import Reader, execute, fetch_one, fetch_value
from core.idempotency import CLAIM_KEY, STORE_ANSWER, STORED_ANSWER

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Keys of calls without a token: a UUID or >= 22 URL-safe characters (128 bits when random).
_CLIENT_SECRET_KEY = re.compile(
    r"^[A-Za-z0-9_-]{22,255}$|^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$"
)
Produce = Callable[[], Awaitable[tuple[int, Any, dict[str, str]]]]


@dataclass(frozen=True)
class Redaction:
    """How an answer with a secret in it is stored (``store``: without it) and given back on a replay
    (``restore``: rebuilt from what was stored and the key, e.g. a token derived from the key)."""

    store: Callable[[Any], Any]
    restore: Callable[[Any, str], Any]


async def idempotent(
    request: Request,
    unit: Reader,
    *,
    scope: str,
    produce: Produce,
    body: bytes | None = None,
    unauthenticated: bool = False,
    redaction: Redaction | None = None,
) -> Response:
    """Run ``produce`` once per key. ``body`` stands for the request body where FastAPI already consumed
    the stream (multipart uploads pass the file's bytes and form fields). ``unauthenticated``: the call
    has no account to scope its key by (see the module's docstring). ``unit`` is the request's unit of
    work (its session, or the report create's plain transaction): the key row lands with the change."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return _respond(*await produce())
    if not _KEY.match(key):
        raise InvalidIdempotencyKey("Idempotency-Key must be 1-255 visible ASCII characters")
    client_key = key
    if unauthenticated:
        if not _CLIENT_SECRET_KEY.match(key):
            raise WeakIdempotencyKey(
                "without a token, Idempotency-Key must be a random UUID (or at least 22 URL-safe characters)"
            )
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    if body is None:
        body = await request.body()
    fingerprint = hashlib.sha256(
        b"\0".join([request.method.encode(), request.url.path.encode(), body])
    ).digest()
    row_key = {"scope": scope, "key": key}
    inserted = await fetch_value(unit, CLAIM_KEY, row_key | {"fingerprint": fingerprint})
    if inserted is None:
        record = await fetch_one(unit, STORED_ANSWER, row_key)
        assert record is not None  # a conflicting row was committed before our statement ran
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
        if record.status_code is None:
            raise RequestInProgress("the first request with this key is still being processed")
        stored = record.response or {}
        content = stored.get("body")
        if redaction is not None and 200 <= record.status_code < 300:
            content = redaction.restore(content, client_key)
        response = _respond(record.status_code, content, stored.get("headers", {}))
        response.headers["Idempotent-Replayed"] = "true"
        return response
    status_code, content, headers = await produce()
    encoded = orjson.loads(_dumps(content))
    kept = redaction.store(encoded) if redaction is not None else encoded
    answer = orjson.dumps({"body": kept, "headers": headers}).decode()
    await execute(unit, STORE_ANSWER, row_key | {"status_code": status_code, "response": answer})
    return _respond(status_code, encoded, headers)


def _respond(status_code: int, content: Any, headers: dict[str, str]) -> Response:
    return Response(_dumps(content), status_code=status_code, headers=headers, media_type="application/json")


def _dumps(content: Any) -> bytes:
    """orjson writes dicts and datetimes natively, several times faster than the default encoder."""
    if isinstance(content, BaseModel):
        content = content.model_dump(mode="json")
    return orjson.dumps(content)
