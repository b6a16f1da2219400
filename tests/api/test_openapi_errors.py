"""Every operation documents the errors it answers (issue 13, item 4): problem+json with the statuses
``api.openapi_errors`` derives from the route, Open311's own error list on Open311.

That the documented statuses are the ones the app really answers is checked on every answer of the test
suite (``tests/response_schemas.py``); these tests check the derivation itself and the ``Problem`` schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.openapi_errors import PROBLEM_REF, RETRY_AFTER_HEADER, RULE_ERRORS
from api.problems import PROBLEM_JSON, problem
from core.settings import Settings
from tests.response_schemas import ResponseSchemaMismatch, ResponseSchemas

_J = "/api/v1/jurisdictions/{jurisdiction}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    media: Path = tmp_path_factory.mktemp("media")
    return create_app(Settings(environment="test", database_url="postgresql://unused/db", media_dir=media))


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def _errors(schema: dict[str, Any], method: str, path: str) -> set[int]:
    responses = schema["paths"][path][method.lower()]["responses"]
    return {int(status) for status in responses if status.startswith("4")}


def test_every_error_is_documented_as_a_problem_outside_open311(schema: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith("4") or path.startswith("/open311/"):
                continue
            content = response.get("content", {})
            if set(content) != {PROBLEM_JSON} or content[PROBLEM_JSON]["schema"] != {"$ref": PROBLEM_REF}:
                wrong.append(f"{method} {path} {status}: {sorted(content)}")
            if not response.get("description"):
                wrong.append(f"{method} {path} {status}: no description")
    assert wrong == []
    assert "HTTPValidationError" not in schema["components"]["schemas"]  # FastAPI's 422, never sent


def test_every_operation_with_input_documents_its_validation_error(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if path.startswith("/open311/"):
            assert 422 not in _errors(schema, method, path), f"{path}: Open311 answers 400, never 422"
        elif operation.get("parameters") or operation.get("requestBody"):
            assert 422 in _errors(schema, method, path), f"{method} {path}"


@pytest.mark.parametrize(
    ("method", "path", "present", "absent"),
    [
        # A public read without path parameters: only a bad token can fail it.
        ("GET", "/api/v1/notifications/vapid-public-key", {401}, {403, 404, 422}),
        # A resident's read outside a jurisdiction: no token -> 401; every account is a resident.
        ("GET", "/api/v1/me", {401}, {403, 404, 429}),
        # A public read under a jurisdiction: 404 for an unknown one, 422 for a malformed query.
        (
            "GET",
            f"{_J}/reports/{{report_id}}",
            {400, 401, 404, 422},
            {403, 409, 413, 415, 429},
        ),
        # An administrator's write: role and jurisdiction (403), body guard (413/415), a constraint (409),
        # not rate limited.
        ("POST", f"{_J}/departments", {400, 401, 403, 404, 409, 413, 415, 422}, {429}),
        # A resident's idempotent write: anonymous devices are limited (429), a key still running (409).
        ("POST", f"{_J}/reports", {400, 401, 403, 404, 409, 413, 415, 422, 429}, set()),
    ],
)
def test_the_statuses_follow_from_the_route(
    schema: dict[str, Any], method: str, path: str, present: set[int], absent: set[int]
) -> None:
    errors = _errors(schema, method, path)
    assert present <= errors
    assert not (absent & errors)


def test_an_idempotent_route_documents_its_key_header(schema: dict[str, Any]) -> None:
    def header_names(method: str, path: str) -> set[str]:
        operation = schema["paths"][path][method]
        return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}

    assert "Idempotency-Key" in header_names("post", f"{_J}/reports")
    assert "Idempotency-Key" not in header_names("post", f"{_J}/departments")


def test_open311_documents_its_own_error_list(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if not path.startswith("/open311/"):
            continue
        errors = _errors(schema, method, path)
        assert {400, 403} <= errors <= {400, 403, 404, 413, 415, 429}, f"{method} {path}: {errors}"
        for status in errors & {400, 403, 404, 429}:
            assert set(operation["responses"][str(status)]["content"]) == {"application/json", "text/xml"}
        assert "4XX" not in operation["responses"]
    assert 404 in _errors(schema, "GET", "/open311/v2/requests/{service_request_id}.{fmt}")
    assert 404 not in _errors(schema, "GET", "/open311/v2/discovery.{fmt}")
    # The form Open311 reads by hand is documented (and so BodyGuard's 413/415 are).
    assert {413, 415} <= _errors(schema, "POST", "/open311/v2/requests.{fmt}")
    # Its submissions are limited per api_key (in Open311's own error list, with Retry-After).
    assert 429 in _errors(schema, "POST", "/open311/v2/requests.{fmt}")


def test_every_429_documents_its_retry_after(schema: dict[str, Any]) -> None:
    limited = [
        (method, path) for method, path, operation in _operations(schema) if "429" in operation["responses"]
    ]
    assert ("POST", f"{_J}/reports") in limited
    assert ("POST", "/open311/v2/requests.{fmt}") in limited
    for method, path in limited:
        response = schema["paths"][path][method.lower()]["responses"]["429"]
        assert response["headers"]["Retry-After"] == RETRY_AFTER_HEADER, (method, path)


def test_the_rule_errors_name_existing_operations(schema: dict[str, Any]) -> None:
    existing = {(method, path) for method, path, _ in _operations(schema)}
    assert set(RULE_ERRORS) - existing == set()


def test_the_problem_schema_describes_what_the_handlers_send(schema: dict[str, Any]) -> None:
    root = {"$ref": PROBLEM_REF, "components": schema["components"]}
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    issue = {"location": ["body", "title"], "message": "Field required", "type": "missing"}
    for sent in (
        problem(422, "invalid-input", "Invalid input", "the request does not match", errors=[issue]),
        problem(
            422, "invalid-extra-fields", "Invalid input", "some are invalid", errors={"depth": "a number"}
        ),
        problem(429, "too-many-requests", "Too many requests", "try again", retry_after=30),
        problem(404, "not-found", "Not found", "no such report"),
        problem(415, "photo-unsupported-type", "Unsupported", "a PDF", declared_content_type=None),
        problem(409, "illegal-transition", "Conflict", "no", current="closed", allowed=["reopened"]),
    ):
        assert validator.is_valid(json.loads(bytes(sent.body))), sent.body
    assert not validator.is_valid({"title": "Not found", "status": 404, "detail": "x", "code": "not-found"})
    assert not validator.is_valid(
        {
            "type": "https://civicloop.org/problems/x",
            "title": "X",
            "status": 404,
            "detail": "x",
            "code": "X Y",
        }
    )


def test_the_response_check_holds_errors_to_their_documentation(app: FastAPI) -> None:
    """The check hooked into the test clients fails an error status the operation does not list, an
    error in another media type, and a problem body that is not a ``Problem``."""
    checker = ResponseSchemas(app)
    path = "/api/v1/jurisdictions/amsterdam/reports/5"
    body = b'{"type": "https://civicloop.org/problems/report-not-found", "title": "Not found",'
    body += b' "status": 404, "detail": "no report 5", "code": "report-not-found"}'
    checker.check("GET", path, 404, PROBLEM_JSON, body)
    assert checker.checked == 1
    with pytest.raises(ResponseSchemaMismatch, match="does not document"):
        checker.check("GET", path, 409, PROBLEM_JSON, body.replace(b"404", b"409"))
    with pytest.raises(ResponseSchemaMismatch, match="application/json"):
        checker.check("GET", path, 404, "application/json", body)
    with pytest.raises(ResponseSchemaMismatch, match="does not match"):
        checker.check("GET", path, 404, PROBLEM_JSON, b'{"code": "report-not-found", "status": 404}')
    # Server errors are not part of an operation's contract.
    checker.check("GET", path, 503, PROBLEM_JSON, b"{}")
