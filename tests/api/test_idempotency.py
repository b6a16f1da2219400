"""Retries from phones: one row per Idempotency-Key, whatever the concurrency."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import make_sessionmaker
from geo.models import Report
from tests.conftest import RACE_CATEGORY, RACE_EXTRA, RACE_TRACK, World, bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"


async def test_a_retry_returns_the_first_answer(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": "retry-1"}
    before = await session.scalar(select(func.count()).select_from(Report)) or 0
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


async def test_device_registration_keeps_no_token_and_no_plain_key_and_refuses_guessable_keys(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Issue 12, item 7: an unauthenticated call has no account to scope its key by, so the key must be
    the client's own random secret; the stored answer holds no token, the key is stored hashed."""
    body = {"jurisdiction": "amsterdam", "locale": "nl"}
    for guessable in ("1", "device-1", "retry-from-my-phone"):
        weak = await client.post("/api/v1/auth/devices", json=body, headers={"Idempotency-Key": guessable})
        assert (weak.status_code, weak.json()["code"]) == (422, "weak-idempotency-key"), guessable

    key = str(uuid.uuid4())
    first = await client.post("/api/v1/auth/devices", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    token = first.json()["token"]
    rows = (
        await session.execute(
            text(
                "SELECT key, response::text FROM idempotency_records WHERE scope LIKE 'device-registration:%'"
            )
        )
    ).all()
    assert rows and all(key not in stored_key for stored_key, _ in rows)
    assert all(token not in response and '"token"' not in response for _, response in rows)

    retry = await client.post("/api/v1/auth/devices", json=body, headers={"Idempotency-Key": key})
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()  # the same device and token, rebuilt from the key
    me = await client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["account_id"] == first.json()["account_id"]

    other = await client.post(
        "/api/v1/auth/devices", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert other.json()["account_id"] != first.json()["account_id"] and other.json()["token"] != token
