"""Time-driven work that belongs to no request: budget rounds whose phase dates have passed move on, and
answers kept for ``Idempotency-Key`` retries are forgotten once no phone will retry any more.

It lives in the composition root because it joins two packages (the worker of ``notifications`` must not
import ``participation``): ``civicloop serve`` runs it beside the API and the notifications worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import throttle
from core.db import make_sessionmaker
from core.settings import Settings
from geo.media import MediaStore
from geo.retention import RetentionRun, run_retention
from participation.clock import tick
from participation.electorate import ParticipationKeys

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


async def retention(engine: AsyncEngine, settings: Settings) -> RetentionRun:
    """Personal data past their jurisdiction's retention (``geo.retention``), and spent account links."""
    async with make_sessionmaker(engine)() as session:
        run = await run_retention(
            session,
            MediaStore(settings.media_dir),
            default_days=settings.contact_retention_days,
            default_months=settings.photo_retention_months,
        )
        # Sign-up and reset links, used or expired for a day: their rows hold addresses (and a pending
        # sign-up's password hash).
        await session.execute(
            text(
                "DELETE FROM account_links WHERE expires_at < now() - interval '1 day' OR used_at IS NOT NULL"
            )
        )
        await session.commit()
    return run


async def _run(
    engine: AsyncEngine,
    settings: Settings,
    interval_seconds: float,
    stop: asyncio.Event,
    retention_seconds: float,
) -> None:
    cipher = ParticipationKeys.from_secret(settings.secret_key.get_secret_value()).cipher
    last_retention = -math.inf
    while not stop.is_set():
        try:
            moved = await tick(engine, cipher=cipher)
            if moved.get("rounds"):
                logger.info("phases advanced: %s", moved)
            await purge_idempotency_records(engine, ttl_hours=settings.idempotency_ttl_hours)
            await purge_rate_limits(engine)
            if time.monotonic() - last_retention >= retention_seconds:
                await retention(engine, settings)
                last_retention = time.monotonic()
        except Exception:  # a failed tick must not stop the clock; the next one retries
            logger.exception("clock tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def clock(
    engine: AsyncEngine,
    settings: Settings,
    *,
    interval_seconds: float = 60.0,
    retention_seconds: float = 3600.0,
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        _run(engine, settings, interval_seconds, stop, retention_seconds), name="civicloop-clock"
    )
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
