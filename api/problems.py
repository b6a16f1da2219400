"""RFC 9457 problem+json for every error the API returns, with stable codes."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.db import is_transient_database_error
from core.errors import ConstraintRule, DomainError
from geo.errors import CONSTRAINTS as GEO_CONSTRAINTS
from notifications.errors import CONSTRAINTS as NOTIFICATION_CONSTRAINTS
from participation.errors import CONSTRAINTS as PARTICIPATION_CONSTRAINTS

PROBLEM_JSON = "application/problem+json"
# A fast restart of PostgreSQL takes a second or two; clients (and the mobile app's outbox) retry then.
DATABASE_RETRY_AFTER_SECONDS = 2
logger = logging.getLogger("civicloop.api")

_HTTP_CODES = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


# Codes the HTTP layer itself answers with (not a DomainError), for docs/errors.md.
HTTP_LAYER_CODES: dict[str, tuple[int, str]] = {
    "invalid-input": (422, "the request does not match the schema (``errors`` lists each mistake)"),
    "malformed-json": (400, "the body is not valid JSON"),
    "conflict": (409, "a database constraint that no rule names refused the change"),
    "database-unavailable": (503, "the database cannot be reached; retry after ``Retry-After`` seconds"),
    "internal-error": (500, "a bug; it was logged"),
    **{code: (status, "the HTTP status of the same name") for status, code in _HTTP_CODES.items()},
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://civicloop.org/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def _validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    clean = []
    for error in errors:
        clean.append(
            {
                "location": [str(part) for part in error.get("loc", ())],
                "message": str(error.get("msg", "")),
                "type": error.get("type", ""),
            }
        )
    return clean


# Every package's table constraints that a request can reach, by name: what each means to the client.
CONSTRAINTS: dict[str, ConstraintRule] = {
    **GEO_CONSTRAINTS,
    **PARTICIPATION_CONSTRAINTS,
    **NOTIFICATION_CONSTRAINTS,
}
UNKNOWN_CONSTRAINT_DETAIL = "the change conflicts with existing data"
DATA_ERROR_DETAIL = "a value cannot be stored (out of range, or a character the database refuses)"


def constraint_name(error: sqlalchemy.exc.DBAPIError | psycopg.Error) -> str | None:
    """The violated constraint's name, from SQLAlchemy's wrapper or from psycopg's own error (the hot
    paths run on plain psycopg connections: ``core.db.PlainTransactions``)."""
    original = error.orig if isinstance(error, sqlalchemy.exc.DBAPIError) else error
    diag = getattr(original, "diag", None)
    return getattr(diag, "constraint_name", None) if diag is not None else None


def integrity_problem(error: sqlalchemy.exc.IntegrityError | psycopg.IntegrityError) -> JSONResponse:
    """The problem for a violated constraint: its rule when the constraint is known, else a generic
    409. PostgreSQL's own message (table, column and the offending values) never reaches the client."""
    rule = CONSTRAINTS.get(constraint_name(error) or "")
    if rule is None:
        return problem(409, "conflict", "Conflict", UNKNOWN_CONSTRAINT_DETAIL)
    return problem(rule.error.status, rule.error.code, rule.error.title, rule.detail)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        response = problem(error.status, error.code, error.title, error.detail, **error.extra)
        if (retry_after := error.extra.get("retry_after")) is not None:
            response.headers["Retry-After"] = str(retry_after)  # 429: when the window ends
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(list(error.errors()))
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(
                400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", errors=errors
            )
        return problem(
            422, "invalid-input", "Invalid input", "the request does not match the schema", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, f"http-{error.status_code}")
        response = problem(error.status_code, code, code.replace("-", " ").capitalize(), str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    async def _data(request: Request, error: Exception) -> JSONResponse:
        # A value the schema let through but PostgreSQL cannot store (a NUL, an out-of-range number):
        # still the client's input, so a 422, and the unit of work has been rolled back. The database's
        # text (which may quote other rows' values or name the schema) goes to the log only.
        logger.warning("data error on %s %s: %s", request.method, request.url.path, _one_line(error))
        return problem(422, "invalid-input", "Invalid input", DATA_ERROR_DETAIL)

    async def _integrity(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, sqlalchemy.exc.IntegrityError | psycopg.IntegrityError)
        logger.warning(
            "integrity error on %s %s (constraint %s): %s",
            request.method,
            request.url.path,
            constraint_name(error),
            _one_line(error),
        )
        return integrity_problem(error)

    # The same answers whether the statement went through the ORM or a plain psycopg connection.
    for data_error in (sqlalchemy.exc.DataError, psycopg.DataError):
        app.add_exception_handler(data_error, _data)
    for integrity_error in (sqlalchemy.exc.IntegrityError, psycopg.IntegrityError):
        app.add_exception_handler(integrity_error, _integrity)

    async def _database(request: Request, error: Exception) -> JSONResponse:
        """A lost or refused database connection is the server's state, not the request's fault: 503.

        The unit of work was rolled back, or — when the connection broke during the commit — its outcome
        is unknown to us; either way a retry with the same ``Idempotency-Key`` is applied exactly once.
        """
        if not is_transient_database_error(error):
            return await _unexpected(request, error)
        logger.warning(
            "database unavailable on %s %s: %s", request.method, request.url.path, _one_line(error)
        )
        response = problem(
            503,
            "database-unavailable",
            "Service unavailable",
            "the database cannot be reached right now; retry in a few seconds (writes with the same"
            " Idempotency-Key are applied once)",
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    for error_class in (
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,
        sqlalchemy.exc.DisconnectionError,
        psycopg.Error,
    ):
        app.add_exception_handler(error_class, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "Internal error", "an unexpected error occurred; it was logged")


def _one_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"
