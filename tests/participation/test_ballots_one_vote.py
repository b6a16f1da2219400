"""One person, one vote under any concurrency: 200 simultaneous attempts count once."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import make_sessionmaker
from tests.conftest import World, bearer
from tests.participation.support_rounds import (
    BASE,
    codes_for,
    new_resident,
    round_with_projects,
    verify,
)


async def _counts(engine: AsyncEngine, round_id: int) -> tuple[int, int]:
    async with engine.connect() as connection:
        ballots = await connection.scalar(
            text("SELECT count(*) FROM ballots WHERE round_id = :r"), {"r": round_id}
        )
        voters = await connection.scalar(
            text("SELECT count(*) FROM voter_participations WHERE round_id = :r"), {"r": round_id}
        )
    return int(ballots or 0), int(voters or 0)


async def _storm(client: httpx.AsyncClient, round_id: int, body: dict, headers: dict) -> list[int]:
    responses = await asyncio.gather(
        *[
            client.post(f"{BASE}/budget-rounds/{round_id}/ballots", json=body, headers=headers)
            for _ in range(200)
        ]
    )
    return [r.status_code for r in responses]


async def test_200_simultaneous_ballots_with_one_code_count_once(
    pcommitted_client: httpx.AsyncClient,
    world: World,
    engine: AsyncEngine,
) -> None:
    author_id, author_token = await new_resident(make_sessionmaker(engine), world)
    await verify(pcommitted_client, world, author_id)
    round_id, ids = await round_with_projects(pcommitted_client, world, author_token=author_token)
    [code] = await codes_for(pcommitted_client, world, round_id, 1)
    statuses = await _storm(pcommitted_client, round_id, {"code": code, "projects": [ids[0]]}, {})
    assert 201 in statuses and set(statuses) <= {201, 409}, statuses
    assert await _counts(engine, round_id) == (1, 1)


async def test_200_simultaneous_ballots_from_one_account_count_once(
    pcommitted_client: httpx.AsyncClient,
    world: World,
    engine: AsyncEngine,
) -> None:
    account_id, token = await new_resident(make_sessionmaker(engine), world)
    await verify(pcommitted_client, world, account_id)
    round_id, ids = await round_with_projects(pcommitted_client, world, author_token=token)
    statuses = await _storm(pcommitted_client, round_id, {"projects": [ids[1]]}, bearer(token))
    assert 201 in statuses and set(statuses) <= {201, 409}, statuses
    assert await _counts(engine, round_id) == (1, 1)
    async with engine.connect() as connection:
        received = await connection.scalar(
            text("SELECT count(*) FROM outbox_events WHERE topic = 'ballot.received' AND aggregate_id = :r"),
            {"r": round_id},
        )
    assert received == statuses.count(201)


async def test_many_voters_at_once_all_count_when_changes_are_refused(
    pcommitted_client: httpx.AsyncClient,
    world: World,
    engine: AsyncEngine,
) -> None:
    author_id, author_token = await new_resident(make_sessionmaker(engine), world)
    await verify(pcommitted_client, world, author_id)
    round_id, ids = await round_with_projects(
        pcommitted_client, world, author_token=author_token, allow_ballot_changes=False
    )
    codes = await codes_for(pcommitted_client, world, round_id, 50)
    attempts = [code for code in codes for _ in range(4)]
    responses = await asyncio.gather(
        *[
            pcommitted_client.post(
                f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": c, "projects": [ids[2]]}
            )
            for c in attempts
        ]
    )
    assert sorted(r.status_code for r in responses).count(201) == 50
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "code-already-used",
        "ballot-in-progress",
    }
    assert await _counts(engine, round_id) == (50, 50)
