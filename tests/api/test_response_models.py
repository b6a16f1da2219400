"""Every JSON route declares what it answers (issue 13, item 4).

The OpenAPI is what the app's JavaScript and any client generator read, so every route that answers
JSON declares a read schema (``response_model``) whose JSON Schema says what is in it: no bare
``dict[str, Any]``. The few routes that answer something else in JSON clothing are named below with
the reason. The bodies themselves are checked against the published schema in every HTTP test
(``tests/response_schemas.py``, hooked into the test clients), which also covers routes that answer
with pre-rendered bytes (``idempotent()``, ``JSONResponse``).
"""

from __future__ import annotations

import json
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
from tests.response_schemas import ResponseSchemaMismatch, ResponseSchemas

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
            if key in WITHOUT_MODEL:
                continue
            if route.response_model is None or not described(route.response_model):
                missing.append(f"{method} {route.path_format}: {route.response_model!r}")
    assert missing == []


def test_the_named_exceptions_are_routes_that_exist(app: FastAPI) -> None:
    """An exception outlives its route only by mistake: every name must still be a route."""
    existing = {(m, r.path_format) for r in _api_routes(app) for m in r.methods}
    assert len(existing) > 100  # the walk sees the routers' routes, not only the app's own
    assert set(WITHOUT_MODEL) - existing == set()


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
            elif "application/json" in content and key not in WITHOUT_MODEL:
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
    # Errors are problem+json (tests/api/test_openapi_errors.py); pages outside the schema are skipped.
    with pytest.raises(ResponseSchemaMismatch, match="does not match"):
        checker.check("GET", path, 404, "application/problem+json", b'{"code": "not-found"}')
    checker.check("GET", "/healthz", 200, "application/json", b'{"status": "ok"}')
    assert checker.checked == 1


def test_a_pre_rendered_answer_is_checked_against_its_route_schema(app: FastAPI) -> None:
    """``idempotent()`` answers with bytes; the check reads the route's model from the OpenAPI."""
    checker = ResponseSchemas(app)
    path = "/api/v1/jurisdictions/amsterdam/budget-rounds"
    with pytest.raises(ResponseSchemaMismatch, match="does not match"):
        checker.check("POST", path, 201, "application/json", b'{"id": 1, "title": "Centrum"}')


