"""The council's view of participation in its areas: each budget round and consultation round with how
many took part and how many heard the outcome (a delivered message, as the loop metrics count it)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.worker import Worker
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import BASE, budget_round_with_projects, consultation_round, vote
from tests.participation.support_rounds import admin, codes_for, new_resident, set_phase, verify

URL = f"{BASE}/council/participation"


async def overview(client: httpx.AsyncClient, world: World, who: str = "council", **params: Any) -> Any:
    response = await client.get(URL, params=params, headers=bearer(world.tokens[who]))
    assert response.status_code == 200, response.text
    return response.json()


def by_id(rows: list[dict[str, Any]], row_id: int) -> dict[str, Any]:
    [row] = [r for r in rows if r["id"] == row_id]
    return row


async def test_the_council_sees_turnout_and_who_heard_the_outcome_in_its_areas(
    client: httpx.AsyncClient,
    world: World,
    worker: Worker,
    mail: SmtpSink,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    author_id, author = await new_resident(sessionmaker, world)
    for account_id in (world.accounts["resident"], author_id):
        await verify(client, world, account_id)
    round_id, ids = await budget_round_with_projects(client, world, author, [("Bankjes", 4000)])
    await vote(client, round_id, [ids["Bankjes"]], token=world.tokens["resident"])
    [code] = await codes_for(client, world, round_id, 1)
    await vote(client, round_id, [ids["Bankjes"]], code=code)
    consultation = await consultation_round(client, world, "Bomen op de Dam")
    answered = await client.put(
        f"{BASE}/consultation-rounds/{consultation}/response",
        json={"answers": []},
        headers=bearer(world.tokens["resident"]),
    )
    assert answered.status_code == 201, answered.text

    voting = by_id((await overview(client, world))["budget_rounds"], round_id)
    assert voting["area_name"] == "Dam" and voting["phase"] == "voting"
    assert (voting["proposals"], voting["voters"], voting["reachable"], voting["told"]) == (1, 2, 1, 0)
    asking = by_id((await overview(client, world))["consultation_rounds"], consultation)
    assert (asking["status"], asking["responses"], asking["told"], asking["told_share"]) == (
        "open",
        1,
        0,
        0.0,
    )

    await set_phase(client, world, round_id, "results")
    closed = await client.post(
        f"{BASE}/consultation-rounds/{consultation}/status", headers=admin(world), json={"to": "closed"}
    )
    assert closed.status_code == 200, closed.text
    published = await client.post(
        f"{BASE}/consultation-rounds/{consultation}/you-said-we-did",
        headers=admin(world),
        json={"summary": "Er komen tien bomen", "actions": []},
    )
    assert published.status_code == 200, published.text
    await worker.run_until_idle()

    seen = await overview(client, world, area_id=world.areas["Dam"])
    done = by_id(seen["budget_rounds"], round_id)
    # The account voter heard the results; the code voter cannot be told anything.
    assert (done["phase"], done["voters"], done["told"], done["told_share"]) == ("results", 2, 1, 0.5)
    heard = by_id(seen["consultation_rounds"], consultation)
    assert (heard["you_said_we_did_published"], heard["told"], heard["told_share"]) == (True, 1, 1.0)
    # Zuid's rounds are not the Centrum council's; an administrator sees every area.
    everywhere = await overview(client, world, who="admin")
    assert round_id in {r["id"] for r in everywhere["budget_rounds"]}
    zuid = await client.get(
        URL, params={"area_id": world.areas["Zuid"]}, headers=bearer(world.tokens["council"])
    )
    assert zuid.status_code == 403 and zuid.json()["code"] == "not-your-area"
    in_zuid = await overview(client, world, who="admin", area_id=world.areas["Zuid"])
    assert round_id not in {r["id"] for r in in_zuid["budget_rounds"]}
