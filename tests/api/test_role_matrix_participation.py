"""The role × route matrix of participation: budget rounds, proposals, ballots, council motions and
consultations.

Rounds, consultations and codes are run by the jurisdiction's administrators; proposals are reviewed, paper
ballots entered and addresses verified by its staff; motions are tabled and opened by the area's council
(or an administrator) and voted by its members; residents propose, vote and respond once their address is
verified. Everything that is public reads the same for every caller. Utrecht's administrator is tried on
Amsterdam's rounds, consultations and motions through the Utrecht path (404: not Utrecht's) and through the
Amsterdam path (403: not their jurisdiction); the Centrum council member is tried on Zuid's motions and
consultations. No answer may show a ballot id or a voter key.

The setups reuse the helpers of ``tests/participation/support_rounds.py``: a round in the Dam
neighbourhood, three feasible projects proposed by the verified resident.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from api.auth import ADMIN, COUNCIL, ELECTION_OFFICER, ELECTION_OVERSIGHT, PUBLIC, RESIDENT, STAFF
from tests.api.role_matrix import (
    AMSTERDAM_ACCOUNTS,
    STAFF_CALLERS,
    Bug,
    Call,
    Case,
    Expected,
    J,
    MatrixRun,
    Setup,
    cells,
    everyone,
    on_utrecht_path,
    residents,
    restricted,
    run_cell,
    small_jpeg,
)
from tests.participation.support_rounds import (
    BASE,
    DAM_POINT,
    VONDELPARK_POINT,
    codes_for,
    create_round,
    round_with_projects,
    set_phase,
    verify,
)

ROUNDS = f"{J}/budget-rounds"
ROUND = f"{ROUNDS}/{{round_id}}"
PROPOSAL = f"{ROUND}/proposals/{{proposal_id}}"
MOTION = f"{J}/motions/{{motion_id}}"
CONSULTATION_ROUND = f"{J}/consultation-rounds/{{round_id}}"
UTRECHT_BASE = "/api/v1/jurisdictions/utrecht"
COUNCIL_SIDE = ("council", "admin")
# Who reads a consultation round's results (free texts included) before it closes.
INSIDERS = ("council", "roads_staff", "waste_staff", "admin")
NOT_VERIFIED = (403, "address-not-verified")
ROUND_NOT_FOUND = (404, "round-not-found")


def unverified_but(ok: int, *verified: str) -> dict[str, Expected | Bug]:
    """RESIDENT routes that need a verified address in the area: only ``verified`` get ``ok``."""
    table = residents(ok)
    table.update({caller: NOT_VERIFIED for caller in AMSTERDAM_ACCOUNTS if caller not in verified})
    return table


# Setups.


async def proposals_round(setup: Setup) -> tuple[int, list[int]]:
    return await round_with_projects(setup.client, setup.world, phase="proposals")


async def voting_round(setup: Setup) -> tuple[int, list[int]]:
    return await round_with_projects(setup.client, setup.world, phase="voting")


async def vote(setup: Setup, round_id: int, projects: list[int], who: str = "resident") -> None:
    await setup.ok("POST", f"{BASE}/budget-rounds/{round_id}/ballots", who, 201, json={"projects": projects})


async def funded_round(setup: Setup) -> tuple[int, list[int], list[int]]:
    """A round in its results: the resident voted, the tally funded ``selected``."""
    round_id, ids = await voting_round(setup)
    await vote(setup, round_id, ids[:2])
    await set_phase(setup.client, setup.world, round_id, "results")
    results = await setup.ok("GET", f"{BASE}/budget-rounds/{round_id}/results", "resident", 200)
    assert results["selected"], results
    return round_id, ids, results["selected"]


async def utrecht_round(setup: Setup) -> int:
    created = await setup.ok(
        "POST",
        f"{UTRECHT_BASE}/budget-rounds",
        "utrecht_admin",
        201,
        json={"title": "Buurtbudget Dom", "area_id": setup.world.areas["Utrecht"], "budget": "5000"},
    )
    return int(created["id"])


async def motion(setup: Setup, area: str, *, opened: bool = False) -> int:
    if area != "Centrum":  # the area needs a council to open a motion
        await setup.ok(
            "POST",
            f"{BASE}/role-grants",
            "admin",
            201,
            json={
                "account_id": setup.world.accounts["other_resident"],
                "role": "council_member",
                "area_id": setup.world.areas[area],
            },
        )
    created = await setup.ok(
        "POST",
        f"{BASE}/motions",
        "admin",
        201,
        json={"area_id": setup.world.areas[area], "title": f"Meer bomen in {area}"},
    )
    if opened:
        await setup.ok("POST", f"{BASE}/motions/{created['id']}/status", "admin", 200, json={"to": "open"})
    return int(created["id"])


def consultation_body(setup: Setup, area: str) -> dict[str, Any]:
    return {
        "title": f"Plein van de toekomst in {area}",
        "rounds": [consultation_round_body(setup, area)],
    }


def consultation_round_body(setup: Setup, area: str) -> dict[str, Any]:
    return {
        "title": "Keuzes",
        "area_id": setup.world.areas[area],
        "questions": [
            {"kind": "single_choice", "prompt": "Meer bomen?", "options": ["ja", "nee"], "required": True},
            {"kind": "free_text", "prompt": "Idee?"},
            {"kind": "map_point", "prompt": "Waar moet de speeltuin?"},
        ],
    }


RESPONDENT = {"Dam": ("resident", DAM_POINT), "Zuid": ("other_resident", VONDELPARK_POINT)}


async def consultation(setup: Setup, area: str = "Dam", status: str = "draft") -> dict[str, Any]:
    """A consultation with one round in ``area``; once open, a verified resident of the area answered it
    with an idea (a free text) only insiders may read."""
    created = await setup.ok(
        "POST", f"{BASE}/consultations", "admin", 201, json=consultation_body(setup, area)
    )
    [round_] = created["rounds"]
    facts = {"consultation_id": created["id"], "round_id": round_["id"], "questions": round_["questions"]}
    if status == "draft":
        return facts
    status_url = f"{BASE}/consultation-rounds/{round_['id']}/status"
    await setup.ok("POST", status_url, "admin", 200, json={"to": "open"})
    respondent, point = RESPONDENT[area]
    await verify(setup.client, setup.world, setup.world.accounts[respondent], point=point)
    idea = f"Idee-{uuid.uuid4().hex[:12]}"
    await setup.ok(
        "PUT",
        f"{BASE}/consultation-rounds/{round_['id']}/response",
        respondent,
        201,
        json={"answers": answers(facts, idea, point)},
    )
    if status == "closed":
        await setup.ok("POST", status_url, "admin", 200, json={"to": "closed"})
    return facts | {"idea": idea}


def answers(facts: dict[str, Any], idea: str, point: dict[str, Any]) -> list[dict[str, Any]]:
    choice, free_text, where = (q["id"] for q in facts["questions"])
    return [
        {"question_id": choice, "choices": ["ja"]},
        {"question_id": free_text, "text": idea},
        {"question_id": where, "point": point},
    ]


async def utrecht_consultation(setup: Setup) -> dict[str, Any]:
    body = {
        "title": "Domplein",
        "rounds": [consultation_round_body(setup, "Utrecht")],
    }
    created = await setup.ok("POST", f"{UTRECHT_BASE}/consultations", "utrecht_admin", 201, json=body)
    return {"consultation_id": created["id"], "round_id": created["rounds"][0]["id"]}


# Builders of valid requests: budget rounds.


def round_body(setup: Setup) -> dict[str, Any]:
    return {
        "title": "Buurtbudget Dam",
        "area_id": setup.world.areas["Dam"],
        "budget": "10000",
        "ballot_type": "approval",
        "ballot_rules": {"max_projects": 3},
    }


async def new_round(setup: Setup) -> Call:
    return Call(json=round_body(setup))


async def new_round_in_utrecht(setup: Setup) -> Call:
    return Call(json=round_body(setup) | {"area_id": setup.world.areas["Utrecht"]})


async def some_rounds(setup: Setup) -> Call:
    await create_round(setup.client, setup.world)
    return Call(params={"area_id": setup.world.areas["Dam"]})


def on_round(phase: str, *, jurisdiction: str = "amsterdam", **json: Any) -> Any:
    async def build(setup: Setup) -> Call:
        if phase == "draft":
            round_id = (await create_round(setup.client, setup.world))["id"]
        else:
            round_id, _ = await round_with_projects(setup.client, setup.world, phase=phase)
        return Call(path={"round_id": round_id}, json=json or None, jurisdiction=jurisdiction)

    return build


def on_funded_round(jurisdiction: str = "amsterdam") -> Any:
    async def build(setup: Setup) -> Call:
        round_id, _, _ = await funded_round(setup)
        return Call(path={"round_id": round_id}, jurisdiction=jurisdiction)

    return build


def codes(jurisdiction: str) -> Any:
    async def build(setup: Setup) -> Call:
        round_id, _ = await voting_round(setup)
        body = {"area_id": setup.world.areas["Dam"], "count": 2}
        return Call(path={"round_id": round_id}, json=body, jurisdiction=jurisdiction)

    return build


async def new_proposal(setup: Setup) -> Call:
    round_id, _ = await proposals_round(setup)
    body = {
        "title": "Meer bankjes",
        "description": "Zitplekken op de Dam",
        "location": DAM_POINT,
        "estimated_cost": "1500",
    }
    return Call(path={"round_id": round_id}, json=body)


def on_proposal(phase: str, **json: Any) -> Any:
    async def build(setup: Setup) -> Call:
        round_id, ids = await round_with_projects(setup.client, setup.world, phase=phase)
        return Call(path={"round_id": round_id, "proposal_id": ids[0]}, json=json or None)

    return build


async def proposal_of_another_round(setup: Setup) -> Call:
    round_id, _ = await proposals_round(setup)
    _, other_ids = await proposals_round(setup)
    return Call(path={"round_id": round_id, "proposal_id": other_ids[0]})


async def progress(setup: Setup) -> Call:
    round_id, _, selected = await funded_round(setup)
    body = {"status": "in_progress", "progress_percent": 10, "message": "De bankjes zijn besteld"}
    return Call(path={"round_id": round_id, "proposal_id": selected[0]}, json=body)


async def progress_so_far(setup: Setup) -> Call:
    call = await progress(setup)
    url = f"{BASE}/budget-rounds/{call.path['round_id']}/proposals/{call.path['proposal_id']}/updates"
    await setup.ok("POST", url, "admin", 201, json=call.json)
    return Call(path=call.path)


async def proposal_photo(setup: Setup) -> Call:
    round_id, _ = await proposals_round(setup)  # the resident is verified
    uploaded = await setup.ok(
        "POST",
        f"{BASE}/participation/photos",
        "resident",
        201,
        files={"file": ("bank.jpg", small_jpeg(), "image/jpeg")},
    )
    await setup.ok(
        "POST",
        f"{BASE}/budget-rounds/{round_id}/proposals",
        "resident",
        201,
        json={
            "title": "Bankjes",
            "description": "Zitplekken",
            "area_id": setup.world.areas["Dam"],
            "estimated_cost": "900",
            "photo_ids": [uploaded["id"]],
        },
    )
    return Call(path={"photo_id": uploaded["id"]})


async def report_photo(setup: Setup) -> Call:
    report = await setup.report(with_photo=True)
    return Call(path={"photo_id": report["photos"][0]["id"]})


def photo_upload(kind: str | None) -> Any:
    async def build(setup: Setup) -> Call:
        params = {"kind": kind} if kind else None
        return Call(files={"file": ("bank.jpg", small_jpeg(), "image/jpeg")}, params=params)

    return build


def ballot(*, with_code: bool) -> Any:
    async def build(setup: Setup) -> Call:
        round_id, ids = await voting_round(setup)
        body: dict[str, Any] = {"projects": [ids[0]]}
        if with_code:
            [body["code"]] = await codes_for(setup.client, setup.world, round_id, 1)
        return Call(path={"round_id": round_id}, json=body)

    return build


async def paper_ballot(setup: Setup) -> Call:
    round_id, ids = await voting_round(setup)
    await setup.ok(
        "POST",
        f"{BASE}/budget-rounds/{round_id}/paper-register",
        "admin",
        201,
        json={"references": ["Paspoort NX12345"]},
    )
    return Call(
        path={"round_id": round_id}, json={"projects": [ids[1]], "voter_reference": "Paspoort NX12345"}
    )


async def paper_register(setup: Setup) -> Call:
    round_id, _ = await voting_round(setup)
    return Call(path={"round_id": round_id}, json={"references": ["Paspoort NX12345", "Rijbewijs 42"]})


async def paper_audit(setup: Setup) -> Call:
    call = await paper_ballot(setup)
    await setup.ok(
        "POST", f"{BASE}/budget-rounds/{call.path['round_id']}/paper-ballots", "officer", 201, json=call.json
    )
    return Call(path=call.path)


async def after_voting(setup: Setup) -> Call:
    round_id, ids = await voting_round(setup)
    await vote(setup, round_id, ids[:1])
    return Call(path={"round_id": round_id})


def says_who_voted(response: httpx.Response, call: Call, caller: str) -> None:
    answer = response.json()
    assert answer["voted"] is (caller == "resident"), (caller, answer)
    assert set(answer) == {"round_id", "voted", "channel", "can_change"}, answer


def verification(account: str) -> Any:
    async def build(setup: Setup) -> Call:
        body = {"account_id": setup.world.accounts[account], "address": DAM_POINT, "birth_date": "1990-02-03"}
        return Call(json=body)

    return build


# Builders: council motions.


def new_motion(area: str, *, round_id: str | None = None) -> Any:
    async def build(setup: Setup) -> Call:
        body: dict[str, Any] = {"area_id": setup.world.areas[area], "title": "Bankjes op de Dam"}
        if round_id == "utrecht":
            body["round_id"] = await utrecht_round(setup)
        elif round_id == "missing":
            body["round_id"] = 2**40
        return Call(json=body)

    return build


def on_motion(area: str, *, opened: bool = False, jurisdiction: str = "amsterdam", **json: Any) -> Any:
    async def build(setup: Setup) -> Call:
        motion_id = await motion(setup, area, opened=opened)
        return Call(path={"motion_id": motion_id}, json=json or None, jurisdiction=jurisdiction)

    return build


# Builders: consultations.


async def new_consultation(setup: Setup) -> Call:
    return Call(json=consultation_body(setup, "Dam"))


async def new_consultation_in_utrecht(setup: Setup) -> Call:
    return Call(json=consultation_body(setup, "Utrecht"))


def on_consultation(jurisdiction: str = "amsterdam", *, with_round: bool = False) -> Any:
    async def build(setup: Setup) -> Call:
        facts = await consultation(setup)
        body = consultation_round_body(setup, "Dam") if with_round else None
        return Call(path={"consultation_id": facts["consultation_id"]}, json=body, jurisdiction=jurisdiction)

    return build


def on_consultation_round(
    area: str = "Dam", status: str = "draft", *, jurisdiction: str = "amsterdam", **json: Any
) -> Any:
    async def build(setup: Setup) -> Call:
        facts = await consultation(setup, area, status)
        return Call(
            path={"round_id": facts["round_id"]}, json=json or None, jurisdiction=jurisdiction, facts=facts
        )

    return build


async def response_to_open_round(setup: Setup) -> Call:
    facts = await consultation(setup, "Dam", "draft")
    await setup.ok(
        "POST", f"{BASE}/consultation-rounds/{facts['round_id']}/status", "admin", 200, json={"to": "open"}
    )
    await verify(setup.client, setup.world, setup.world.accounts["resident"])
    return Call(
        path={"round_id": facts["round_id"]}, json={"answers": answers(facts, "Een fontein", DAM_POINT)}
    )


def results_of(area: str, status: str) -> Any:
    async def build(setup: Setup) -> Call:
        facts = await consultation(setup, area, status)
        return Call(path={"round_id": facts["round_id"]}, facts=facts)

    return build


def ideas_for_insiders_only(response: httpx.Response, call: Call, caller: str) -> None:
    """Free texts are for staff and council; the public sees counts only."""
    shown = call.facts["idea"] in response.text
    assert shown is (caller in INSIDERS), (caller, response.text)


async def you_said_we_did(setup: Setup) -> Call:
    facts = await consultation(setup, "Dam", "closed")
    body = {"summary": "U wilde meer bomen", "actions": ["Vier bomen in 2027"]}
    return Call(path={"round_id": facts["round_id"]}, json=body)


def on_utrecht_consultation(field: str, **json: Any) -> Any:
    """An object of Utrecht's, asked for under Amsterdam's path (``J`` with amsterdam)."""

    async def build(setup: Setup) -> Call:
        facts = await utrecht_consultation(setup)
        return Call(path={field: facts[field]}, json=json or None)

    return build


# The tables.


def cast_ballot_table() -> dict[str, Expected | Bug]:
    """Online voting: a signed-in account with a verified address in the round's area (the resident)."""
    table = unverified_but(201, "resident")
    table["anonymous"] = (401, "not-authenticated")
    return table


