"""Shared set-up of the map tests: an app with the map router, and reports placed at named spots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.settings import Settings
from tests.conftest import World
from tests.response_schemas import response_hooks


@pytest.fixture
async def map_client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    app.state.map_refresh_checked_at = float("inf")  # no background refresh inside a test transaction
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        yield client


async def place_reports(
    session: AsyncSession,
    world: World,
    *,
    category: str,
    point: tuple[float, float],
    count: int,
    status: str = "submitted",
    spread: float = 0.0,
) -> list[int]:
    """``count`` reports at ``point``, jittered within ``spread`` degrees, in the test's transaction."""
    rows = await session.execute(
        text("""
        INSERT INTO reports (jurisdiction_id, category_id, department_id, area_id, location, description,
                             extra, status, is_public, version, created_at, updated_at)
        SELECT c.jurisdiction_id, c.id, c.department_id, :area,
               ST_SetSRID(ST_MakePoint(:lon + (g % 7) * :spread / 7, :lat + (g % 5) * :spread / 5), 4326),
               'Melding ' || g, '{}', :status, c.is_public, 1, now() - (g || ' minutes')::interval, now()
        FROM categories c, generate_series(1, :count) AS g
        WHERE c.code = :category AND c.jurisdiction_id = :j
        RETURNING id
        """),
        {
            "area": world.areas["Dam"],
            "lon": point[0],
            "lat": point[1],
            "spread": spread,
            "status": status,
            "count": count,
            "category": category,
            "j": world.amsterdam,
        },
    )
    ids = list(rows.scalars())
    await session.commit()
    return ids
