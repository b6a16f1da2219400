"""Public reads on the production path: the app's own ``PlainTransactions`` pool, opened in its lifespan.

The other tests run the app on their rolled-back transaction, where public reads go through a session
of that transaction. Here the app is built as ``civicloop serve`` builds it (its own engine and pool,
no sessionmaker passed in) against the committed reference world: the report list, the near-list and
the duplicate check are served from the psycopg pool, and their pre-rendered JSON is checked against
the OpenAPI schema of each route (``tests.response_schemas``, through the client's hooks). The report
create runs there too, on one plain transaction of the same pool (only its failures: nothing is committed
to the reference world).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from api.app import create_app
from core.settings import Settings
from tests.conftest import DAM_SQUARE, NORTH_SEA, World, bearer
from tests.response_schemas import response_hooks

BASE = "/api/v1/jurisdictions/amsterdam/reports"


@pytest.fixture
async def served(database_url: str, tmp_path: Path, world: World) -> AsyncIterator[FastAPI]:
    app = create_app(
        Settings(
            environment="test",
            database_url=database_url,
            media_dir=tmp_path / "media",
            rate_limits=False,
            run_worker=False,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(served: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(served)
    ) as http:
        yield http


def pool_requests(app: FastAPI) -> int:
    return int(app.state.plain_transactions._pool.get_stats().get("requests_num", 0))


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}?category=pothole&limit=5",
        f"{BASE}?near={DAM_SQUARE[0]},{DAM_SQUARE[1]}&radius=500",
        f"{BASE}/duplicates?category=pothole&longitude={DAM_SQUARE[0]}&latitude={DAM_SQUARE[1]}",
    ],
)
async def test_public_reads_are_served_from_the_pool(
    client: httpx.AsyncClient, served: FastAPI, path: str
) -> None:
    before = pool_requests(served)
    response = await client.get(path)  # the hooks check the body against the route's schema
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert pool_requests(served) == before + 1


async def test_a_token_on_a_public_read_is_still_checked(
    client: httpx.AsyncClient, served: FastAPI, world: World
) -> None:
    unknown = await client.get(f"{BASE}?limit=5", headers=bearer("not-a-token-we-issued"))
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "invalid-token"
    before = pool_requests(served)
    known = await client.get(f"{BASE}?limit=5", headers=bearer(world.tokens["resident"]))
    assert known.status_code == 200, known.text
    assert pool_requests(served) == before + 2  # the identity, then the list: no ORM session


async def test_unknown_codes_are_refused_on_the_pool_path_too(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}?category=no-such-code")
    assert response.status_code == 422
    assert response.json()["code"] == "unknown-category"
    missing = await client.get("/api/v1/jurisdictions/atlantis/reports")
    assert missing.status_code == 404


async def test_a_create_runs_on_one_plain_transaction_and_opens_no_orm_session(
    client: httpx.AsyncClient, served: FastAPI, world: World
) -> None:
    """The report create's policy (identity, jurisdiction) and its work (category, submission) run on
    one connection of the plain pool, and nothing checks out a connection of the ORM's engine. Its
    failures roll back (the reference world stays as it is: nothing is committed here)."""
    engine = served.state.sessionmaker.kw["bind"]
    checkouts: list[object] = []

    def count_checkout(*_: object) -> None:
        checkouts.append(None)

    event.listen(engine.sync_engine, "checkout", count_checkout)
    try:
        before = pool_requests(served)
        body = {
            "category": "pothole",
            "location": {"type": "Point", "coordinates": list(NORTH_SEA)},
            "description": "Losliggende stoeptegel",
        }
        outside = await client.post(BASE, json=body, headers=bearer(world.tokens["resident"]))
        assert outside.status_code == 422, outside.text
        assert outside.json()["code"] == "location-outside-jurisdiction"
        assert pool_requests(served) == before + 1
        unknown = await client.post(
            BASE, json=body | {"category": "no-such-code"}, headers=bearer(world.tokens["resident"])
        )
        assert unknown.status_code == 404, unknown.text
        anonymous = await client.post(BASE, json=body)
        assert anonymous.status_code == 401
        assert pool_requests(served) == before + 3
        assert checkouts == []
    finally:
        event.remove(engine.sync_engine, "checkout", count_checkout)
