"""A resident's view of their own participation (whether, never what) and following a project's progress."""

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
    round_with_projects,
    set_phase,
)
from tests.photos import phone_jpeg


async def _participation(client: httpx.AsyncClient, round_id: int, token: str | None) -> httpx.Response:
    headers = bearer(token) if token else {}
    return await client.get(f"{BASE}/budget-rounds/{round_id}/participation", headers=headers)


async def test_a_resident_sees_whether_they_voted_never_what(
    pclient: httpx.AsyncClient, world: World
) -> None:
    resident = world.tokens["resident"]
    round_id, ids = await round_with_projects(pclient, world)
    before = await _participation(pclient, round_id, resident)
    assert before.status_code == 200
    assert before.json() == {"round_id": round_id, "voted": False, "channel": None, "can_change": False}
    # Someone votes with a code from a letter: that is nobody's account.
    [code] = await codes_for(pclient, world, round_id, 1)
    cast = f"{BASE}/budget-rounds/{round_id}/ballots"
    assert (await pclient.post(cast, json={"code": code, "projects": [ids[0]]})).status_code == 201
    assert (await _participation(pclient, round_id, resident)).json()["voted"] is False

    voted = await pclient.post(cast, json={"projects": [ids[1], ids[2]]}, headers=bearer(resident))
    assert voted.status_code == 201
    after = await _participation(pclient, round_id, resident)
    assert after.json() == {"round_id": round_id, "voted": True, "channel": "online", "can_change": True}
    assert (await _participation(pclient, round_id, world.tokens["other_resident"])).json()["voted"] is False

    await set_phase(pclient, world, round_id, "results")
    closed = (await _participation(pclient, round_id, resident)).json()
    assert (closed["voted"], closed["can_change"]) == (True, False)


async def test_no_change_means_no_change_offered(pclient: httpx.AsyncClient, world: World) -> None:
    resident = world.tokens["resident"]
    round_id, ids = await round_with_projects(pclient, world, allow_ballot_changes=False)
    cast = f"{BASE}/budget-rounds/{round_id}/ballots"
    assert (
        await pclient.post(cast, json={"projects": [ids[0]]}, headers=bearer(resident))
    ).status_code == 201
    assert (await _participation(pclient, round_id, resident)).json() == {
        "round_id": round_id,
        "voted": True,
        "channel": "online",
        "can_change": False,
    }


async def test_who_may_ask_about_participation(pclient: httpx.AsyncClient, world: World) -> None:
    round_id, _ = await round_with_projects(pclient, world, phase="proposals")
    cases = [
        (None, round_id, 401, "not-authenticated"),
        (world.tokens["utrecht_resident"], round_id, 403, "wrong-jurisdiction"),
        (world.tokens["resident"], round_id + 1000, 404, "round-not-found"),
    ]
    for token, asked, status, code in cases:
        response = await _participation(pclient, asked, token)
        assert (response.status_code, response.json()["code"]) == (status, code)


async def _followers(session: AsyncSession, proposal_id: int) -> list[int]:
    return list(
        await session.scalars(
            text("SELECT account_id FROM budget_project_followers WHERE proposal_id = :p ORDER BY 1"),
            {"p": proposal_id},
        )
    )


async def _progress_recipients(session: AsyncSession, proposal_id: int) -> list[list[int]]:
    rows = await session.scalars(
        text(
            "SELECT payload -> 'account_ids' FROM outbox_events"
            " WHERE topic = 'project.progress' AND aggregate_id = :p ORDER BY id"
        ),
        {"p": proposal_id},
    )
    return [list(r) for r in rows]


