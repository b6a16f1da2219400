"""Fixtures of the API tests.

``matrix_run``: the role matrix's runner (tests/api/role_matrix.py), one per test module: one connection,
one app and one transaction, rolled back when the module is done.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
)

from api.app import create_app
from core.settings import Settings
from tests.api.role_matrix import MatrixRun
from tests.conftest import World
from tests.response_schemas import response_hooks


@pytest.fixture(scope="module")
async def matrix_run(
    engine: AsyncEngine, world: World, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MatrixRun]:
    media: Path = tmp_path_factory.mktemp("matrix-media")
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        settings = Settings(environment="test", database_url=database_url, media_dir=media, rate_limits=False)
        app = create_app(settings, sessionmaker=sessionmaker)
        app.state.map_refresh_checked_at = math.inf  # no background refresh of the map cells
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
        ) as client:
            run = MatrixRun(connection, sessionmaker, client, world)
            yield run
            await run.leave_row()
        await transaction.rollback()
