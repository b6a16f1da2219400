"""The role × route matrix of taking part from the residents' app: the rounds that concern me, my
eligibility before I vote or answer, a consultation round on its own, a letter's voting code.

The rounds are in the Dam neighbourhood; the verified resident lives on the Dam (``support_rounds``), so
only they are eligible, and only their account has a verified address. Whether an account voted or
answered is told to that account alone; no answer shows a ballot id or a voter key (``run_cell``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.auth import PUBLIC, RESIDENT
from tests.api.role_matrix import (
    AMSTERDAM_ACCOUNTS,
    CALLERS,
    UTRECHT,
    Call,
    Case,
    Expected,
    J,
    MatrixRun,
    Setup,
    cells,
    everyone,
    residents,
    run_cell,
)
from tests.api.test_role_matrix_participation import (
    CONSULTATION_ROUND,
    PROPOSAL,
    ROUND,
    ROUND_NOT_FOUND,
    consultation,
    on_consultation_round,
    on_round,
    on_utrecht_consultation,
    proposal_of_another_round,
    vote,
    voting_round,
)
from tests.conftest import DAM_SQUARE
from tests.participation.support_rounds import codes_for

ROUND_NOT_HERE = (404, "consultation-round-not-found")


async def rounds_and_consultations(setup: Setup) -> Call:
    """A voting round the resident voted in, and an open consultation they answered."""
    round_id, ids = await voting_round(setup)
    await vote(setup, round_id, ids[:1])
    facts = await consultation(setup, "Dam", "open")
    longitude, latitude = DAM_SQUARE
    return Call(
        params={"longitude": longitude, "latitude": latitude},
        facts={"round_id": round_id, "consultation_round_id": facts["round_id"]},
    )


def concerns_and_own_participation(response: httpx.Response, call: Call, caller: str) -> None:
    answer = response.json()
    [budget] = [r for r in answer["budget_rounds"] if r["id"] == call.facts["round_id"]]
    [asked] = [r for r in answer["consultation_rounds"] if r["id"] == call.facts["consultation_round_id"]]
    own = caller in AMSTERDAM_ACCOUNTS
    verified = caller == "resident"
    assert answer["verified_address"] == (verified if own else None), (caller, answer)
    concerns = ["location", "address"] if verified else ["location"]
    assert budget["concerns"] == concerns and asked["concerns"] == concerns, (caller, answer)
    assert budget["voted"] == (verified if own else None), (caller, budget)
    assert asked["responded"] == (verified if own else None), (caller, asked)
    assert budget["area_name"] == "Dam" and asked["questions"] == 3, answer


async def half_a_point(setup: Setup) -> Call:
    return Call(params={"longitude": DAM_SQUARE[0]})


async def voted_round(setup: Setup) -> Call:
    round_id, ids = await voting_round(setup)
    await vote(setup, round_id, ids[:1])
    return Call(path={"round_id": round_id})


def only_the_verified_resident_may_vote(response: httpx.Response, call: Call, caller: str) -> None:
    answer = response.json()
    if caller == "resident":
        assert answer == {
            "round_id": call.path["round_id"],
            "eligible": True,
            "reason": None,
            "voted": True,
            "channel": "online",
            "can_change": True,
        }
    else:
        assert answer["eligible"] is False and answer["reason"] == "address-not-verified", answer
        assert answer["voted"] is False and answer["can_change"] is True, answer


def an_amsterdam_object_on_the_utrecht_path(answer: Expected) -> dict[str, Expected]:
    """RESIDENT under /jurisdictions/utrecht: Amsterdam accounts are turned away by jurisdiction,
    Utrecht's accounts get the Amsterdam object's 404."""
    table: dict[str, Expected] = dict.fromkeys(CALLERS, (403, "wrong-jurisdiction"))
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, answer))
    return table


async def letter_code(setup: Setup) -> Call:
    round_id, _ = await voting_round(setup)
    [code] = await codes_for(setup.client, setup.world, round_id, 1)
    return Call(json={"code": code.lower()}, facts={"round_id": round_id})


def the_codes_round(response: httpx.Response, call: Call, caller: str) -> None:
    answer = response.json()
    assert answer["round_id"] == call.facts["round_id"] and answer["jurisdiction"] == "amsterdam", answer
    assert answer["phase"] == "voting" and answer["voted"] is False and answer["can_change"] is True, answer


async def unknown_code(setup: Setup) -> Call:
    return Call(json={"code": "ABCD-EFGH-JKMN-PQRS"})


def an_open_round_for_verified_residents(response: httpx.Response, call: Call, caller: str) -> None:
    answer = response.json()
    assert answer["status"] == "open" and answer["area_name"] == "Dam", answer
    assert [q["kind"] for q in answer["questions"]] == ["single_choice", "free_text", "map_point"], answer
    assert answer["consultation_title"] == "Plein van de toekomst in Dam", answer


def only_the_verified_resident_answered(response: httpx.Response, call: Call, caller: str) -> None:
    answer: dict[str, Any] = response.json()
    verified = caller == "resident"
    assert answer["eligible"] is verified and answer["responded"] is verified, (caller, answer)
    assert answer["reason"] == (None if verified else "address-not-verified"), (caller, answer)


async def followed_project(setup: Setup) -> Call:
    round_id, ids = await voting_round(setup)
    url = f"{setup.base}/budget-rounds/{round_id}/proposals/{ids[0]}/follow"
    await setup.ok("PUT", url, "resident", 204)
    return Call(path={"round_id": round_id, "proposal_id": ids[0]})


def only_the_follower_follows(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json() == {"proposal_id": call.path["proposal_id"], "following": caller == "resident"}


MATRIX: dict[str, Case] = {
    "rounds that concern me": Case(
        "GET",
        f"{J}/taking-part",
        PUBLIC,
        rounds_and_consultations,
        everyone(200),
        check=concerns_and_own_participation,
    ),
    "rounds that concern me, half a point": Case(
        "GET", f"{J}/taking-part", PUBLIC, half_a_point, everyone((422, "invalid-position"))
    ),
    "my eligibility in a budget round": Case(
        "GET",
        f"{ROUND}/eligibility",
        RESIDENT,
        voted_round,
        residents(200),
        check=only_the_verified_resident_may_vote,
    ),
    "my eligibility in another jurisdiction's budget round": Case(
        "GET",
        f"{ROUND}/eligibility",
        RESIDENT,
        on_round("voting", jurisdiction="utrecht"),
        an_amsterdam_object_on_the_utrecht_path(ROUND_NOT_FOUND),
    ),
    "whether I follow a project": Case(
        "GET",
        f"{PROPOSAL}/follow",
        RESIDENT,
        followed_project,
        residents(200),
        check=only_the_follower_follows,
    ),
    "whether I follow a project of another round": Case(
        "GET",
        f"{PROPOSAL}/follow",
        RESIDENT,
        proposal_of_another_round,
        residents((404, "proposal-not-found")),
    ),
    "look up a letter's voting code": Case(
        "POST", "/api/v1/voting-codes/lookup", PUBLIC, letter_code, everyone(200), check=the_codes_round
    ),
    "look up an unknown voting code": Case(
        "POST", "/api/v1/voting-codes/lookup", PUBLIC, unknown_code, everyone((403, "unknown-code"))
    ),
    "read consultation round": Case(
        "GET",
        CONSULTATION_ROUND,
        PUBLIC,
        on_consultation_round(status="open"),
        everyone(200),
        check=an_open_round_for_verified_residents,
    ),
    "read a draft consultation round": Case(
        "GET", CONSULTATION_ROUND, PUBLIC, on_consultation_round(status="draft"), everyone(ROUND_NOT_HERE)
    ),
    "read another jurisdiction's consultation round": Case(
        "GET", CONSULTATION_ROUND, PUBLIC, on_utrecht_consultation("round_id"), everyone(ROUND_NOT_HERE)
    ),
    "my eligibility in a consultation round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/eligibility",
        RESIDENT,
        on_consultation_round(status="open"),
        residents(200),
        check=only_the_verified_resident_answered,
    ),
    "my eligibility in another jurisdiction's consultation round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/eligibility",
        RESIDENT,
        on_consultation_round(status="open", jurisdiction="utrecht"),
        an_amsterdam_object_on_the_utrecht_path(ROUND_NOT_HERE),
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_taking_part_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)
