"""The close of voting against casts in flight, and the vacuum after it (``docs/ballot-secrecy.md``).

A close takes the round's advisory lock exclusively (each cast holds it shared): it waits for a cast whose
ballot is on its way and seals that ballot with the others; a cast that arrives during the close waits,
then finds the round closed and leaves nothing behind. After the close the pre-seal row versions, which
still carry the keyed ids, are vacuumed away.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import make_sessionmaker
from participation import budget_rounds
from participation.ballot_store import BallotMixer, session_source, vacuum_ballots
from participation.clock import tick
from participation.electorate import ParticipationKeys
from tests.conftest import World
from tests.participation.support_rounds import (
    BASE,
    CIPHER,
    codes_for,
    new_resident,
    round_with_projects,
    verify,
)

KEYS = ParticipationKeys.from_secret("development-only-secret-change-me")


async def _voting_round(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine, **overrides: Any
) -> tuple[int, list[int]]:
    author_id, author_token = await new_resident(make_sessionmaker(engine), world)
    await verify(client, world, author_id)
    return await round_with_projects(client, world, author_token=author_token, **overrides)


class GatedMixer(BallotMixer):
    """The production mixer, holding each batch until the test opens ``gate``: the cast is in flight (its
    share of the round's lock held, its participation not committed) for as long as the test needs, and
    ``arrived`` says when it got there. Events, not a guess at how long the way takes."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(session_source(make_sessionmaker(engine)))
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()

    async def _write_batch(self, batch: list[Any]) -> None:
        self.arrived.set()
        await self.gate.wait()
        await super()._write_batch(batch)


async def _until_a_session_waits_for_the_round_lock(engine: AsyncEngine) -> None:
    """Return once a session of this database waits for an advisory lock (the round's; nothing else here
    takes one), as ``pg_locks`` reports it live."""
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    async with engine.connect() as connection:
        async with asyncio.timeout(30):
            # PostgreSQL has no event for "a session began to wait": poll the condition (not a duration).
            while not await connection.scalar(waiting):  # noqa: ASYNC110
                await asyncio.sleep(0.01)


async def _counts(engine: AsyncEngine, round_id: int) -> tuple[int, int]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM ballots WHERE round_id = :r),"
                    " (SELECT count(*) FROM voter_participations WHERE round_id = :r)"
                ),
                {"r": round_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def _ballot_ids(engine: AsyncEngine, round_id: int) -> set[uuid.UUID]:
    async with engine.connect() as connection:
        return set(
            await connection.scalars(text("SELECT id FROM ballots WHERE round_id = :r"), {"r": round_id})
        )


async def _pageinspect(engine: AsyncEngine) -> str | None:
    """Why pageinspect cannot be used here (a managed database without it, no superuser), or None."""
    async with engine.connect() as connection:
        try:
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await connection.commit()
        except Exception as error:
            return str(error)
    return None


async def _stored_versions(engine: AsyncEngine, ids: set[uuid.UUID]) -> tuple[int, int]:
    """How many of ``ids`` are (listed row versions, anywhere in the raw bytes) of the ballots' pages."""
    wanted = [i.bytes for i in ids]
    async with engine.connect() as connection:
        pages = int(await connection.scalar(text("SELECT pg_relation_size('ballots') / 8192")) or 0)
        listed = await connection.scalar(
            text(
                "SELECT count(*) FROM generate_series(0, :pages - 1) b,"
                " heap_page_items(get_raw_page('ballots', b::int)) h"
                " WHERE substring(h.t_data FROM 1 FOR 16) = ANY(:ids)"
            ),
            {"pages": pages, "ids": wanted},
        )
        raw = await connection.scalar(
            text(
                "SELECT count(DISTINCT o) FROM generate_series(0, :pages - 1) b,"
                " unnest(CAST(:ids AS bytea[])) o WHERE position(o IN get_raw_page('ballots', b::int)) > 0"
            ),
            {"pages": pages, "ids": wanted},
        )
    return int(listed or 0), int(raw or 0)


async def test_a_cast_in_flight_is_sealed_with_the_others(
    committed_app: FastAPI, pcommitted_client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    client = pcommitted_client
    round_id, ids = await _voting_round(client, world, engine)
    [code] = await codes_for(client, world, round_id, 1)
    # The cast is held in the mixer (in flight: its locks held, its participation not committed) until
    # the close has come to wait for the round's lock.
    mixer = committed_app.state.participation.mixer = GatedMixer(engine)
    cast = asyncio.create_task(
        client.post(f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": code, "projects": [ids[0]]})
    )
    await asyncio.wait_for(mixer.arrived.wait(), timeout=30)
    assert not cast.done()
    close = asyncio.create_task(
        client.post(
            f"{BASE}/budget-rounds/{round_id}/phase",
            json={"to": "results"},
            headers={"Authorization": f"Bearer {world.tokens['admin']}"},
        )
    )
    await _until_a_session_waits_for_the_round_lock(engine)
    assert not close.done()
    mixer.gate.set()
    response, closed = await asyncio.gather(cast, close)
    assert response.status_code == 201, response.text
    assert closed.status_code == 200, closed.text
    result = (await client.get(f"{BASE}/budget-rounds/{round_id}/results")).json()
    assert (result["num_ballots"], result["num_participations"]) == (1, 1)
    # Sealed: not the keyed id the cast wrote; and the route vacuumed after its commit.
    [sealed] = await _ballot_ids(engine, round_id)
    keyed = KEYS.ballot_id(round_id, KEYS.code_hash(code))
    assert sealed != keyed
    if await _pageinspect(engine) is None:
        listed, _ = await _stored_versions(engine, {keyed})
        assert listed == 0


async def test_a_cast_during_the_close_waits_then_leaves_nothing(
    pcommitted_client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    client = pcommitted_client
    round_id, ids = await _voting_round(client, world, engine)
    early, late = await codes_for(client, world, round_id, 2)
    cast = f"{BASE}/budget-rounds/{round_id}/ballots"
    assert (await client.post(cast, json={"code": early, "projects": [ids[0]]})).status_code == 201
    async with make_sessionmaker(engine)() as session:
        found = await budget_rounds.get_round(
            session, jurisdiction_id=world.amsterdam, round_id=round_id, for_update=True
        )
        await budget_rounds.change_phase(session, found, to="results", actor=None, cipher=CIPHER)
        waiting = asyncio.create_task(client.post(cast, json={"code": late, "projects": [ids[1]]}))
        await _until_a_session_waits_for_the_round_lock(engine)
        assert not waiting.done()  # held at the round's lock until the close commits
        await session.commit()
    response = await waiting
    assert (response.status_code, response.json()["code"]) == (409, "voting-closed")
    assert await _counts(engine, round_id) == (1, 1)


async def test_the_clock_closes_a_round_and_vacuums_the_pre_seal_versions(
    pcommitted_client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    if problem := await _pageinspect(engine):
        pytest.skip(f"pageinspect is not available: {problem}")
    client = pcommitted_client
    now = datetime.now(UTC)
    round_id, ids = await _voting_round(
        client, world, engine, voting_closes_at=(now + timedelta(hours=1)).isoformat()
    )
    for code in await codes_for(client, world, round_id, 5):
        response = await client.post(
            f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": code, "projects": [ids[2]]}
        )
        assert response.status_code == 201
    keyed = await _ballot_ids(engine, round_id)
    listed, raw = await _stored_versions(engine, keyed)
    assert listed >= 5 and raw == 5  # each ballot, plus the versions its cover rewrites left behind

    moved = await tick(engine, now + timedelta(hours=2), cipher=CIPHER)
    assert (round_id, "voting", "results") in moved["rounds"]
    assert moved["vacuum"][0] == "VACUUM (ANALYZE) ballots"
    assert not keyed & await _ballot_ids(engine, round_id)
    listed, _ = await _stored_versions(engine, keyed)
    assert listed == 0  # not even pageinspect lists the keyed versions any more
    # Plain VACUUM may leave their bytes in the pages' free space; FULL rewrites the files.
    assert await vacuum_ballots(engine, full=True) == ["VACUUM (ANALYZE) ballots", "VACUUM (FULL) ballots"]
    assert await _stored_versions(engine, keyed) == (0, 0)
    assert await _counts(engine, round_id) == (5, 5)
