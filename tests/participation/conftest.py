"""Clients of the budget-round, ballot, council and consultation tests.

``pclient`` runs inside the test's rolled-back transaction (the ballot mixer and the casts use the test's
connection too: ``participation.resources``); ``pcommitted_client`` really commits, with the casts' and the
mixer's own pools of plain psycopg connections, as in production. httpx's ASGI transport does not run the
app's lifespan, so ``committed_app`` runs it here: it opens those pools and closes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import participation.models  # noqa: F401  (metadata)
from api.app import create_app
from core.db import make_sessionmaker
from core.settings import Settings
from tests.conftest import World
from tests.response_schemas import response_hooks


@pytest.fixture
async def pclient(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """Rolled back after the test; the ballot mixer writes through the test's connection too."""
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        yield client


@pytest.fixture
async def committed_app(engine: AsyncEngine, settings: Settings, world: World) -> AsyncIterator[FastAPI]:
    """The app of ``pcommitted_client``, its lifespan running (a test may swap its ballot mixer)."""
    app = create_app(settings, sessionmaker=make_sessionmaker(engine))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def pcommitted_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Requests really commit; casts and the mixer have pools of their own, as in production."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=committed_app, raise_app_exceptions=False),
        base_url="http://civicloop.test",
        event_hooks=response_hooks(committed_app),
    ) as client:
        yield client
