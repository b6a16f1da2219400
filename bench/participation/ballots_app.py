"""The app under load in ``bench/participation/ballots.py``: ``api.app.create_app`` as ``civicloop serve``
builds it, with the ballot mixer's batching window taken from the environment (the variants compared).

Environment: ``DATABASE_URL``, ``CIVICLOOP_DB_POOL_SIZE`` (read by the settings), ``BENCH_MIXER_DELAY``
(seconds the mixer waits to fill a batch; ``0`` = write as soon as the previous batch is committed).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter

from api.app import create_app
from core.db import sync_url
from core.settings import Settings
from participation.ballot_store import BallotMixer, connection_pool

settings = Settings()
if not settings.database_url:
    raise RuntimeError("DATABASE_URL is not set")
app = create_app(settings)

# The mixer the router would build on first use (two connections of its own), with the window under test;
# the participation router's lifespan closes its pool.
pool = connection_pool(sync_url(settings.database_url), min_size=1, max_size=2, autocommit=True)
app.state.ballot_mixer_pool = pool
app.state.ballot_mixer = BallotMixer(
    pool.connection, max_delay=float(os.environ.get("BENCH_MIXER_DELAY", "0"))
)


@asynccontextmanager
async def _open_pool(_: Any) -> AsyncIterator[None]:
    await pool.open()
    yield


app.include_router(APIRouter(lifespan=_open_pool))
