"""Council motions: members vote in public, quorum and majority decide, others are refused."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World, bearer
from tests.participation.support_rounds import BASE, admin


async def test_a_motion_from_table_to_public_roll_call(pclient: httpx.AsyncClient, world: World) -> None:
    council = bearer(world.tokens["council"])
    created = await pclient.post(
        f"{BASE}/motions",
        headers=council,
        json={
            "area_id": world.areas["Centrum"],
            "title": "€5.000 naar groen",
            "quorum": "0.5",
            "majority": "simple",
        },
    )
    assert created.status_code == 201, created.text
    motion_id = created.json()["id"]
    early = await pclient.put(f"{BASE}/motions/{motion_id}/vote", headers=council, json={"choice": "yes"})
    assert (early.status_code, early.json()["code"]) == (409, "motion-not-open")
    opened = await pclient.post(f"{BASE}/motions/{motion_id}/status", headers=council, json={"to": "open"})
    assert opened.json()["members"] == 1
    outsider = await pclient.put(
        f"{BASE}/motions/{motion_id}/vote", headers=bearer(world.tokens["resident"]), json={"choice": "no"}
    )
    assert outsider.status_code == 403
    admin_vote = await pclient.put(
        f"{BASE}/motions/{motion_id}/vote", headers=admin(world), json={"choice": "no"}
    )
    assert (admin_vote.status_code, admin_vote.json()["code"]) == (403, "not-a-member")
    assert (
        await pclient.put(f"{BASE}/motions/{motion_id}/vote", headers=council, json={"choice": "no"})
    ).status_code == 200
    assert (
        await pclient.put(f"{BASE}/motions/{motion_id}/vote", headers=council, json={"choice": "yes"})
    ).status_code == 200
    closed = await pclient.post(f"{BASE}/motions/{motion_id}/status", headers=council, json={"to": "closed"})
    public = (await pclient.get(f"{BASE}/motions/{motion_id}")).json()
    assert closed.json()["outcome"] == public["outcome"] == "adopted"
    assert [(r["account_id"], r["choice"]) for r in public["roll_call"]] == [
        (world.accounts["council"], "yes")
    ]
    again = await pclient.post(f"{BASE}/motions/{motion_id}/status", headers=council, json={"to": "open"})
    assert (again.status_code, again.json()["code"]) == (409, "illegal-phase-change")


async def test_no_quorum_and_foreign_areas(pclient: httpx.AsyncClient, world: World) -> None:
    council = bearer(world.tokens["council"])
    foreign = await pclient.post(
        f"{BASE}/motions", headers=council, json={"area_id": world.areas["Zuid"], "title": "x"}
    )
    assert (foreign.status_code, foreign.json()["code"]) == (403, "not-your-area")
    motion_id = (
        await pclient.post(
            f"{BASE}/motions",
            headers=council,
            json={"area_id": world.areas["Centrum"], "title": "Stil", "majority": "two_thirds"},
        )
    ).json()["id"]
    await pclient.post(f"{BASE}/motions/{motion_id}/status", headers=council, json={"to": "open"})
    closed = await pclient.post(
        f"{BASE}/motions/{motion_id}/status", headers=admin(world), json={"to": "closed"}
    )
    assert closed.json()["outcome"] == "no_quorum"


async def test_a_motion_about_a_round_names_a_round_of_this_jurisdiction(
    pclient: httpx.AsyncClient, world: World
) -> None:
    council = bearer(world.tokens["council"])
    foreign = await pclient.post(
        "/api/v1/jurisdictions/utrecht/budget-rounds",
        headers=bearer(world.tokens["utrecht_admin"]),
        json={"title": "Utrecht", "area_id": world.areas["Utrecht"], "budget": "1000"},
    )
    assert foreign.status_code == 201, foreign.text
    body = {"area_id": world.areas["Centrum"], "title": "Geld voor de Dam"}
    for round_id in (foreign.json()["id"], foreign.json()["id"] + 1000):
        response = await pclient.post(f"{BASE}/motions", headers=council, json=body | {"round_id": round_id})
        assert (response.status_code, response.json()["code"]) == (404, "round-not-found")


async def test_the_membership_is_fixed_when_the_motion_opens(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    """Issue 12, item 14: a member granted after the opening neither votes nor counts; a member revoked
    after it keeps their seat on this motion (the roll call is that of the council it was put to)."""
    council = bearer(world.tokens["council"])
    motion_id = (
        await pclient.post(
            f"{BASE}/motions",
            headers=council,
            json={
                "area_id": world.areas["Centrum"],
                "title": "Bankjes",
                "quorum": "0.5",
                "majority": "simple",
            },
        )
    ).json()["id"]
    opened = await pclient.post(f"{BASE}/motions/{motion_id}/status", headers=council, json={"to": "open"})
    assert opened.json()["members"] == 1
    grant = await pclient.post(
        f"{BASE}/role-grants",
        headers=admin(world),
        json={
            "account_id": world.accounts["other_resident"],
            "role": "council_member",
            "area_id": world.areas["Centrum"],
        },
    )
    assert grant.status_code == 201
    late = await pclient.put(
        f"{BASE}/motions/{motion_id}/vote",
        headers=bearer(world.tokens["other_resident"]),
        json={"choice": "no"},
    )
    assert (late.status_code, late.json()["code"]) == (403, "not-a-member")
    council_grant = await session.scalar(
        text("SELECT id FROM role_grants WHERE account_id = :a AND role = 'council_member'"),
        {"a": world.accounts["council"]},
    )
    revoked = await pclient.delete(f"{BASE}/role-grants/{council_grant}", headers=admin(world))
    assert revoked.status_code == 204
    seated = await pclient.put(f"{BASE}/motions/{motion_id}/vote", headers=council, json={"choice": "yes"})
    assert seated.status_code == 200, seated.text
    motion = (await pclient.get(f"{BASE}/motions/{motion_id}")).json()
    assert (motion["members"], motion["present"], motion["counts"]) == (
        1,
        1,
        {"yes": 1, "no": 0, "abstain": 0},
    )
    assert [r["account_id"] for r in motion["roll_call"]] == [world.accounts["council"]]
    closed = await pclient.post(
        f"{BASE}/motions/{motion_id}/status", headers=admin(world), json={"to": "closed"}
    )
    assert closed.json()["outcome"] == "adopted"
