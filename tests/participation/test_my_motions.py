"""The motions of my council, as the council member's app lists them: open ones first with my vote,
drafts, then closed ones; other councils' motions left out; an administrator sees them all."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World, bearer

BASE = "/api/v1/jurisdictions/amsterdam"


async def table(client: httpx.AsyncClient, world: World, area: str, title: str, **body: Any) -> int:
    created = await client.post(
        f"{BASE}/motions",
        json={"area_id": world.areas[area], "title": title, **body},
        headers=bearer(world.tokens["admin"]),
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def set_status(client: httpx.AsyncClient, world: World, motion_id: int, to: str) -> None:
    changed = await client.post(
        f"{BASE}/motions/{motion_id}/status", json={"to": to}, headers=bearer(world.tokens["admin"])
    )
    assert changed.status_code == 200, changed.text


async def mine(client: httpx.AsyncClient, world: World, who: str = "council", **params: Any) -> list[Any]:
    response = await client.get(f"{BASE}/me/motions", params=params, headers=bearer(world.tokens[who]))
    assert response.status_code == 200, response.text
    return response.json()


async def test_my_council_s_motions_with_my_vote_in_the_order_i_act_on_them(
    client: httpx.AsyncClient, world: World
) -> None:
    draft = await table(client, world, "Centrum", "Autovrije zondag")
    later = await table(client, world, "Centrum", "Fietsenrekken", closes_at="2099-06-01T12:00:00Z")
    sooner = await table(client, world, "Centrum", "Bankjes", closes_at="2099-01-01T12:00:00Z")
    done = await table(client, world, "Centrum", "Bomen")
    elsewhere = await table(client, world, "Dam", "Alleen voor de Dam")  # another council's (a sub-area)
    for motion_id in (later, sooner, done):
        await set_status(client, world, motion_id, "open")
    voted = await client.put(
        f"{BASE}/motions/{sooner}/vote", json={"choice": "no"}, headers=bearer(world.tokens["council"])
    )
    assert voted.status_code == 200, voted.text
    await client.put(
        f"{BASE}/motions/{done}/vote", json={"choice": "yes"}, headers=bearer(world.tokens["council"])
    )
    await set_status(client, world, done, "closed")

    listed = [m for m in await mine(client, world) if m["id"] in (draft, later, sooner, done, elsewhere)]
    assert [m["id"] for m in listed] == [sooner, later, draft, done]
    first = listed[0]
    assert (first["my_choice"], first["may_vote"], first["may_manage"]) == ("no", True, True)
    assert (first["members"], first["present"], first["area_name"]) == (1, 1, "Centrum")
    assert listed[1]["my_choice"] is None and listed[1]["may_vote"] is True
    assert listed[2]["status"] == "draft" and listed[2]["may_vote"] is False and listed[2]["members"] == 1
    closed = listed[3]
    assert (closed["status"], closed["outcome"], closed["my_choice"], closed["may_vote"]) == (
        "closed",
        "adopted",
        "yes",
        False,
    )
    only_open = await mine(client, world, status="open")
    assert {m["id"] for m in only_open} >= {sooner, later} and done not in {m["id"] for m in only_open}

    everything = {m["id"]: m for m in await mine(client, world, who="admin")}
    assert elsewhere in everything and everything[elsewhere]["may_vote"] is False
    assert everything[elsewhere]["may_manage"] is True
    bad = await client.get(
        f"{BASE}/me/motions", params={"status": "tabled"}, headers=bearer(world.tokens["council"])
    )
    assert bad.status_code == 422
