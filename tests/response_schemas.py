"""Every answer the tests receive is checked against the OpenAPI the app publishes.

A route that declares ``response_model`` but answers with a ``Response`` of its own (``idempotent()``'s
pre-rendered bytes, a ``JSONResponse`` with a status chosen at run time) is not checked by FastAPI: the
model only documents it. This check closes that gap in tests: each response of the test clients is
matched to its route the way the app routes it, and

- a status the operation does not document fails the test: successes (2xx/3xx) and client errors
  (4xx, documented by ``api.openapi_errors``) alike;
- the answer's media type must be one its status documents (an error is ``application/problem+json``,
  Open311's its own list in JSON or XML);
- a JSON body of a documented status must validate against its schema (JSON Schema 2020-12, formats
  checked), the same schema a client generator or Schemathesis reads: a problem against ``Problem``.

Server errors (5xx: the database unreachable, a bug) are not part of an operation's contract and are
left to ``api.problems`` and its own tests. ``jsonschema_rs`` comes with Schemathesis (a test
dependency).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
from fastapi import FastAPI, routing
from fastapi.openapi.utils import _get_api_route_for_openapi
from starlette.routing import Match

JSON_TYPES = ("application/json", "application/problem+json", "application/geo+json")


class ResponseSchemaMismatch(AssertionError):
    """A response that its OpenAPI operation does not describe."""


@dataclass
class ResponseSchemas:
    app: FastAPI
    _openapi: dict[str, Any] | None = None
    _validators: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)
    checked: int = 0

    @property
    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            self._openapi = self.app.openapi()
        return self._openapi

    def operation_of(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """(path template, OpenAPI operation) of the route the app would run, or ``None`` for routes
        outside the schema (the app's pages, health checks)."""
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {}}
        for context in routing.iter_route_contexts(self.app.routes):
            match, _ = context.matches(scope)
            if match is not Match.FULL:
                continue
            route = _get_api_route_for_openapi(context)
            if route is None or not route.include_in_schema:
                return None
            template = route.path_format
            operation = self.openapi["paths"].get(template, {}).get(method.lower())
            return (template, operation) if operation is not None else None
        return None

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        found = self.operation_of(method, path)
        if found is None or status >= 500:
            return
        template, operation = found
        responses = operation["responses"]
        documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if documented is None:
            raise ResponseSchemaMismatch(
                f"{method} {template} answered {status}, which its OpenAPI does not document"
                f" (documented: {sorted(responses)})"
            )
        media_type = content_type.split(";")[0].strip()
        content = documented.get("content") or {}
        if status >= 400 and media_type not in content:
            raise ResponseSchemaMismatch(
                f"{method} {template} answered {status} as {media_type!r}; documented: {sorted(content)}"
            )
        if media_type not in JSON_TYPES or not body:
            return
        schema = content.get(media_type, {}).get("schema")
        if not schema:
            return
        key = (method, template, str(status), media_type)
        validator = self._validators.get(key)
        if validator is None:
            root = {**schema, "components": self.openapi.get("components", {})}
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            self._validators[key] = validator
        instance = json.loads(body)
        errors = list(validator.iter_errors(instance))
        if errors:
            details = "; ".join(f"{list(e.instance_path)}: {e.message}" for e in errors[:5])
            raise ResponseSchemaMismatch(f"{method} {path} -> {status} does not match its schema: {details}")
        self.checked += 1

    async def on_response(self, response: httpx.Response) -> None:
        """An httpx response hook for the test clients."""
        await response.aread()
        self.check(
            response.request.method,
            response.request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
        )


def response_hooks(app: FastAPI) -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.AsyncClient`` on ``app``: every response checked as above."""
    return {"response": [ResponseSchemas(app).on_response]}
