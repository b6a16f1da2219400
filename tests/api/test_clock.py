"""The clock of `civicloop serve`: forgets Idempotency-Key answers no phone will retry, keeps the rest."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.clock import clock, purge_idempotency_records
from core.settings import Settings
from tests.conftest import World


async def _keys(engine: AsyncEngine, scope: str) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT key FROM idempotency_records WHERE scope = :s"), {"s": scope}
        )
        return {row.key for row in rows}


async def _remember(engine: AsyncEngine, scope: str, key: str, hours_ago: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO idempotency_records (scope, key, fingerprint, status_code, response, created_at)"
                " VALUES (:s, :k, '\\x00', 201, '{}', now() - make_interval(hours => :h))"
            ),
            {"s": scope, "k": key, "h": hours_ago},
        )


async def test_old_idempotency_answers_are_purged(engine: AsyncEngine, world: World) -> None:
    scope = f"clock-test:{uuid.uuid4()}"
    await _remember(engine, scope, "old", 49)
    await _remember(engine, scope, "fresh", 47)
    await purge_idempotency_records(engine, ttl_hours=48)
    assert await _keys(engine, scope) == {"fresh"}


async def test_the_clock_ticks_and_stops(engine: AsyncEngine, world: World, settings: Settings) -> None:
    scope = f"clock-test:{uuid.uuid4()}"
    await _remember(engine, scope, "old", 5)
    async with clock(engine, settings.model_copy(update={"idempotency_ttl_hours": 1}), interval_seconds=0.05):
        for _ in range(100):
            if not await _keys(engine, scope):
                break
            await asyncio.sleep(0.05)
    assert await _keys(engine, scope) == set()
