"""Closing-the-loop metrics for votes and consultation responses, from real records made through the API
and delivered by the real worker: who took part, and whether their outcome message reached them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.worker import Worker
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import BASE, budget_round_with_projects, consultation_round, vote
from tests.participation.support_rounds import admin, codes_for, new_resident, set_phase, verify

URL = f"{BASE}/loop-metrics/participation"


@pytest.fixture
async def since(session: AsyncSession) -> str:
    """When this test's transaction began: every round it closes is closed at that moment (``now()``)."""
    started = await session.scalar(text("SELECT now()"))
    return started.isoformat()


async def metrics(
    client: httpx.AsyncClient, world: World, since: str | None = None, **params: Any
) -> dict[str, Any]:
    """``since``: the test's own start, so rounds other tests committed earlier are outside the period."""
    if since is not None:
        params.setdefault("start", since)
    response = await client.get(URL, params=params, headers=admin(world))
    assert response.status_code == 200, response.text
    return response.json()


async def silence_participation(client: httpx.AsyncClient, token: str) -> None:
    """The resident switched participation messages off everywhere: they take part, nobody tells them."""
    changes = [{"kind": "participation", "channel": c, "enabled": False} for c in ("inbox", "push", "email")]
    response = await client.patch(
        f"{BASE}/me/notification-preferences", json={"changes": changes}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text


async def test_votes_count_as_told_only_when_the_results_reached_the_voter(
    client: httpx.AsyncClient,
    world: World,
    worker: Worker,
    mail: SmtpSink,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    since: str,
) -> None:
    author_id, author = await new_resident(sessionmaker, world)
    quiet_id, quiet = await new_resident(sessionmaker, world)
    for account_id in (world.accounts["resident"], quiet_id, author_id):
        await verify(client, world, account_id)
    await silence_participation(client, quiet)
    round_id, ids = await budget_round_with_projects(
        client, world, author, [("Bankjes", 4000), ("Boom", 2000)]
    )
    still_open, open_ids = await budget_round_with_projects(client, world, author, [("Kraan", 1000)])
    project = ids["Bankjes"]
    await vote(client, round_id, [project], token=world.tokens["resident"])
    await vote(client, round_id, [project], token=quiet)
    [code] = await codes_for(client, world, round_id, 1)
    await vote(client, round_id, [ids["Boom"]], code=code)
    await vote(client, still_open, [open_ids["Kraan"]], token=world.tokens["resident"])  # never closes
    await worker.run_until_idle()

    assert (await metrics(client, world, since))[
        "votes"
    ] == []  # no round has closed: no vote is in a period yet

    await set_phase(client, world, round_id, "results")
    before = (await metrics(client, world, since))["votes"]
    # Closed, the results event written, but nothing delivered yet: nobody has been told.
    assert before == [
        {
            "group": None,
            "inputs": 3,
            "reachable": 2,
            "outcome_messaged": 0,
            "outcome_message_share": 0.0,
            "reachable_outcome_share": 0.0,
        }
    ]
    await worker.run_until_idle()
    [row] = (await metrics(client, world, since, area_id=world.areas["Centrum"]))[
        "votes"
    ]  # Dam lies in Centrum
    assert (row["inputs"], row["reachable"], row["outcome_messaged"]) == (3, 2, 1)
    assert row["outcome_message_share"] == 0.3333 and row["reachable_outcome_share"] == 0.5
    assert (await metrics(client, world, since, area_id=world.areas["Zuid"]))["votes"] == []
    [by_area] = (await metrics(client, world, since, group_by="area"))["votes"]
    assert by_area["group"] == "Dam" and by_area["inputs"] == 3

    # The period is the close's: a period that ends exactly at the close leaves the round out.
    closed_at = await session.scalar(
        text(
            "SELECT created_at FROM budget_round_phase_changes WHERE round_id = :r AND to_phase = 'results'"
        ),
        {"r": round_id},
    )
    assert closed_at is not None
    # A millisecond before it: rounds that earlier tests committed (and closed) stay outside.
    start = (closed_at - timedelta(milliseconds=1)).isoformat()
    assert (await metrics(client, world, start=start, end=closed_at.isoformat()))["votes"] == []
    after_close = (closed_at + timedelta(microseconds=1)).isoformat()
    [inside] = (await metrics(client, world, start=start, end=after_close))["votes"]
    assert inside["outcome_messaged"] == 1


async def test_responses_count_as_told_once_you_said_we_did_reached_the_respondent(
    client: httpx.AsyncClient,
    world: World,
    worker: Worker,
    mail: SmtpSink,
    sessionmaker: async_sessionmaker[AsyncSession],
    since: str,
) -> None:
    quiet_id, quiet = await new_resident(sessionmaker, world)
    for account_id in (world.accounts["resident"], quiet_id):
        await verify(client, world, account_id)
    await silence_participation(client, quiet)
    told_round = await consultation_round(client, world, "Autoluw Damrak")
    untold_round = await consultation_round(client, world, "Bomen op de Dam")
    for round_id, token in (
        (told_round, world.tokens["resident"]),
        (told_round, quiet),
        (untold_round, world.tokens["resident"]),
    ):
        answered = await client.put(
            f"{BASE}/consultation-rounds/{round_id}/response", json={"answers": []}, headers=bearer(token)
        )
        assert answered.status_code == 201, answered.text
    for round_id in (told_round, untold_round):
        closed = await client.post(
            f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "closed"}
        )
        assert closed.status_code == 200, closed.text
    published = await client.post(
        f"{BASE}/consultation-rounds/{told_round}/you-said-we-did",
        headers=admin(world),
        json={"summary": "Het Damrak wordt autoluw", "actions": []},
    )
    assert published.status_code == 200, published.text
    [before] = (await metrics(client, world, since, area_id=world.areas["Dam"]))["consultation_responses"]
    assert (before["inputs"], before["reachable"], before["outcome_messaged"]) == (3, 3, 0)
    await worker.run_until_idle()
    [row] = (await metrics(client, world, since, area_id=world.areas["Dam"]))["consultation_responses"]
    # Told: the resident of the published round; not the one who silenced it, nor the unpublished round.
    assert (row["inputs"], row["outcome_messaged"], row["outcome_message_share"]) == (3, 1, 0.3333)
    assert (await metrics(client, world, since, area_id=world.areas["Zuid"]))["consultation_responses"] == []
    assert (await metrics(client, world, since))["votes"] == []


@pytest.mark.parametrize(
    ("person", "params", "status"),
    [
        ("resident", {}, 403),
        ("roads_staff", {}, 403),
        ("council", {"area_id": "Dam"}, 200),
        ("council", {"area_id": "Zuid"}, 403),
        ("council", {}, 403),
        ("admin", {"group_by": "area"}, 200),
        ("admin", {"group_by": "category"}, 422),
        ("admin", {"area_id": "Utrecht"}, 404),
        ("admin", {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, 422),
        ("utrecht_admin", {}, 403),
        (None, {}, 401),
    ],
)
async def test_who_sees_the_participation_metrics(
    client: httpx.AsyncClient, world: World, person: str | None, params: dict[str, str], status: int
) -> None:
    query = {k: (world.areas[v] if k == "area_id" else v) for k, v in params.items()}
    headers = bearer(world.tokens[person]) if person else {}
    response = await client.get(URL, params=query, headers=headers)
    assert response.status_code == status, response.text
