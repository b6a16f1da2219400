"""Errors answer with their class's code and status, database refusals by the constraint's name, and
never with PostgreSQL's own text.

The constraint tests run real statements against the real schema through the app's real session and
handlers: the services check these rules first, so a client reaches the constraints only by racing
another request; a route added to the test's app stands in for the loser of that race.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import docs_tables
from api.app import create_app
from api.deps import SessionDep
from api.open311.service import Open311BadRequest
from api.problems import CONSTRAINTS, DATA_ERROR_DETAIL, HTTP_LAYER_CODES, UNKNOWN_CONSTRAINT_DETAIL
from core.errors import Conflict, DomainError, InvalidInput
from core.settings import Settings
from geo.errors import OutsideJurisdiction
from tests.conftest import World, bearer

ROOT = Path(__file__).resolve().parents[2]

# Words of PostgreSQL's messages, and the names of what it would reveal.
DATABASE_TEXT = re.compile(r"violates|constraint|relation|column|detail:|key \(|psycopg|sql|0x00|nul\b", re.I)

STATEMENTS = {
    "check": "UPDATE categories SET handling_days = 999 WHERE jurisdiction_id = :jurisdiction",
    "unique": (
        "INSERT INTO departments (jurisdiction_id, name)"
        " SELECT jurisdiction_id, name FROM departments WHERE jurisdiction_id = :jurisdiction LIMIT 1"
    ),
    "foreign-key": (
        "INSERT INTO departments (jurisdiction_id, name) VALUES (:jurisdiction + 1000000, 'Nergens')"
    ),
    "data": "SELECT CAST('123456.789' AS numeric(5, 2)) + :jurisdiction",
}


@pytest.fixture
async def racing_client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> Any:
    app: FastAPI = create_app(settings, sessionmaker=sessionmaker)

    @app.post("/test/statements/{name}")
    async def run(name: str, session: AsyncSession = SessionDep) -> dict[str, str]:
        await session.execute(text(STATEMENTS[name]), {"jurisdiction": world.amsterdam})
        await session.flush()
        return {"ran": name}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
        yield client


def assert_no_database_text(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    for field in ("title", "detail"):
        assert not DATABASE_TEXT.search(body[field]), body
    return body


async def test_a_check_constraint_answers_422_with_its_rule(racing_client: httpx.AsyncClient) -> None:
    response = await racing_client.post("/test/statements/check")
    assert response.status_code == 422, response.text
    body = assert_no_database_text(response)
    assert body["code"] == "invalid-input"
    assert body["detail"] == CONSTRAINTS["ck_categories_handling_days"].detail


async def test_a_unique_constraint_answers_as_the_services_own_check(
    racing_client: httpx.AsyncClient, client: httpx.AsyncClient, world: World
) -> None:
    raced = await racing_client.post("/test/statements/unique")
    body = assert_no_database_text(raced)
    # The route's own check (no race) answers with the same status and code.
    names = await client.get(
        "/api/v1/jurisdictions/amsterdam/departments", headers=bearer(world.tokens["admin"])
    )
    checked = await client.post(
        "/api/v1/jurisdictions/amsterdam/departments",
        json={"name": names.json()[0]["name"]},
        headers=bearer(world.tokens["admin"]),
    )
    assert (raced.status_code, body["code"]) == (checked.status_code, checked.json()["code"])
    assert (raced.status_code, body["code"]) == (422, "department-exists")


async def test_an_unnamed_constraint_answers_a_generic_409(racing_client: httpx.AsyncClient) -> None:
    response = await racing_client.post("/test/statements/foreign-key")
    assert response.status_code == 409, response.text
    body = assert_no_database_text(response)
    assert (body["code"], body["detail"]) == ("conflict", UNKNOWN_CONSTRAINT_DETAIL)


async def test_a_value_the_database_cannot_store_answers_422_without_its_text(
    racing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await racing_client.post("/test/statements/data")
    assert response.status_code == 422, response.text
    body = assert_no_database_text(response)
    assert (body["code"], body["detail"]) == ("invalid-input", DATA_ERROR_DETAIL)
    assert any("numeric field overflow" in record.getMessage() for record in caplog.records)


async def test_a_nul_in_a_stored_text_answers_422_without_the_database_text(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/v1/jurisdictions/amsterdam/departments",
        json={"name": "Dienst\x00"},
        headers=bearer(world.tokens["admin"]),
    )
    assert response.status_code == 422, response.text
    assert assert_no_database_text(response)["code"] == "invalid-input"


async def test_every_mapped_constraint_exists_in_the_schema(session: AsyncSession) -> None:
    names = set(
        await session.scalars(
            text(
                "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
                " UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            )
        )
    )
    assert set(CONSTRAINTS) - names == set()


def test_outside_jurisdiction_is_invalid_input() -> None:
    assert issubclass(OutsideJurisdiction, InvalidInput)
    assert not issubclass(OutsideJurisdiction, Conflict)
    assert OutsideJurisdiction.status == 422


def test_every_error_class_has_a_kebab_case_code_and_its_familys_status() -> None:
    families = {InvalidInput: 422, Conflict: 409}
    for error in docs_tables.error_classes():
        if error is Open311BadRequest:
            continue  # GeoReport v2 answers every bad input with a plain 400
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", error.code), error
        for family, status in families.items():
            if issubclass(error, family):
                assert error.status == status, error


def test_a_code_belongs_to_one_class_and_one_status() -> None:
    classes: dict[str, list[type[DomainError]]] = {}
    for error in docs_tables.error_classes():
        classes.setdefault(error.code, []).append(error)
    for code, found in classes.items():
        assert len(found) == 1, (code, found)
    # The HTTP layer's own codes: the status of the family of that code where there is one.
    for code, (status, _) in HTTP_LAYER_CODES.items():
        assert all(error.status == status for error in classes.get(code, [])), code
    statuses: dict[str, set[int]] = {}
    for entry in docs_tables.all_codes():
        statuses.setdefault(entry.code, set()).add(entry.status)
    assert {code for code, found in statuses.items() if len(found) > 1} == set()


def test_every_error_class_states_its_code_and_title() -> None:
    for error in docs_tables.error_classes():
        assert "code" in error.__dict__ and "title" in error.__dict__, error


def test_a_raise_cannot_choose_its_code() -> None:
    with pytest.raises(TypeError):
        InvalidInput("x", code="made-up")
    with pytest.raises(TypeError):
        Conflict("x", status=200)
    assert InvalidInput("x", allowed=["a"]).extra == {"allowed": ["a"]}


def test_no_raise_site_passes_a_code() -> None:
    """``code=`` to an error class fails when raised (above); this finds it before a test reaches it."""
    names = {error.__name__ for error in docs_tables.error_classes()} | {"DomainError"}
    found = []
    for package in ("api", "core", "geo", "participation", "notifications"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in names and any(keyword.arg == "code" for keyword in node.keywords):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_docs_errors_is_current() -> None:
    assert docs_tables.ERRORS.read_text(encoding="utf-8") == docs_tables.errors_page(), (
        "run python -m api.docs_tables"
    )
    page = docs_tables.ERRORS.read_text(encoding="utf-8")
    for code in ("location-outside-jurisdiction", "not-your-area", "department-exists", *HTTP_LAYER_CODES):
        assert f"| `{code}` |" in page
