"""Time-driven work that belongs to no request: budget rounds whose phase dates have passed move on.

It lives in the composition root because it joins two packages (the worker of ``notifications`` must not
import ``participation``): ``civicloop serve`` runs it beside the API and the notifications worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from participation.workflow import tick

logger = logging.getLogger("civicloop.clock")


async def _run(engine: AsyncEngine, interval_seconds: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            moved = await tick(engine)
            if moved.get("rounds"):
                logger.info("phases advanced: %s", moved)
        except Exception:  # a failed tick must not stop the clock; the next one retries
            logger.exception("participation clock tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def participation_clock(engine: AsyncEngine, *, interval_seconds: float = 60.0) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(_run(engine, interval_seconds, stop), name="civicloop-participation-clock")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
