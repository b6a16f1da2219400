"""Ballot validation per type with stable codes, the phase table, locked rules, eligibility errors."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from participation.workflow import PHASE_TRANSITIONS, Phase, check_phase_change
from tests.conftest import World, bearer
from tests.participation.support_rounds import (
    BASE,
    CIPHER,
    VONDELPARK_POINT,
    admin,
    codes_for,
    round_with_projects,
    seeded_round,
    verify,
)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(list(Phase), list(Phase))))
def test_every_pair_of_phases(source: Phase, target: Phase) -> None:
    if target in PHASE_TRANSITIONS[source]:
        assert check_phase_change(source.value, target.value) is target
    else:
        with pytest.raises(Exception) as caught:
            check_phase_change(source.value, target.value)
        assert getattr(caught.value, "code", None) == "illegal-phase-change"


async def _cast(
    client: httpx.AsyncClient, round_id: int, body: Mapping[str, Any], headers: dict
) -> httpx.Response:
    return await client.post(f"{BASE}/budget-rounds/{round_id}/ballots", json=body, headers=headers)


CASES = [
    (
        {"ballot_type": "approval", "ballot_rules": {"min_projects": 2, "max_projects": 2}},
        [0],
        None,
        {"too-few-projects"},
    ),
    ({"ballot_type": "approval", "ballot_rules": {"max_projects": 1}}, [0, 1], None, {"too-many-projects"}),
    ({"ballot_type": "approval"}, [0, 0], None, {"duplicate-project"}),
    ({"ballot_type": "approval"}, [], None, {"empty-ballot"}),
    ({"ballot_type": "knapsack", "ballot_rules": {}}, [0, 1, 2], None, {"over-budget"}),
    (
        {"ballot_type": "knapsack", "ballot_rules": {"min_share_spent": 0.5}},
        [1],
        None,
        {"under-minimum-spend"},
    ),
    (
        {"ballot_type": "cumulative", "ballot_rules": {"points": 5, "max_points_per_project": 3}},
        [0, 1],
        [4, 2],
        {"too-many-points", "too-many-points-for-project"},
    ),
    ({"ballot_type": "cumulative", "ballot_rules": {"points": 5}}, [0, 1], [3], {"points-mismatch"}),
    ({"ballot_type": "cumulative", "ballot_rules": {"points": 5}}, [0], [0], {"invalid-points"}),
    ({"ballot_type": "ranked", "ballot_rules": {"top_k": 2}}, [0, 1, 2], None, {"too-many-ranked"}),
    ({"ballot_type": "approval"}, [0], [1], {"points-not-allowed"}),
]


@pytest.mark.parametrize(("settings_", "picks", "points", "codes"), CASES)
async def test_each_violation_has_its_code(
    pclient: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    settings_: dict,
    picks: list[int],
    points: list[int] | None,
    codes: set[str],
) -> None:
    await verify(pclient, world, world.accounts["resident"])
    round_id, ids = await seeded_round(session, world, **settings_)
    body = {"projects": [ids[i] for i in picks]} | ({"points": points} if points is not None else {})
    response = await _cast(pclient, round_id, body, bearer(world.tokens["resident"]))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "ballot-rule-violation"
    assert {v["code"] for v in response.json()["violations"]} == codes


async def test_valid_ballots_of_every_type_are_accepted(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await verify(pclient, world, world.accounts["resident"])
    kinds: list[tuple[dict[str, Any], list[int], list[int] | None]] = [
        ({"ballot_type": "knapsack", "ballot_rules": {"min_share_spent": 0.5}}, [0, 1], None),
        (
            {"ballot_type": "cumulative", "ballot_rules": {"points": 5, "max_points_per_project": 3}},
            [0, 1],
            [3, 2],
        ),
        ({"ballot_type": "ranked", "ballot_rules": {"top_k": 2}}, [2, 0], None),
    ]
    for settings_, picks, points in kinds:
        round_id, ids = await seeded_round(session, world, **settings_)
        body = {"projects": [ids[i] for i in picks]} | ({"points": points} if points else {})
        response = await _cast(pclient, round_id, body, bearer(world.tokens["resident"]))
        assert response.status_code == 201, response.text


async def test_ballot_rules_are_locked_once_voting_opens(pclient: httpx.AsyncClient, world: World) -> None:
    round_id, _ = await round_with_projects(pclient, world)
    response = await pclient.patch(
        f"{BASE}/budget-rounds/{round_id}", json={"ballot_rules": {"max_projects": 1}}, headers=admin(world)
    )
    assert response.status_code == 409 and response.json()["code"] == "ballot-rules-locked"
    assert (
        await pclient.patch(
            f"{BASE}/budget-rounds/{round_id}", json={"title": "Nieuwe naam"}, headers=admin(world)
        )
    ).status_code == 200


async def test_who_may_not_vote_gets_a_precise_error(pclient: httpx.AsyncClient, world: World) -> None:
    round_id, ids = await round_with_projects(pclient, world, min_age=18)
    ballot: dict[str, Any] = {"projects": [ids[0]]}
    cases = [
        (bearer(world.tokens["other_resident"]), ballot, 403, "address-not-verified"),
        (bearer(world.tokens["device"]), ballot, 403, "address-not-verified"),
        ({}, ballot, 401, "not-authenticated"),
        ({}, ballot | {"code": "AAAA-BBBB-CCCC-DDDD"}, 403, "unknown-code"),
        (bearer(world.tokens["utrecht_resident"]), ballot, 403, "wrong-jurisdiction"),
    ]
    for headers, body, status, code in cases:
        response = await _cast(pclient, round_id, body, headers)
        assert (response.status_code, response.json()["code"]) == (status, code)
    await verify(pclient, world, world.accounts["other_resident"], point=VONDELPARK_POINT)
    response = await _cast(pclient, round_id, ballot, bearer(world.tokens["other_resident"]))
    assert response.json()["code"] == "outside-area"
    young = (datetime.now(UTC) - timedelta(days=365 * 15)).date().isoformat()
    await verify(pclient, world, world.accounts["other_resident"], birth_date=young)
    response = await _cast(pclient, round_id, ballot, bearer(world.tokens["other_resident"]))
    assert response.json()["code"] == "too-young"
    other_round, _ = await round_with_projects(pclient, world)
    [foreign] = await codes_for(pclient, world, other_round, 1)
    response = await _cast(pclient, round_id, ballot | {"code": foreign}, {})
    assert response.json()["code"] == "code-for-another-round"


async def test_late_and_early_votes_are_refused(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await verify(pclient, world, world.accounts["resident"])
    round_id, ids = await seeded_round(session, world, phase="review")
    response = await _cast(pclient, round_id, {"projects": [ids[0]]}, bearer(world.tokens["resident"]))
    assert (response.status_code, response.json()["code"]) == (409, "voting-not-open")
    past = datetime.now(UTC) - timedelta(minutes=1)
    round_id, ids = await seeded_round(session, world, voting_closes_at=past)
    response = await _cast(pclient, round_id, {"projects": [ids[0]]}, bearer(world.tokens["resident"]))
    assert (response.status_code, response.json()["code"]) == (409, "voting-closed")


async def test_a_paper_ballot_cannot_be_overridden_online(pclient: httpx.AsyncClient, world: World) -> None:
    round_id, ids = await round_with_projects(pclient, world)
    [code] = await codes_for(pclient, world, round_id, 1)
    paper = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/paper-ballots",
        headers=bearer(world.tokens["officer"]),
        json={"code": code, "projects": [ids[0]]},
    )
    assert paper.status_code == 201
    online = await _cast(pclient, round_id, {"code": code, "projects": [ids[1]]}, {})
    assert (online.status_code, online.json()["code"]) == (409, "code-already-used")
    resident_paper = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/paper-ballots",
        headers=bearer(world.tokens["resident"]),
        json={"code": code, "projects": [ids[0]]},
    )
    assert resident_paper.status_code == 403


async def test_the_clock_moves_rounds(pclient: httpx.AsyncClient, world: World, session) -> None:
    from participation.clock import advance_phases

    now = datetime.now(UTC)
    round_id, ids = await round_with_projects(
        pclient,
        world,
        phase="review",
        voting_opens_at=(now - timedelta(minutes=2)).isoformat(),
        voting_closes_at=(now + timedelta(hours=1)).isoformat(),
    )
    moved = await advance_phases(session, now, cipher=CIPHER)
    assert (round_id, "review", "voting") in moved["rounds"]
    moved = await advance_phases(session, now + timedelta(hours=2), cipher=CIPHER)
    assert (round_id, "voting", "results") in moved["rounds"]
