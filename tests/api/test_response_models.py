"""Every JSON route declares what it answers (issue 13, item 4).

The OpenAPI is what the app's JavaScript and any client generator read, so every route that answers
JSON declares a read schema (``response_model``) whose JSON Schema says what is in it: no bare
``dict[str, Any]``. The few routes that answer something else in JSON clothing are named below with
the reason. The bodies themselves are checked against the published schema in every HTTP test
(``tests/response_schemas.py``, hooked into the test clients), which also covers routes that answer
with pre-rendered bytes (``idempotent()``, ``JSONResponse``).
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Union

import pytest
from fastapi import FastAPI, routing
from fastapi.datastructures import DefaultPlaceholder
from fastapi.openapi.utils import _get_api_route_for_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.app import create_app
from core.settings import Settings
from tests.response_schemas import OWNED_BY_ITEM_1, ResponseSchemaMismatch, ResponseSchemas

# Routes that answer JSON without a read schema, each with its reason.
WITHOUT_MODEL: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/jurisdictions/{jurisdiction}/areas/{area_id}"): (
        "a GeoJSON Feature (application/geo+json) built by PostGIS, sent as its bytes"
    ),
    ("GET", "/api/v1/jurisdictions/{jurisdiction}/consultation-rounds/{round_id}/export.geojson"): (
        "a download: GeoJSON FeatureCollection of the map answers (application/geo+json)"
    ),
    ("GET", "/api/v1/me/data"): (
        "a download (Content-Disposition) of everything kept about the account; its shape follows the"
        " tables (api.privacy.export), not an API contract"
    ),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    media: Path = tmp_path_factory.mktemp("media")
    return create_app(Settings(environment="test", database_url="postgresql://unused/db", media_dir=media))


def _api_routes(app: FastAPI) -> list[Any]:
    found = []
    for context in routing.iter_route_contexts(app.routes):
        route = _get_api_route_for_openapi(context)
        if route is not None and route.include_in_schema:
            found.append(route)
    return found


def _answers_json(route: Any) -> bool:
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    return isinstance(response_class, type) and issubclass(response_class, JSONResponse)


def described(annotation: Any) -> bool:
    """Whether a type says what is in it: models, containers of described types, plain values; not
    ``Any`` (``dict[str, Any]`` documents only "an object")."""
    if annotation is Any or annotation is object:
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return described(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset, dict, Union, types.UnionType, typing.Literal):
        if origin is typing.Literal:
            return True
        return all(described(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)
    return annotation in (str, int, float, bool, type(None))


def test_described_tells_a_schema_from_a_bare_object() -> None:
    assert not described(dict[str, Any])
    assert not described(list[dict[str, Any]])
    assert described(dict[str, dict[str, bool]])
    assert described(list[ResponseSchemaMismatch | None]) is False  # not a model, not a plain value


def test_every_json_route_declares_a_described_response_model(app: FastAPI) -> None:
    missing = []
    for route in _api_routes(app):
        if route.status_code == 204 or not _answers_json(route):
            continue
        for method in sorted(route.methods):
            key = (method, route.path_format)
            if key in WITHOUT_MODEL or key in OWNED_BY_ITEM_1:
                continue
            if route.response_model is None or not described(route.response_model):
                missing.append(f"{method} {route.path_format}: {route.response_model!r}")
    assert missing == []


def test_the_named_exceptions_are_routes_that_exist(app: FastAPI) -> None:
    """An exception outlives its route only by mistake: every name must still be a route."""
    existing = {(m, r.path_format) for r in _api_routes(app) for m in r.methods}
    assert len(existing) > 100  # the walk sees the routers' routes, not only the app's own
    assert set(WITHOUT_MODEL) - existing == set()
    assert set(OWNED_BY_ITEM_1) - existing == set()


def test_every_operation_documents_a_success_with_its_status(app: FastAPI) -> None:
    """Each operation's declared status (201 for creations, 202 for accepted mail, 204 without body) is
    the one in its OpenAPI, and a JSON success has a schema (except the named exceptions)."""
    schema = app.openapi()
    wrong = []
    for route in _api_routes(app):
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            status = str(route.status_code or 200)
            if status not in operation["responses"]:
                wrong.append(f"{method} {route.path_format}: {status} not documented")
                continue
            content = operation["responses"][status].get("content", {})
            key = (method, route.path_format)
            if status == "204":
                if content:
                    wrong.append(f"{method} {route.path_format}: 204 documents a body")
            elif "application/json" in content and key not in WITHOUT_MODEL and key not in OWNED_BY_ITEM_1:
                if not content["application/json"].get("schema"):
                    wrong.append(f"{method} {route.path_format}: no schema for its JSON")
    assert wrong == []


def test_the_response_check_rejects_what_the_schema_does_not_describe(app: FastAPI) -> None:
    """The check hooked into the test clients can fail: a wrong body, a missing field, an undocumented
    status."""
    checker = ResponseSchemas(app)
    path = "/api/v1/notifications/unsubscribe/abcdefghij.klmnopqrst"
    good = b'{"kind": "status_changed", "channel": "email", "action": "POST to unsubscribe"}'
    checker.check("GET", path, 200, "application/json", good)
    assert checker.checked == 1
    with pytest.raises(ResponseSchemaMismatch, match="action"):
        checker.check("GET", path, 200, "application/json", b'{"kind": "x", "channel": "email"}')
    with pytest.raises(ResponseSchemaMismatch, match="kind"):
        checker.check("GET", path, 200, "application/json", b'{"kind": 1, "channel": "e", "action": "a"}')
    with pytest.raises(ResponseSchemaMismatch, match="does not document"):
        checker.check("GET", path, 201, "application/json", good)
    # Errors are problem+json, checked by api.problems' own tests; pages outside the schema are skipped.
    checker.check("GET", path, 404, "application/problem+json", b'{"code": "not-found"}')
    checker.check("GET", "/healthz", 200, "application/json", b'{"status": "ok"}')
    assert checker.checked == 1


def test_a_pre_rendered_answer_is_checked_against_its_route_schema(app: FastAPI) -> None:
    """``idempotent()`` answers with bytes; the check reads the route's model from the OpenAPI."""
    checker = ResponseSchemas(app)
    path = "/api/v1/jurisdictions/amsterdam/budget-rounds"
    with pytest.raises(ResponseSchemaMismatch, match="does not match"):
        checker.check("POST", path, 201, "application/json", b'{"id": 1, "title": "Centrum"}')
