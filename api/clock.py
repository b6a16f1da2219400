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

from participation.ballot_cipher import BallotCipher
from participation.workflow import tick

logger = logging.getLogger("civicloop.clock")


async def purge_idempotency_records(engine: AsyncEngine, *, ttl_hours: int) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(
            text("DELETE FROM idempotency_records WHERE created_at < now() - make_interval(hours => :ttl)"),
            {"ttl": ttl_hours},
        )
    return int(result.rowcount or 0)


async def _run(
    engine: AsyncEngine, interval_seconds: float, ttl_hours: int, cipher: BallotCipher, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            moved = await tick(engine, cipher=cipher)
            if moved.get("rounds"):
                logger.info("phases advanced: %s", moved)
            await purge_idempotency_records(engine, ttl_hours=ttl_hours)
        except Exception:  # a failed tick must not stop the clock; the next one retries
            logger.exception("clock tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def clock(
    engine: AsyncEngine,
    *,
    idempotency_ttl_hours: int,
    cipher: BallotCipher,
    interval_seconds: float = 60.0,
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        _run(engine, interval_seconds, idempotency_ttl_hours, cipher, stop), name="civicloop-clock"
    )
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
