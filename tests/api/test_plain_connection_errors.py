"""A database refusal on a plain psycopg connection (the hot paths: ``core.db.PlainTransactions``) gets
the same answer as through the ORM: a violated constraint its rule by name, a value PostgreSQL cannot
store a 422, never PostgreSQL's own text and never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.deps import plain_transactions
from api.problems import DATA_ERROR_DETAIL, UNKNOWN_CONSTRAINT_DETAIL
from core.settings import Settings

# PL/pgSQL raises a real SQLSTATE with the constraint's name in its diagnostics, as a violation does.
RAISE = (
    "DO $$ BEGIN RAISE EXCEPTION 'secret row (42, ''Damstraat'')' USING ERRCODE = '{state}'{extra}; END $$"
)
STATEMENTS = {
    "known": RAISE.format(
        state="unique_violation", extra=", CONSTRAINT = 'uq_categories_jurisdiction_id_code'"
    ),
    "unknown": RAISE.format(state="unique_violation", extra=", CONSTRAINT = 'uq_something_else'"),
    "data": "SELECT 1 / 0",
    "range": "SELECT CAST(99999999999 AS integer)",
}


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)

    @app.get("/test/plain/{which}")
    async def refused(which: str, request: Request) -> Response:
        async with plain_transactions(request).transaction() as connection:
            await connection.execute(STATEMENTS[which])
        return Response(status_code=204)

    app.router.routes.insert(0, app.router.routes.pop())  # before the app's catch-all page route
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
        yield client


@pytest.mark.parametrize(
    ("which", "status", "code", "detail"),
    [
        ("known", 409, "category-exists", "a category with this code exists"),
        ("unknown", 409, "conflict", UNKNOWN_CONSTRAINT_DETAIL),
        ("data", 422, "invalid-input", DATA_ERROR_DETAIL),
        ("range", 422, "invalid-input", DATA_ERROR_DETAIL),
    ],
)
async def test_a_refusal_on_a_plain_connection_answers_as_through_the_orm(
    client: httpx.AsyncClient, which: str, status: int, code: str, detail: str
) -> None:
    response = await client.get(f"/test/plain/{which}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["detail"]) == (code, detail)
    for leak in ("Damstraat", "secret row", "division", "integer out of range", "uq_"):
        assert leak not in response.text