_A = "/api/v1/jurisdictions/amsterdam"
_POINT = {"type": "Point", "coordinates": [4.9003, 52.3728]}
_AT = "2026-11-24T09:10:00+01:00"
_REQUEST = {
    "service_request_id": "7",
    "status": "open",
    "status_notes": None,
    "service_name": "Afval",
    "service_code": "waste",
    "description": "",
    "agency_responsible": None,
    "service_notice": None,
    "requested_datetime": _AT,
    "updated_datetime": _AT,
    "expected_datetime": None,
    "address": None,
    "address_id": None,
    "zipcode": None,
    "lat": 52.3728,
    "long": 4.9003,
    "media_url": None,
}
_CRITERIA = {"radius_m": 50.0, "min_reports": 5, "days": 90, "since": "2026-08-26T09:10:00.5Z"}
_HOTSPOTS: dict[str, Any] = {
    "criteria": _CRITERIA,
    "hotspots": [
        {
            "category": "waste",
            "reports": 6,
            "open_reports": 4,
            "centre": _POINT,
            "radius_m": 31.5,
            "first_reported_at": _AT,
            "last_reported_at": _AT,
            "latest_report_ids": [9, 8],
        }
    ],
}
# (method, path, status, media type, an answer the route gives, one it does not)
_FORMERLY_EXEMPT: list[tuple[str, str, int, str, Any, Any]] = [
    (
        "GET",
        f"{_A}/reports",
        200,
        "application/json",
        {"items": [], "next_cursor": None},
        {"items": [{"id": 1, "status": "submitted"}], "next_cursor": None},
    ),
    (
        "GET",
        f"{_A}/me/reports",
        200,
        "application/json",
        {"items": [], "next_before_id": 12},
        {"items": [], "next_before_id": "12"},
    ),
    (
        "POST",
        f"{_A}/reports/5/supporters",
        201,
        "application/json",
        {"report_id": 5, "supporters": 2, "following": True},
        {"report_id": 5, "supporters": 2},
    ),
    (
        "GET",
        f"{_A}/map/clusters",
        200,
        "application/geo+json",
        {
            "type": "FeatureCollection",
            "zoom": 14,
            "features": [
                {"type": "Feature", "geometry": _POINT, "properties": {"count": 3, "report": None}},
                {
                    "type": "Feature",
                    "geometry": _POINT,
                    "properties": {
                        "count": 1,
                        "report": {
                            "id": 4,
                            "category": "waste",
                            "status": "accepted",
                            "description": "",
                            "created_at": _AT,
                            "location": _POINT,
                        },
                    },
                },
            ],
        },
        {"type": "FeatureCollection", "zoom": 14, "features": [{"type": "Feature", "geometry": _POINT}]},
    ),
    ("GET", f"{_A}/staff/hotspots", 200, "application/json", _HOTSPOTS, {"hotspots": []}),
    (
        "GET",
        f"{_A}/council/hotspots",
        200,
        "application/json",
        _HOTSPOTS,
        {**_HOTSPOTS, "criteria": {**_CRITERIA, "since": "last week"}},
    ),
    (
        "GET",
        "/open311/v2/discovery.json",
        200,
        "application/json",
        {
            "changeset": _AT,
            "contact": "desk",
            "key_service": "ask",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": "http://civicloop.test/open311/v2",
                    "changeset": _AT,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        {"changeset": _AT, "contact": "desk", "key_service": "ask", "endpoints": [{}]},
    ),
    (
        "GET",
        "/open311/v2/services.json",
        200,
        "application/json",
        [
            {
                "service_code": "waste",
                "service_name": "Afval",
                "description": "Afval",
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": None,
            }
        ],
        [{"service_code": "waste", "metadata": "no"}],
    ),
    (
        "GET",
        "/open311/v2/services/waste.json",
        200,
        "application/json",
        {"service_code": "waste", "attributes": []},
        {"service_code": "waste"},
    ),
    (
        "POST",
        "/open311/v2/requests.json",
        201,
        "application/json",
        [{"service_request_id": "7", "token": "abc", "service_notice": None, "account_id": None}],
        [{"service_request_id": 7, "token": "abc", "service_notice": None, "account_id": None}],
    ),
    (
        "GET",
        "/open311/v2/requests.json",
        200,
        "application/json",
        [
            _REQUEST,
            {
                **_REQUEST,
                "extended_attributes": {
                    "detailed_status": "submitted",
                    "status_reason": None,
                    "updates": [],
                },
            },
        ],
        [{**_REQUEST, "status": "submitted"}],
    ),
    ("GET", "/open311/v2/requests/7.json", 200, "application/json", [_REQUEST], [{**_REQUEST, "lat": None}]),
    (
        "GET",
        "/open311/v2/tokens/abc.json",
        200,
        "application/json",
        [{"service_request_id": "7", "token": "abc"}],
        [{"token": "abc"}],
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "status", "media_type", "good", "bad"),
    _FORMERLY_EXEMPT,
    ids=[f"{case[0]} {case[1]}" for case in _FORMERLY_EXEMPT],
)
def test_reports_map_and_open311_answers_are_checked(
    app: FastAPI, method: str, path: str, status: int, media_type: str, good: Any, bad: Any
) -> None:
    """The routes once left out (pre-rendered reports lists, the map's clusters, hotspots, Open311) are
    checked like every other: an answer they give passes, one they do not give fails."""
    checker = ResponseSchemas(app)
    checker.check(method, path, status, media_type, json.dumps(good).encode())
    assert checker.checked == 1
    with pytest.raises(ResponseSchemaMismatch, match="does not match"):
        checker.check(method, path, status, media_type, json.dumps(bad).encode())


def test_open311_documents_the_status_it_answers_and_its_xml(app: FastAPI) -> None:
    """POST requests answers 201 (documented as such, 200 is not), in JSON or XML; every Open311 route
    documents its XML variant and the specification's error list."""
    checker = ResponseSchemas(app)
    created = b'[{"service_request_id": "7", "token": "abc", "service_notice": null, "account_id": null}]'
    with pytest.raises(ResponseSchemaMismatch, match="does not document"):
        checker.check("POST", "/open311/v2/requests.json", 200, "application/json", created)
    checker.check("POST", "/open311/v2/requests.xml", 201, "text/xml; charset=utf-8", b"<service_requests/>")
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/open311/"):
            continue
        for operation in operations.values():
            success = next(status for status in operation["responses"] if status.startswith("2"))
            assert set(operation["responses"][success]["content"]) == {"application/json", "text/xml"}, path
            errors = operation["responses"]["400"]["content"]
            assert errors["application/json"]["schema"] and "text/xml" in errors, path
            assert "422" not in operation["responses"], f"{path}: Open311 answers 400, never 422"


def test_the_map_clusters_are_documented_as_geojson(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/api/v1/jurisdictions/{jurisdiction}/map/clusters"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/geo+json"}