async def test_following_a_project_brings_its_progress_and_unfollowing_stops_it(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    follower = world.tokens["other_resident"]  # neither author nor voter: only following brings news
    follower_id = world.accounts["other_resident"]
    round_id, ids = await round_with_projects(pclient, world, costs=[4000, 3000])
    project = f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}"
    for _ in range(2):  # following twice is following once
        assert (await pclient.put(f"{project}/follow", headers=bearer(follower))).status_code == 204
    assert await _followers(session, ids[0]) == [follower_id]

    [code] = await codes_for(pclient, world, round_id, 1)
    cast = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/ballots", json={"code": code, "projects": [ids[0]]}
    )
    assert cast.status_code == 201
    await set_phase(pclient, world, round_id, "results")
    update = {"status": "in_progress", "progress_percent": 30, "message": "De bankjes zijn besteld"}
    added = await pclient.post(f"{project}/updates", json=update, headers=admin(world))
    assert added.status_code == 201, added.text
    assert follower_id in (await _progress_recipients(session, ids[0]))[-1]

    for _ in range(2):  # unfollowing twice is harmless
        assert (await pclient.delete(f"{project}/follow", headers=bearer(follower))).status_code == 204
    assert await _followers(session, ids[0]) == []
    update = {"status": "in_progress", "progress_percent": 60, "message": "De bankjes staan er"}
    assert (await pclient.post(f"{project}/updates", json=update, headers=admin(world))).status_code == 201
    assert follower_id not in (await _progress_recipients(session, ids[0]))[-1]


async def test_following_needs_an_account_and_a_project_of_the_round(
    pclient: httpx.AsyncClient, world: World
) -> None:
    round_id, ids = await round_with_projects(pclient, world, phase="proposals")
    other_round, other_ids = await round_with_projects(pclient, world, phase="proposals")
    resident = bearer(world.tokens["resident"])
    cases = [
        ("put", f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}/follow", {}, 401, "not-authenticated"),
        ("put", f"{BASE}/budget-rounds/{round_id}/proposals/{other_ids[0]}/follow", resident, 404, None),
        ("delete", f"{BASE}/budget-rounds/{round_id}/proposals/{other_ids[0]}/follow", resident, 404, None),
        ("put", f"{BASE}/budget-rounds/{other_round + 1000}/proposals/{ids[0]}/follow", resident, 404, None),
        (
            "put",
            f"{BASE}/budget-rounds/{round_id}/proposals/{ids[0]}/follow",
            bearer(world.tokens["utrecht_resident"]),
            403,
            "wrong-jurisdiction",
        ),
    ]
    for method, url, headers, status, code in cases:
        response = await getattr(pclient, method)(url, headers=headers)
        assert response.status_code == status, (url, response.text)
        if code:
            assert response.json()["code"] == code
    response = await pclient.put(
        f"{BASE}/budget-rounds/{round_id}/proposals/{other_ids[0]}/follow", headers=resident
    )
    assert response.json()["code"] == "proposal-not-found"


async def test_a_photo_is_a_participation_photo_once_a_proposal_shows_it(
    pclient: httpx.AsyncClient, world: World
) -> None:
    """Until then (or for a photo that does not exist) it is a 404, never a 403 that confirms it exists."""
    resident = bearer(world.tokens["resident"])
    round_id, _ = await round_with_projects(pclient, world, phase="proposals")
    uploaded = await pclient.post(
        f"{BASE}/participation/photos",
        files={"file": ("p.jpg", phone_jpeg(), "image/jpeg")},
        headers=resident,
    )
    assert uploaded.status_code == 201, uploaded.text
    photo = f"{BASE}/participation/photos/{uploaded.json()['id']}"
    for url in (photo, f"{BASE}/participation/photos/{uploaded.json()['id'] + 1000}"):
        response = await pclient.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "photo-not-found")
    proposed = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/proposals",
        json={
            "title": "Bankjes",
            "description": "Om te zitten",
            "location": DAM_POINT,
            "estimated_cost": "2000",
            "photo_ids": [uploaded.json()["id"]],
        },
        headers=resident,
    )
    assert proposed.status_code == 201, proposed.text
    shown = await pclient.get(photo)
    assert (shown.status_code, shown.headers["content-type"]) == (200, "image/jpeg")
