"""A rate limit on an Open311 route answers 429 in GeoReport v2's own error list, in the format asked for,
with ``Retry-After``, and the OpenAPI documents it so (not folded into a 400, as before).

A route added to the test's app on the Open311 router class, refused by the real throttle (``core.throttle``
counting in PostgreSQL), checks the format; the last test runs the app's own limit on POST requests (per
api_key). Every answer is checked against the app's OpenAPI, as the other Open311 tests' answers are.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import openapi_errors
from api.app import create_app
from api.deps import SessionDep
from api.open311 import keys
from api.open311.formats import Format, respond
from api.open311.router import Open311Route
from api.open311.schemas import documented
from core import throttle
from core.errors import TooManyRequests
from core.settings import Settings
from tests.conftest import NORTH_SEA, World
from tests.open311.conftest import BASE, form
from tests.response_schemas import response_hooks

LIMITED = "/test/limited.{fmt}"
LIMIT = 2


@pytest.fixture
async def limited_app(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    app = create_app(settings, sessionmaker=sessionmaker)
    router = APIRouter(prefix=BASE, route_class=Open311Route)
    key = f"open311-test:{uuid.uuid4()}"

    @router.post(LIMITED, status_code=201, responses=documented(201))
    async def limited(fmt: str, session: AsyncSession = SessionDep) -> Response:
        await throttle.hit(session, key=key, limit=LIMIT, window_seconds=3600, what="test requests")
        return respond(cast(Format, fmt), "service_requests", [], status_code=201)

    app.include_router(router)
    # What the route's service refuses is listed per operation, as for the app's own routes.
    monkeypatch.setitem(openapi_errors.RULE_ERRORS, ("POST", BASE + LIMITED), (TooManyRequests,))
    return app


@pytest.fixture
async def limited_client(limited_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(limited_app)
    ) as client:
        yield client


def _retry_after(response: httpx.Response) -> int:
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= 3600
    return seconds


async def test_a_rate_limit_answers_429_in_json_with_retry_after(limited_client: httpx.AsyncClient) -> None:
    answers = [await limited_client.post(f"{BASE}/test/limited.json") for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers] == [201] * LIMIT + [429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/json"
    seconds = _retry_after(refused)
    assert refused.json() == [
        {"code": 429, "description": f"too many test requests; try again in {seconds} seconds"}
    ]


async def test_a_rate_limit_answers_429_in_xml_with_retry_after(limited_client: httpx.AsyncClient) -> None:
    for _ in range(LIMIT):
        assert (await limited_client.post(f"{BASE}/test/limited.xml")).status_code == 201
    refused = await limited_client.post(f"{BASE}/test/limited.xml")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/xml")
    seconds = _retry_after(refused)
    root = ElementTree.fromstring(refused.content)
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")] == [
        ("429", f"too many test requests; try again in {seconds} seconds")
    ]


async def test_the_openapi_documents_the_429_in_open311s_format(limited_app: FastAPI) -> None:
    responses: dict[str, Any] = limited_app.openapi()["paths"][BASE + LIMITED]["post"]["responses"]
    documented_429 = responses["429"]
    assert set(documented_429["content"]) == {"application/json", "text/xml"}
    assert documented_429["headers"]["Retry-After"] == openapi_errors.RETRY_AFTER_HEADER
    assert "too-many-requests" in documented_429["description"]
    assert "too-many-requests" not in responses["400"]["description"]  # no longer folded into 400


async def test_a_key_submits_at_most_its_hourly_limit_and_refusals_do_not_count(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, world: World
) -> None:
    """The real route: POST requests counts per api_key (``CIVICLOOP_OPEN311_REQUESTS_PER_KEY_PER_HOUR``);
    a refused submission is rolled back with its count; another key has its own count."""
    world_keys = []
    for name in ("flooding app", "other app"):
        issued = await keys.create_key(session, jurisdiction_id=world.amsterdam, name=name)
        world_keys.append(issued.key)
    await session.commit()
    flooding, other = world_keys
    config = settings.model_copy(update={"rate_limits": True, "open311_requests_per_key_per_hour": LIMIT})
    app = create_app(config, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        url = f"{BASE}/requests.json"
        outside = await client.post(url, data=form(flooding, lat=str(NORTH_SEA[1]), long=str(NORTH_SEA[0])))
        assert outside.status_code == 400  # refused: rolled back, so it does not use up the limit
        made = [(await client.post(url, data=form(flooding))).status_code for _ in range(LIMIT)]
        assert made == [201] * LIMIT
        refused = await client.post(f"{BASE}/requests.xml", data=form(flooding))
        assert refused.status_code == 429
        error = ElementTree.fromstring(refused.content).find("error")
        assert error is not None and error.findtext("code") == "429"
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert (await client.post(url, data=form(other))).status_code == 201
