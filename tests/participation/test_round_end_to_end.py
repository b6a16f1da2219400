"""The issue's "done when": a demo round in a demo neighbourhood, from proposals to implementation updates,
through the API only."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World, bearer
from tests.participation.support_rounds import (
    BASE,
    DAM_POINT,
    admin,
    codes_for,
    set_phase,
    verify,
)
from tests.photos import phone_jpeg as jpeg_bytes


async def test_a_round_runs_from_proposals_to_implementation(
    pclient: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
) -> None:
    client = pclient
    resident, other = world.tokens["resident"], world.tokens["other_resident"]
    await verify(client, world, world.accounts["resident"])
    await verify(client, world, world.accounts["other_resident"])
    created = await client.post(
        f"{BASE}/budget-rounds",
        headers=admin(world),
        json={
            "title": "Buurtbudget Dam 2027",
            "area_id": world.areas["Dam"],
            "budget": "10000",
            "currency": "EUR",
            "ballot_type": "approval",
            "ballot_rules": {"min_projects": 1, "max_projects": 2},
            "rule": "mes",
            "completion": "add1",
        },
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    assert created.json()["phase"] == "proposals"

    photo = await client.post(
        f"{BASE}/participation/photos",
        files={"file": ("p.jpg", jpeg_bytes(), "image/jpeg")},
        headers=bearer(resident),
    )
    assert photo.status_code == 201, photo.text
    ideas = [
        ("Bankjes op de Dam", 4000, [photo.json()["id"]]),
        ("Boom planten", 3000, []),
        ("Speeltuin", 6000, []),
        ("Gouden fontein", 99999, []),
    ]
    ids = []
    for title, cost, photos in ideas:
        response = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals",
            headers=bearer(resident),
            json={
                "title": title,
                "description": "Voor de buurt",
                "location": DAM_POINT,
                "estimated_cost": str(cost),
                "photo_ids": photos,
            },
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert (await client.get(f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}")).json()["photo_ids"] == [
        photo.json()["id"]
    ]

    await set_phase(client, world, round_id, "review")
    for pid in ids[:3]:
        reviewed = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals/{pid}/review",
            headers=admin(world),
            json={"feasible": True},
        )
        assert reviewed.status_code == 200
    refused = await client.post(
        f"{BASE}/budget-rounds/{round_id}/proposals/{ids[3]}/review",
        headers=admin(world),
        json={"feasible": False, "reason": "Past niet in het budget"},
    )
    assert refused.json()["status"] == "infeasible" and refused.json()["review_reason"]
    await set_phase(client, world, round_id, "voting")

    codes = await codes_for(client, world, round_id, 3)
    votes = [
        (bearer(resident), None, [ids[0], ids[1]]),
        (bearer(other), None, [ids[0]]),
        ({}, codes[0], [ids[2]]),
        ({}, codes[1], [ids[0], ids[2]]),
    ]
    for headers, code, chosen in votes:
        body = {"projects": chosen} | ({"code": code} if code else {})
        response = await client.post(f"{BASE}/budget-rounds/{round_id}/ballots", json=body, headers=headers)
        assert response.status_code == 201, response.text
    changed = await client.post(
        f"{BASE}/budget-rounds/{round_id}/ballots", json={"projects": [ids[1]]}, headers=bearer(other)
    )
    assert changed.json()["replaced_earlier_ballot"] is True
    paper = await client.post(
        f"{BASE}/budget-rounds/{round_id}/paper-ballots",
        headers=bearer(world.tokens["officer"]),
        json={"code": codes[2], "projects": [ids[1], ids[0]]},
    )
    assert paper.status_code == 201 and paper.json()["channel"] == "paper"

    closed = await set_phase(client, world, round_id, "results")
    assert closed.json()["phase"] == "results"
    result = (await client.get(f"{BASE}/budget-rounds/{round_id}/results")).json()
    assert result["num_ballots"] == 5
    assert set(result["selected"]) == {ids[0], ids[1]}
    assert {p["id"]: p["selected"] for p in result["projects"]} == {ids[0]: True, ids[1]: True, ids[2]: False}
    assert all(p["explanation"]["reason"] for p in result["projects"])
    event = (
        await session.execute(
            text(
                "SELECT payload FROM outbox_events"
                " WHERE topic = 'round.results_published' AND aggregate_id = :r"
            ),
            {"r": round_id},
        )
    ).scalar_one()
    assert {p["id"] for p in event["funded_projects"]} == {ids[0], ids[1]}
    assert set(event["account_ids"]) >= {world.accounts["resident"], world.accounts["other_resident"]}

    await set_phase(client, world, round_id, "implementation")
    after = await client.post(
        f"{BASE}/participation/photos?kind=after",
        files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        headers=admin(world),
    )
    assert after.status_code == 201, after.text
    for status, progress, photos in (("in_progress", 40, [after.json()["id"]]), ("completed", 100, [])):
        update = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}/updates",
            headers=admin(world),
            json={
                "status": status,
                "progress_percent": progress,
                "message": f"{progress}% klaar",
                "photo_ids": photos,
            },
        )
        assert update.status_code == 201, update.text
    updates = (await client.get(f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}/updates")).json()
    assert [u["progress_percent"] for u in updates] == [40, 100] and updates[0]["photo_ids"] == [
        after.json()["id"]
    ]
    project = (await client.get(f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}")).json()
    assert project["implementation_status"] == "completed" and project["progress_percent"] == 100
    shown = await client.get(f"{BASE}/participation/photos/{after.json()['id']}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    topics = list(
        await session.scalars(
            text("SELECT topic FROM outbox_events WHERE aggregate_id = ANY(:ids) ORDER BY id"),
            {"ids": [round_id, *ids]},
        )
    )
    for topic in (
        "round.phase_changed",
        "round.voting_opened",
        "ballot.received",
        "round.results_published",
        "project.progress",
    ):
        assert topic in topics
    progress = (
        await session.execute(
            text(
                "SELECT payload FROM outbox_events WHERE topic = 'project.progress' ORDER BY id DESC LIMIT 1"
            )
        )
    ).scalar_one()
    assert progress["project_id"] == ids[0]
    # The author hears of it; a mere voter does not (whether they backed it is secret): only following does.
    assert set(progress["account_ids"]) == {world.accounts["resident"]}
