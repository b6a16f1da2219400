"""The ballot is secret even against a full database dump: no column, system column (xmin, ctid), order
or shared transaction links a voter's participation to their ballot beyond chance.

Every voter casts a different ballot, so the test knows the truth (voter → ballot content) and can check
that nothing an attacker reads from the database recovers it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import make_sessionmaker
from participation.electorate import ParticipationKeys
from tests.conftest import World
from tests.participation.support_rounds import (
    BASE,
    codes_for,
    new_resident,
    round_with_projects,
    set_phase,
    verify,
)

VOTERS = 30


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    mean = (n - 1) / 2
    cov = sum((x - mean) * (y - mean) for x, y in zip(ra, rb, strict=True))
    var = sum((x - mean) ** 2 for x in ra)
    return cov / var


def _ctid_key(ctid: str) -> float:
    page, item = ctid.strip("()").split(",")
    return int(page) * 10_000 + int(item)


async def _cast_all(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> tuple[int, dict[str, list[int]]]:
    author_id, author_token = await new_resident(make_sessionmaker(engine), world)
    await verify(client, world, author_id)
    round_id, ids = await round_with_projects(
        client,
        world,
        [1000, 1100, 1200, 1300, 1400],
        author_token=author_token,
        ballot_rules={"max_projects": 5},
    )
    codes = await codes_for(client, world, round_id, VOTERS)
    subsets = [list(c) for k in (1, 2, 3, 4, 5) for c in itertools.combinations(ids, k)][:VOTERS]
    truth = {}
    for code, chosen in zip(codes, subsets, strict=True):  # one at a time: the easiest case for an attacker
        response = await client.post(
            f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": code, "projects": chosen}
        )
        assert response.status_code == 201, response.text
        truth[code] = sorted(chosen)
    return round_id, truth


async def _dump(engine: AsyncEngine, round_id: int) -> tuple[Sequence[Any], Sequence[Any]]:
    async with engine.connect() as connection:
        participations = (
            await connection.execute(
                text(
                    "SELECT voter_key, xmin::text::bigint AS xmin, ctid::text AS ctid, channel, account_id"
                    " FROM voter_participations WHERE round_id = :r"
                ),
                {"r": round_id},
            )
        ).all()
        ballots = (
            await connection.execute(
                text(
                    "SELECT id, xmin::text::bigint AS xmin, ctid::text AS ctid, projects, contents"
                    " FROM ballots WHERE round_id = :r"
                ),
                {"r": round_id},
            )
        ).all()
    return participations, ballots


async def test_the_tables_hold_no_link_by_design(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        columns = {
            table: set(
                await connection.scalars(
                    text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
                    {"t": table},
                )
            )
            for table in ("ballots", "voter_participations")
        }
        defaults = await connection.scalar(
            text(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'ballots'"
                " AND (column_default IS NOT NULL OR is_identity = 'YES')"
            )
        )
    assert columns["ballots"] == {"id", "round_id", "channel", "contents", "projects", "points"}
    assert columns["voter_participations"] == {"round_id", "voter_key", "account_id", "channel"}
    assert defaults == 0  # no now(), no sequence, no identity


async def test_a_dump_during_voting_and_after_the_close_links_no_voter_to_a_ballot(
    pcommitted_client: httpx.AsyncClient,
    world: World,
    engine: AsyncEngine,
) -> None:
    round_id, truth = await _cast_all(pcommitted_client, world, engine)
    keys = ParticipationKeys.from_secret("development-only-secret-change-me")
    code_of = {keys.code_hash(code): code for code in truth}

    participations, ballots = await _dump(engine, round_id)
    assert len(participations) == len(ballots) == VOTERS
    # While voting is open the database holds no ballot in clear: ciphertexts, all of one length.
    assert all(b.projects is None for b in ballots)
    assert len({len(b.contents) for b in ballots}) == 1
    ballot_content = {b.id: sorted(keys.cipher.open(round_id, bytes(b.contents))[0]) for b in ballots}
    assert sorted(map(tuple, ballot_content.values())) == sorted(map(tuple, truth.values()))
    # The same transaction never wrote a participation and a ballot.
    assert not {p.xmin for p in participations} & {b.xmin for b in ballots}
    # Cover rewrites leave the ballots' xmin saying nothing about who came when: here, a single value.
    assert len({b.xmin for b in ballots}) == 1
    # Without the server's secret, no stored value of a ballot is computable from a voter's row; with it
    # (the running server) it is, which is what lets a voter change their ballot until the close.
    stored_values = {bytes(p.voter_key) for p in participations}
    assert not any(b.id.bytes in {v[:16] for v in stored_values} for b in ballots)
    assert {keys.ballot_id(round_id, p.voter_key) for p in participations} == set(ballot_content)

    await set_phase(pcommitted_client, world, round_id, "results")
    participations, sealed = await _dump(engine, round_id)
    # Re-keyed: even the server's secret no longer finds a voter's ballot.
    assert not {keys.ballot_id(round_id, p.voter_key) for p in participations} & {b.id for b in sealed}
    assert len({b.xmin for b in sealed}) == 1
    assert not {p.xmin for p in participations} & {b.xmin for b in sealed}
    # Physical order versus the order people voted in: chance level.
    order_of_voting = {code: i for i, code in enumerate(truth)}
    content_to_position = {tuple(sorted(b.projects)): _ctid_key(b.ctid) for b in sealed}
    voted_at = [order_of_voting[code_of[bytes(p.voter_key)]] for p in participations]
    placed_at = [content_to_position[tuple(truth[code_of[bytes(p.voter_key)]])] for p in participations]
    assert abs(spearman(voted_at, placed_at)) < 0.6
    # Participation rows in physical order versus sealed ballots in physical order: chance level too.
    participation_order = [_ctid_key(p.ctid) for p in participations]
    assert abs(spearman(participation_order, placed_at)) < 0.6
    # The tally still sees every ballot exactly once.
    result = (await pcommitted_client.get(f"{BASE}/budget-rounds/{round_id}/results")).json()
    assert result["num_ballots"] == VOTERS


async def test_the_ballot_received_event_reveals_nothing_of_the_ballot(
    pcommitted_client: httpx.AsyncClient,
    world: World,
    engine: AsyncEngine,
) -> None:
    from tests.conftest import bearer

    account_id, token = await new_resident(make_sessionmaker(engine), world)
    await verify(pcommitted_client, world, account_id)
    round_id, ids = await round_with_projects(pcommitted_client, world, author_token=token)
    cast = await pcommitted_client.post(
        f"{BASE}/budget-rounds/{round_id}/ballots", json={"projects": [ids[0]]}, headers=bearer(token)
    )
    assert cast.status_code == 201
    async with engine.connect() as connection:
        event = (
            await connection.execute(
                text(
                    "SELECT payload, xmin::text::bigint AS xmin FROM outbox_events"
                    " WHERE topic = 'ballot.received' AND aggregate_id = :r"
                ),
                {"r": round_id},
            )
        ).one()
        ballot_xmin = await connection.scalar(
            text("SELECT xmin::text::bigint FROM ballots WHERE round_id = :r"), {"r": round_id}
        )
        participation_xmin = await connection.scalar(
            text("SELECT xmin::text::bigint FROM voter_participations WHERE round_id = :r"), {"r": round_id}
        )
    assert event.payload["account_ids"] == [account_id]
    assert not {"projects", "points", "ballot_id"} & set(event.payload)
    assert event.xmin == participation_xmin != ballot_xmin
