"""Retries from phones: one row per Idempotency-Key, whatever the concurrency."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import make_sessionmaker
from geo.models import Report
from tests.conftest import RACE_CATEGORY, RACE_EXTRA, RACE_TRACK, World, bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"


async def test_a_retry_returns_the_first_answer(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": "retry-1"}
    before = await session.scalar(select(func.count()).select_from(Report))
    first = await client.post(f"{BASE}/reports", json=report_body(), headers=headers)
    second = await client.post(f"{BASE}/reports", json=report_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    assert await session.scalar(select(func.count()).select_from(Report)) == before + 1


async def test_the_same_key_with_another_body_is_refused(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": "retry-2"}
    assert (await client.post(f"{BASE}/reports", json=report_body(), headers=headers)).status_code == 201
    other = await client.post(f"{BASE}/reports", json=report_body(description="iets anders"), headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"


async def test_keys_are_per_account(client: httpx.AsyncClient, world: World) -> None:
    key = {"Idempotency-Key": "shared-key"}
    one = await client.post(
        f"{BASE}/reports", json=report_body(), headers=bearer(world.tokens["resident"]) | key
    )
    two = await client.post(
        f"{BASE}/reports", json=report_body(), headers=bearer(world.tokens["device"]) | key
    )
    assert one.status_code == two.status_code == 201 and one.json()["id"] != two.json()["id"]


async def test_a_failed_first_attempt_leaves_no_key_behind(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": "after-failure"}
    failed = await client.post(f"{BASE}/reports", json=report_body(point=(4.4, 52.6)), headers=headers)
    assert failed.status_code == 422
    retried = await client.post(f"{BASE}/reports", json=report_body(point=(4.4, 52.6)), headers=headers)
    assert retried.status_code == 422 and "idempotent-replayed" not in retried.headers


async def test_twenty_simultaneous_retries_create_one_report(
    committed_client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    description = f"race {uuid.uuid4()}"
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    responses = await asyncio.gather(
        *[
            committed_client.post(
                f"{BASE}/reports",
                json=report_body(
                    description=description, point=RACE_TRACK, category=RACE_CATEGORY, extra=RACE_EXTRA
                ),
                headers=headers,
            )
            for _ in range(20)
        ]
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in responses}) == 1
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).where(Report.description == description)) == 1
