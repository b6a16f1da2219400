"""The app's participation resources (``participation.resources``): a committing app casts on its casts'
pool and writes ballots on the mixer's own autocommit pool, both opened and closed by the app's lifespan;
an app on a caller's connection opens nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from core.db import make_sessionmaker
from core.settings import Settings
from participation.resources import ParticipationResources
from tests.conftest import World
from tests.participation.support_rounds import BASE, codes_for, new_resident, round_with_projects, verify


def _resources(app: FastAPI) -> ParticipationResources:
    resources: ParticipationResources = app.state.participation
    return resources


async def test_a_committing_app_casts_and_mixes_on_pools_of_its_own(
    engine: AsyncEngine, settings: Settings, world: World
) -> None:
    app = create_app(settings, sessionmaker=make_sessionmaker(engine))
    resources = _resources(app)
    assert resources.cast_pool is not None and resources.mixer_pool is not None
    assert resources.mixer.source == resources.mixer_pool.connection
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://civicloop.test",
        ) as client:
            author_id, author_token = await new_resident(make_sessionmaker(engine), world)
            await verify(client, world, author_id)
            round_id, ids = await round_with_projects(client, world, author_token=author_token)
            [code] = await codes_for(client, world, round_id, 1)
            # A cast with a letter's code resolves no token: it touches no session, only the casts' pool.
            cast = await client.post(
                f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": code, "projects": [ids[0]]}
            )
            assert cast.status_code == 201, cast.text
        assert resources.cast_pool.get_stats().get("requests_num", 0) >= 1
        assert resources.mixer_pool.get_stats().get("requests_num", 0) >= 1
    assert resources.cast_pool.closed and resources.mixer_pool.closed
    async with engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT count(*) FROM ballots WHERE round_id = :r"), {"r": round_id}
        )
    assert stored == 1


async def test_an_app_on_a_callers_connection_opens_no_pool(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    resources = _resources(create_app(settings, sessionmaker=sessionmaker))
    assert resources.cast_pool is None and resources.mixer_pool is None
