"""Edge guards: body size limits and content types, before any route parses anything."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_WRITE_METHODS = {b"POST", b"PUT", b"PATCH"}
_ACCEPTED_TYPES = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")


class BodyGuard:
    """Refuse oversized bodies (413) and bodies of a type no route reads (415) with problem+json."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "%00" in scope.get("raw_path", b"").decode("latin-1") or b"%00" in scope.get("query_string", b""):
            await _problem(send, 400, "invalid-characters", "the URL must not contain NUL characters")
            return
        if scope["method"].encode() not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        length = headers.get(b"content-length")
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if has_body and content_type not in _ACCEPTED_TYPES:
            await _problem(
                send,
                415,
                "unsupported-media-type",
                f"send application/json (or multipart/form-data for photos), not {content_type!r}",
            )
            return
        limit = self.max_upload_bytes if content_type == "multipart/form-data" else self.max_json_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            await _problem(send, 413, "payload-too-large", f"the body may be at most {limit} bytes")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI re-raises an HTTPException from the body reader; problems.py renders it.
                    raise HTTPException(413, f"the body may be at most {limit} bytes")
            return message

        await self.app(scope, counted, send)


async def _problem(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": f"https://civicloop.org/problems/{code}",
            "title": code.replace("-", " ").capitalize(),
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
