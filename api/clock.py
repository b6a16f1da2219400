"""Time-driven work that belongs to no request: budget rounds whose phase dates have passed move on, and
answers kept for ``Idempotency-Key`` retries are forgotten once no phone will retry any more.

It lives in the composition root because it joins two packages (the worker of ``notifications`` must not
import ``participation``): ``civicloop serve`` runs it beside the API and the notifications worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import throttle
from core.db import make_sessionmaker
from core.settings import Settings
from participation.electorate import ParticipationKeys
from participation.workflow import tick

logger = logging.getLogger("civicloop.clock")


async def purge_idempotency_records(engine: AsyncEngine, *, ttl_hours: int) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(
            text("DELETE FROM idempotency_records WHERE created_at < now() - make_interval(hours => :ttl)"),
            {"ttl": ttl_hours},
        )
    return int(result.rowcount or 0)


async def purge_rate_limits(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        purged = await throttle.purge(session)
        await session.commit()
    return purged


async def _run(engine: AsyncEngine, settings: Settings, interval_seconds: float, stop: asyncio.Event) -> None:
    cipher = ParticipationKeys.from_secret(settings.secret_key.get_secret_value()).cipher
    while not stop.is_set():
        try:
            moved = await tick(engine, cipher=cipher)
            if moved.get("rounds"):
                logger.info("phases advanced: %s", moved)
            await purge_idempotency_records(engine, ttl_hours=settings.idempotency_ttl_hours)
            await purge_rate_limits(engine)
        except Exception:  # a failed tick must not stop the clock; the next one retries
            logger.exception("clock tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def clock(
    engine: AsyncEngine, settings: Settings, *, interval_seconds: float = 60.0
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(_run(engine, settings, interval_seconds, stop), name="civicloop-clock")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