MATRIX: dict[str, Case] = {
    # --- budget rounds
    "create budget round": Case("POST", ROUNDS, ADMIN, new_round, restricted(201, ("admin",))),
    "create budget round in another jurisdiction's area": Case(
        "POST", ROUNDS, ADMIN, new_round_in_utrecht, restricted((404, "area-not-found"), ("admin",))
    ),
    "list budget rounds": Case("GET", ROUNDS, PUBLIC, some_rounds, everyone(200)),
    "read budget round": Case("GET", ROUND, PUBLIC, on_round("draft"), everyone(200)),
    "read another jurisdiction's budget round": Case(
        "GET", ROUND, PUBLIC, on_round("draft", jurisdiction="utrecht"), everyone(ROUND_NOT_FOUND)
    ),
    "update budget round": Case(
        "PATCH", ROUND, ADMIN, on_round("draft", title="Buurtbudget 2027"), restricted(200, ("admin",))
    ),
    "update another jurisdiction's budget round": Case(
        "PATCH",
        ROUND,
        ADMIN,
        on_round("draft", jurisdiction="utrecht", title="Overgenomen"),
        on_utrecht_path(("utrecht_admin",), ROUND_NOT_FOUND),
    ),
    "change phase": Case(
        "POST", f"{ROUND}/phase", ADMIN, on_round("proposals", to="review"), restricted(200, ("admin",))
    ),
    "change phase of another jurisdiction's round": Case(
        "POST",
        f"{ROUND}/phase",
        ADMIN,
        on_round("proposals", jurisdiction="utrecht", to="review"),
        on_utrecht_path(("utrecht_admin",), ROUND_NOT_FOUND),
    ),
    "results": Case("GET", f"{ROUND}/results", PUBLIC, on_funded_round(), everyone(200)),
    "results before voting closed": Case(
        "GET",
        f"{ROUND}/results",
        PUBLIC,
        on_round("voting"),
        everyone((409, "results-not-published")),
    ),
    "export ballots as pabulib": Case("GET", f"{ROUND}/export.pb", PUBLIC, on_funded_round(), everyone(200)),
    "export ballots of another jurisdiction's round": Case(
        "GET", f"{ROUND}/export.pb", PUBLIC, on_funded_round("utrecht"), everyone(ROUND_NOT_FOUND)
    ),
    # --- proposals
    "submit proposal": Case(
        "POST", f"{ROUND}/proposals", RESIDENT, new_proposal, unverified_but(201, "resident")
    ),
    "list proposals": Case("GET", f"{ROUND}/proposals", PUBLIC, on_round("review"), everyone(200)),
    "read proposal": Case("GET", PROPOSAL, PUBLIC, on_proposal("review"), everyone(200)),
    "read a proposal through another round": Case(
        "GET", PROPOSAL, PUBLIC, proposal_of_another_round, everyone((404, "proposal-not-found"))
    ),
    "review proposal": Case(
        "POST",
        f"{PROPOSAL}/review",
        STAFF,
        on_proposal("proposals", feasible=False, reason="Geen ruimte op de stoep"),
        restricted(200, STAFF_CALLERS),
    ),
    "follow project": Case("PUT", f"{PROPOSAL}/follow", RESIDENT, on_proposal("voting"), residents(204)),
    "unfollow project": Case("DELETE", f"{PROPOSAL}/follow", RESIDENT, on_proposal("voting"), residents(204)),
    "add implementation update": Case(
        "POST", f"{PROPOSAL}/updates", STAFF, progress, restricted(201, STAFF_CALLERS)
    ),
    "list implementation updates": Case("GET", f"{PROPOSAL}/updates", PUBLIC, progress_so_far, everyone(200)),
    "read participation photo": Case(
        "GET", f"{J}/participation/photos/{{photo_id}}", PUBLIC, proposal_photo, everyone(200)
    ),
    "read a report's photo as a participation photo": Case(
        "GET",
        f"{J}/participation/photos/{{photo_id}}",
        PUBLIC,
        report_photo,
        everyone((404, "photo-not-found")),
    ),
    "upload participation photo": Case(
        "POST", f"{J}/participation/photos", RESIDENT, photo_upload(None), residents(201)
    ),
    "upload participation after-photo": Case(
        "POST",
        f"{J}/participation/photos",
        RESIDENT,
        photo_upload("after"),
        residents(201, **dict.fromkeys(("device", "resident", "council", "officer"), (403, "role-required"))),
    ),
    # --- voting
    "cast ballot": Case("POST", f"{ROUND}/ballots", PUBLIC, ballot(with_code=False), cast_ballot_table()),
    "cast ballot with a letter's code": Case(
        "POST", f"{ROUND}/ballots", PUBLIC, ballot(with_code=True), everyone(201)
    ),
    "enter paper ballot": Case(
        "POST", f"{ROUND}/paper-ballots", ELECTION_OFFICER, paper_ballot, restricted(201, ("officer",))
    ),
    "add voters to the paper register": Case(
        "POST", f"{ROUND}/paper-register", ADMIN, paper_register, restricted(201, ("admin",))
    ),
    "paper ballot audit": Case(
        "GET",
        f"{ROUND}/paper-ballots/audit",
        ELECTION_OVERSIGHT,
        paper_audit,
        restricted(200, ("admin", "officer")),
    ),
    "whether I voted": Case(
        "GET",
        f"{ROUND}/participation",
        RESIDENT,
        after_voting,
        residents(200),
        check=says_who_voted,
    ),
    "generate voting codes": Case(
        "POST", f"{ROUND}/codes", ADMIN, codes("amsterdam"), restricted(201, ("admin",))
    ),
    "generate codes for another jurisdiction's round": Case(
        "POST",
        f"{ROUND}/codes",
        ADMIN,
        codes("utrecht"),
        on_utrecht_path(("utrecht_admin",), ROUND_NOT_FOUND),
    ),
    "verify resident": Case(
        "POST",
        f"{J}/participation/verifications",
        STAFF,
        verification("other_resident"),
        restricted(201, STAFF_CALLERS),
    ),
    "verify an account of another jurisdiction": Case(
        "POST",
        f"{J}/participation/verifications",
        STAFF,
        verification("utrecht_resident"),
        restricted((404, "account-not-found"), STAFF_CALLERS),
    ),
    # --- council motions
    "table motion in own area": Case(
        "POST", f"{J}/motions", COUNCIL, new_motion("Centrum"), restricted(201, COUNCIL_SIDE)
    ),
    "table motion in another area": Case(
        "POST",
        f"{J}/motions",
        COUNCIL,
        new_motion("Zuid"),
        restricted(201, ("admin",), council=(403, "not-your-area")),
    ),
    "table motion on another jurisdiction's area": Case(
        "POST",
        f"{J}/motions",
        COUNCIL,
        new_motion("Utrecht"),
        restricted((404, "area-not-found"), COUNCIL_SIDE),
    ),
    "table motion about another jurisdiction's round": Case(
        "POST",
        f"{J}/motions",
        COUNCIL,
        new_motion("Centrum", round_id="utrecht"),
        restricted(ROUND_NOT_FOUND, COUNCIL_SIDE),
    ),
    "table motion about a round that does not exist": Case(
        "POST",
        f"{J}/motions",
        COUNCIL,
        new_motion("Centrum", round_id="missing"),
        restricted(ROUND_NOT_FOUND, COUNCIL_SIDE),
    ),
    "read motion": Case("GET", MOTION, PUBLIC, on_motion("Centrum", opened=True), everyone(200)),
    "read another jurisdiction's motion": Case(
        "GET",
        MOTION,
        PUBLIC,
        on_motion("Centrum", jurisdiction="utrecht"),
        everyone((404, "motion-not-found")),
    ),
    "open motion in own area": Case(
        "POST", f"{MOTION}/status", COUNCIL, on_motion("Centrum", to="open"), restricted(200, COUNCIL_SIDE)
    ),
    "open motion in another area": Case(
        "POST",
        f"{MOTION}/status",
        COUNCIL,
        on_motion("Zuid", to="open"),
        restricted(200, ("admin",), council=(403, "not-your-area")),
    ),
    "open another jurisdiction's motion": Case(
        "POST",
        f"{MOTION}/status",
        COUNCIL,
        on_motion("Centrum", jurisdiction="utrecht", to="open"),
        on_utrecht_path(("utrecht_admin",), (404, "motion-not-found")),
    ),
    "vote on a motion of own area": Case(
        "PUT",
        f"{MOTION}/vote",
        RESIDENT,
        on_motion("Centrum", opened=True, choice="yes"),
        residents(200, **{c: (403, "not-a-member") for c in AMSTERDAM_ACCOUNTS if c != "council"}),
    ),
    "vote on a motion of another area": Case(
        "PUT",
        f"{MOTION}/vote",
        RESIDENT,
        on_motion("Zuid", opened=True, choice="no"),
        residents((403, "not-a-member")),
    ),
    # --- consultations
    "create consultation": Case(
        "POST", f"{J}/consultations", ADMIN, new_consultation, restricted(201, ("admin",))
    ),
    "create consultation in another jurisdiction's area": Case(
        "POST",
        f"{J}/consultations",
        ADMIN,
        new_consultation_in_utrecht,
        restricted((404, "area-not-found"), ("admin",)),
    ),
    "read consultation": Case(
        "GET", f"{J}/consultations/{{consultation_id}}", PUBLIC, on_consultation(), everyone(200)
    ),
    "read another jurisdiction's consultation": Case(
        "GET",
        f"{J}/consultations/{{consultation_id}}",
        PUBLIC,
        on_consultation("utrecht"),
        everyone((404, "consultation-not-found")),
    ),
    "add consultation round": Case(
        "POST",
        f"{J}/consultations/{{consultation_id}}/rounds",
        ADMIN,
        on_consultation(with_round=True),
        restricted(201, ("admin",)),
    ),
    "add a round to another jurisdiction's consultation": Case(
        "POST",
        f"{J}/consultations/{{consultation_id}}/rounds",
        ADMIN,
        on_consultation("utrecht", with_round=True),
        on_utrecht_path(("utrecht_admin",), (404, "consultation-not-found")),
    ),
    "open consultation round": Case(
        "POST",
        f"{CONSULTATION_ROUND}/status",
        ADMIN,
        on_consultation_round(to="open"),
        restricted(200, ("admin",)),
    ),
    "open another jurisdiction's consultation round": Case(
        "POST",
        f"{CONSULTATION_ROUND}/status",
        ADMIN,
        on_consultation_round(jurisdiction="utrecht", to="open"),
        on_utrecht_path(("utrecht_admin",), (404, "consultation-round-not-found")),
    ),
    "respond to consultation": Case(
        "PUT",
        f"{CONSULTATION_ROUND}/response",
        RESIDENT,
        response_to_open_round,
        unverified_but(201, "resident"),
    ),
    "read own consultation response": Case(
        "GET",
        f"{CONSULTATION_ROUND}/response",
        RESIDENT,
        on_consultation_round(status="open"),
        residents(200, **{c: (404, "no-response") for c in AMSTERDAM_ACCOUNTS if c != "resident"}),
    ),
    "results of an open round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/results",
        PUBLIC,
        results_of("Dam", "open"),
        everyone((403, "results-not-public")) | dict.fromkeys(INSIDERS, 200),
        check=ideas_for_insiders_only,
    ),
    "results of an open round in another council's area": Case(
        "GET",
        f"{CONSULTATION_ROUND}/results",
        PUBLIC,
        results_of("Zuid", "open"),
        everyone((403, "results-not-public"))
        | dict.fromkeys(STAFF_CALLERS, 200)
        | {"council": (403, "results-not-public")},
        check=ideas_for_insiders_only,
    ),
    "results of a closed round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/results",
        PUBLIC,
        results_of("Dam", "closed"),
        everyone(200),
        check=ideas_for_insiders_only,
    ),
    "results of another jurisdiction's round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/results",
        PUBLIC,
        on_utrecht_consultation("round_id"),
        everyone((404, "consultation-round-not-found")),
    ),
    "export responses as CSV": Case(
        "GET",
        f"{CONSULTATION_ROUND}/export.csv",
        COUNCIL,
        results_of("Dam", "closed"),
        restricted(200, COUNCIL_SIDE),
    ),
    "export CSV of another council's area": Case(
        "GET",
        f"{CONSULTATION_ROUND}/export.csv",
        COUNCIL,
        results_of("Zuid", "closed"),
        restricted(200, ("admin",), council=(403, "not-your-area")),
    ),
    "export CSV of another jurisdiction's round": Case(
        "GET",
        f"{CONSULTATION_ROUND}/export.csv",
        COUNCIL,
        on_consultation_round("Dam", "closed", jurisdiction="utrecht"),
        on_utrecht_path(("utrecht_admin",), (404, "consultation-round-not-found")),
    ),
    "export map answers as GeoJSON": Case(
        "GET",
        f"{CONSULTATION_ROUND}/export.geojson",
        COUNCIL,
        results_of("Dam", "closed"),
        restricted(200, COUNCIL_SIDE),
    ),
    "export GeoJSON of another council's area": Case(
        "GET",
        f"{CONSULTATION_ROUND}/export.geojson",
        COUNCIL,
        results_of("Zuid", "closed"),
        restricted(200, ("admin",), council=(403, "not-your-area")),
    ),
    "publish you said, we did": Case(
        "POST",
        f"{CONSULTATION_ROUND}/you-said-we-did",
        ADMIN,
        you_said_we_did,
        restricted(200, ("admin",)),
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_participation_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)
