"""A client of the app (which mounts the Open311 router), checked against its OpenAPI; API keys issued
the way ``civicloop apikey create`` does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import api.open311.keys  # noqa: F401  (the ORM models, so metadata knows them)
from api.app import create_app
from api.open311 import keys
from core.settings import Settings
from tests.conftest import DAM_SQUARE, World
from tests.response_schemas import response_hooks

BASE = "/open311/v2"


@pytest.fixture
async def open311_client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        yield client


@pytest.fixture
async def api_key(session: AsyncSession, world: World) -> str:
    issued = await keys.create_key(session, jurisdiction_id=world.amsterdam, name="FixMyStreet test")
    await session.commit()  # releases the fixture's savepoint into the test's outer transaction
    return issued.key


@pytest.fixture
async def utrecht_key(session: AsyncSession, world: World) -> str:
    issued = await keys.create_key(session, jurisdiction_id=world.utrecht, name="Utrecht app")
    await session.commit()
    return issued.key


def form(api_key: str | None, **fields: str) -> dict[str, str]:
    """A service request's form: a pothole at Dam square, ``fields`` replacing or adding."""
    body = {
        "jurisdiction_id": "amsterdam",
        "service_code": "pothole",
        "lat": str(DAM_SQUARE[1]),
        "long": str(DAM_SQUARE[0]),
        "description": "Diep gat voor het paleis",
        **fields,
    }
    if api_key is not None:
        body["api_key"] = api_key
    return body
