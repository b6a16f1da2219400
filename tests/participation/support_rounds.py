"""Helpers of the budget-round, ballot, council and consultation tests (the clients are fixtures in
``tests/participation/conftest.py``): verified residents, rounds with feasible projects, phases, codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import accounts
from core.settings import PLACEHOLDER_SECRET
from participation.electorate import ParticipationKeys
from participation.models import BudgetRound, Proposal
from tests.conftest import DAM_SQUARE, World, bearer

BASE = "/api/v1/jurisdictions/amsterdam"
KEYS = ParticipationKeys.from_secret(PLACEHOLDER_SECRET)  # the tests' app runs with the placeholder secret
CIPHER = KEYS.cipher
DAM_POINT: dict[str, Any] = {"type": "Point", "coordinates": list(DAM_SQUARE)}
VONDELPARK_POINT: dict[str, Any] = {"type": "Point", "coordinates": [4.8680, 52.3580]}


def admin(world: World) -> dict[str, str]:
    return bearer(world.tokens["admin"])


async def verify(
    client: httpx.AsyncClient,
    world: World,
    account_id: int,
    *,
    point: dict[str, Any] = DAM_POINT,
    birth_date: str | None = "1980-05-01",
) -> None:
    body: dict[str, Any] = {"account_id": account_id, "address": point}
    if birth_date:
        body["birth_date"] = birth_date
    response = await client.post(f"{BASE}/participation/verifications", json=body, headers=admin(world))
    assert response.status_code == 201, response.text


async def new_resident(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> tuple[int, str]:
    async with sessionmaker() as session:
        account, token = await accounts.register_account(
            session,
            jurisdiction_id=world.amsterdam,
            email=f"{uuid.uuid4().hex}@example.org",
            password="correct horse battery",
            display_name=None,
            locale="nl",
            ttl_days=1,
        )
        await session.commit()
    return account.id, token


async def create_round(client: httpx.AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Buurtbudget Dam",
        "area_id": world.areas["Dam"],
        "budget": "10000",
        "ballot_type": "approval",
        "ballot_rules": {"max_projects": 3},
        **overrides,
    }
    response = await client.post(f"{BASE}/budget-rounds", json=body, headers=admin(world))
    assert response.status_code == 201, response.text
    return response.json()


async def round_with_projects(
    client: httpx.AsyncClient,
    world: World,
    costs: Sequence[int] = (4000, 3000, 5000),
    *,
    author_token: str | None = None,
    phase: str = "voting",
    **overrides: Any,
) -> tuple[int, list[int]]:
    """A round in ``phase`` with one feasible project per cost, proposed by a verified resident."""
    if author_token is None:
        await verify(client, world, world.accounts["resident"])
        author_token = world.tokens["resident"]
    created = await create_round(client, world, **overrides)
    round_id = created["id"]
    ids = []
    for index, cost in enumerate(costs):
        response = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals",
            json={
                "title": f"Project {index}",
                "description": "Meer groen",
                "location": DAM_POINT,
                "estimated_cost": str(cost),
            },
            headers=bearer(author_token),
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    if phase == "proposals":
        return round_id, ids
    await set_phase(client, world, round_id, "review")
    for pid in ids:
        response = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals/{pid}/review",
            json={"feasible": True},
            headers=admin(world),
        )
        assert response.status_code == 200, response.text
    if phase == "voting":
        await set_phase(client, world, round_id, "voting")
    return round_id, ids


async def seeded_round(
    session: AsyncSession,
    world: World,
    costs: tuple[int, ...] = (4000, 3000, 5000),
    *,
    phase: str = "voting",
    **overrides: Any,
) -> tuple[int, list[int]]:
    """A round in ``phase`` with one feasible project per cost, written straight into the test's
    transaction (``pclient`` sees it): for tests whose subject is what happens *in* a round. Building one
    through the API is :func:`round_with_projects` and the end-to-end test's subject."""
    values: dict[str, Any] = {
        "title": "Buurtbudget Dam",
        "area_id": world.areas["Dam"],
        "budget": Decimal(10000),
        "ballot_type": "approval",
        "ballot_rules": {"max_projects": 3},
        "phase": phase,
    }
    budget_round = BudgetRound(jurisdiction_id=world.amsterdam, **(values | overrides))
    session.add(budget_round)
    await session.flush()
    proposals = [
        Proposal(
            round_id=budget_round.id,
            title=f"Project {index}",
            description="Meer groen",
            estimated_cost=Decimal(cost),
            status="feasible",
        )
        for index, cost in enumerate(costs)
    ]
    session.add_all(proposals)
    await session.flush()
    return budget_round.id, [proposal.id for proposal in proposals]


async def set_phase(client: httpx.AsyncClient, world: World, round_id: int, to: str) -> httpx.Response:
    response = await client.post(
        f"{BASE}/budget-rounds/{round_id}/phase", json={"to": to}, headers=admin(world)
    )
    assert response.status_code == 200, response.text
    return response


async def codes_for(client: httpx.AsyncClient, world: World, round_id: int, count: int) -> list[str]:
    response = await client.post(
        f"{BASE}/budget-rounds/{round_id}/codes",
        json={"area_id": world.areas["Dam"], "count": count},
        headers=admin(world),
    )
    assert response.status_code == 201, response.text
    return [line.split(",")[0] for line in response.text.strip().splitlines()[1:]]
