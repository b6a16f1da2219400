"""What the residents' app asks before and around taking part: the rounds that concern a resident, their
eligibility (with the codes a cast or a response would be refused with), a letter's voting code, and map
questions answered without the map (a place from the question's list, or the place described in words)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import DAM_SQUARE, World, bearer
from tests.participation.support_rounds import (
    BASE,
    DAM_POINT,
    VONDELPARK_POINT,
    admin,
    codes_for,
    new_resident,
    round_with_projects,
    set_phase,
    verify,
)

ROYAL_PALACE: dict[str, Any] = {"type": "Point", "coordinates": [4.8913, 52.3731]}


async def map_round(client: httpx.AsyncClient, world: World, **question: Any) -> dict[str, Any]:
    created = await client.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Speelplek",
            "rounds": [
                {
                    "title": "Waar?",
                    "area_id": world.areas["Dam"],
                    "eligibility": "residents",
                    "questions": [{"kind": "map_point", "prompt": "Waar moet de speelplek?", **question}],
                }
            ],
        },
    )
    return created.json() | {"status_code": created.status_code}


async def test_a_map_question_is_answered_on_the_map_from_the_list_or_in_words(
    pclient: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    places = [{"name": "Bij het paleis", "point": ROYAL_PALACE}, {"name": "Op de Dam", "point": DAM_POINT}]
    created = await map_round(pclient, world, places=places)
    assert created["status_code"] == 201, created
    [round_] = created["rounds"]
    [question] = round_["questions"]
    assert question["places"] == places
    round_id = round_["id"]
    await pclient.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "open"}
    )
    read = (await pclient.get(f"{BASE}/consultation-rounds/{round_id}")).json()
    assert read["questions"][0]["places"] == places and read["area_name"] == "Dam"

    answers: list[dict[str, Any]] = [
        {"point": DAM_POINT},
        {"point": ROYAL_PALACE},
        {"text": "Naast de bloemenkraam"},
    ]
    for answer in answers:
        _, token = await new_resident(sessionmaker, world)
        given = await pclient.put(
            f"{BASE}/consultation-rounds/{round_id}/response",
            json={"answers": [{"question_id": question["id"], **answer}]},
            headers=bearer(token),
        )
        assert given.status_code == 201, given.text
        assert given.json()["answers"] == [{"question_id": question["id"], **answer}]
    _, token = await new_resident(sessionmaker, world)
    both = await pclient.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": [{"question_id": question["id"], "point": DAM_POINT, "text": "hier"}]},
        headers=bearer(token),
    )
    assert both.status_code == 422 and both.json()["violations"][0]["code"] == "wrong-answer-type", both.text

    await pclient.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "closed"}
    )
    public = (await pclient.get(f"{BASE}/consultation-rounds/{round_id}/results")).json()
    [item] = public["questions"]
    assert item["answers"] == 3 and item["described"] == 1 and "descriptions" not in item
    assert sum(f["properties"]["count"] for f in item["density"]["features"]) == 2
    insider = (
        await pclient.get(f"{BASE}/consultation-rounds/{round_id}/results", headers=admin(world))
    ).json()
    assert insider["questions"][0]["descriptions"] == ["Naast de bloemenkraam"]


async def test_the_places_of_a_map_question_lie_in_the_area_and_belong_to_map_questions(
    pclient: httpx.AsyncClient, world: World
) -> None:
    outside = await map_round(pclient, world, places=[{"name": "Vondelpark", "point": VONDELPARK_POINT}])
    assert (outside["status_code"], outside["code"]) == (422, "place-outside-area"), outside
    twice = await map_round(
        pclient, world, places=[{"name": "Dam", "point": DAM_POINT}, {"name": "Dam", "point": ROYAL_PALACE}]
    )
    assert twice["status_code"] == 422, twice
    not_a_map = await map_round(
        pclient, world, kind="free_text", places=[{"name": "Dam", "point": DAM_POINT}]
    )
    assert not_a_map["status_code"] == 422, not_a_map


async def test_the_rounds_that_concern_me_come_first_with_my_own_participation(
    pclient: httpx.AsyncClient, world: World
) -> None:
    dam_round, ids = await round_with_projects(pclient, world)  # the resident lives on the Dam
    zuid = await pclient.post(
        f"{BASE}/budget-rounds",
        headers=admin(world),
        json={"title": "Buurtbudget Zuid", "area_id": world.areas["Zuid"], "budget": "5000"},
    )
    zuid_round = zuid.json()["id"]
    voted = await pclient.post(
        f"{BASE}/budget-rounds/{dam_round}/ballots",
        json={"projects": ids[:1]},
        headers=bearer(world.tokens["resident"]),
    )
    assert voted.status_code == 201, voted.text
    draft = await map_round(pclient, world)

    def ordered(answer: dict[str, Any]) -> list[tuple[int, list[str], bool | None]]:
        return [
            (r["id"], r["concerns"], r["voted"])
            for r in answer["budget_rounds"]
            if r["id"] in (dam_round, zuid_round)
        ]

    at_the_vondelpark = {
        "longitude": VONDELPARK_POINT["coordinates"][0],
        "latitude": VONDELPARK_POINT["coordinates"][1],
    }
    mine = await pclient.get(
        f"{BASE}/taking-part", params=at_the_vondelpark, headers=bearer(world.tokens["resident"])
    )
    assert mine.status_code == 200, mine.text
    # Standing in Zuid, living on the Dam: both concern me, the voting one first.
    assert ordered(mine.json()) == [(dam_round, ["address"], True), (zuid_round, ["location"], False)]
    assert mine.json()["verified_address"] is True
    nobody = (await pclient.get(f"{BASE}/taking-part")).json()
    assert ordered(nobody) == [(dam_round, [], None), (zuid_round, [], None)]  # voting first
    assert nobody["verified_address"] is None
    assert draft["rounds"][0]["id"] not in [r["id"] for r in nobody["consultation_rounds"]]


async def test_eligibility_says_why_before_the_first_choice(
    pclient: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    round_id, ids = await round_with_projects(pclient, world, min_age=18, allow_ballot_changes=False)
    young_id, young = await new_resident(sessionmaker, world)
    await verify(pclient, world, young_id, birth_date="2015-01-01")
    faraway_id, faraway = await new_resident(sessionmaker, world)
    await verify(pclient, world, faraway_id, point=VONDELPARK_POINT)

    async def eligibility(token: str) -> dict[str, Any]:
        answer = await pclient.get(f"{BASE}/budget-rounds/{round_id}/eligibility", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert (await eligibility(young))["reason"] == "too-young"
    assert (await eligibility(faraway))["reason"] == "outside-area"
    assert (await eligibility(world.tokens["device"]))["reason"] == "address-not-verified"
    before = await eligibility(world.tokens["resident"])
    assert (before["eligible"], before["voted"], before["can_change"]) == (True, False, True)
    cast = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/ballots",
        json={"projects": ids[:1]},
        headers=bearer(world.tokens["resident"]),
    )
    assert cast.status_code == 201, cast.text
    after = await eligibility(world.tokens["resident"])
    assert (after["voted"], after["channel"], after["can_change"]) == (True, "online", False)

    codes_only, _ = await round_with_projects(pclient, world, credentials="codes")
    refused = await pclient.get(
        f"{BASE}/budget-rounds/{codes_only}/eligibility", headers=bearer(world.tokens["resident"])
    )
    assert refused.json()["reason"] == "accounts-not-accepted"


async def test_a_letters_code_names_its_round_and_says_whether_it_was_used(
    pclient: httpx.AsyncClient, world: World
) -> None:
    round_id, ids = await round_with_projects(pclient, world, allow_ballot_changes=False)
    first, second = await codes_for(pclient, world, round_id, 2)
    lookup = "/api/v1/voting-codes/lookup"
    fresh = await pclient.post(lookup, json={"code": f" {first.lower().replace('-', ' ')} "})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json() == {
        "jurisdiction": "amsterdam",
        "round_id": round_id,
        "area_id": world.areas["Dam"],
        "phase": "voting",
        "voted": False,
        "can_change": True,
    }
    cast = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/ballots", json={"projects": ids[:1], "code": first}
    )
    assert cast.status_code == 201, cast.text
    used = (await pclient.post(lookup, json={"code": first})).json()
    assert (used["voted"], used["can_change"]) == (True, False)
    await set_phase(pclient, world, round_id, "results")
    closed = (await pclient.post(lookup, json={"code": second})).json()
    assert (closed["phase"], closed["voted"], closed["can_change"]) == ("results", False, False)
    short = await pclient.post(lookup, json={"code": "AB"})
    assert short.status_code == 422
    accounts_only, _ = await round_with_projects(pclient, world, credentials="accounts")
    [code] = await codes_for(pclient, world, accounts_only, 1)
    refused = await pclient.post(lookup, json={"code": code})
    assert (refused.status_code, refused.json()["code"]) == (403, "codes-not-accepted")


async def test_consultation_eligibility_before_answering(pclient: httpx.AsyncClient, world: World) -> None:
    created = await map_round(pclient, world)
    round_id = created["rounds"][0]["id"]
    path = f"{BASE}/consultation-rounds/{round_id}/eligibility"
    draft = (await pclient.get(path, headers=bearer(world.tokens["device"]))).json()
    assert (draft["eligible"], draft["reason"]) == (False, "consultation-not-open")
    await pclient.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "open"}
    )
    device = (await pclient.get(path, headers=bearer(world.tokens["device"]))).json()
    assert (device["eligible"], device["reason"]) == (False, "registration-required")
    refused = await pclient.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": []},
        headers=bearer(world.tokens["device"]),
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "registration-required")
    open_ = (await pclient.get(path, headers=bearer(world.tokens["resident"]))).json()
    assert (open_["eligible"], open_["responded"]) == (True, False)  # "residents": any account may answer
    question = created["rounds"][0]["questions"][0]["id"]
    answered = await pclient.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={
            "answers": [
                {"question_id": question, "point": {"type": "Point", "coordinates": list(DAM_SQUARE)}}
            ]
        },
        headers=bearer(world.tokens["resident"]),
    )
    assert answered.status_code == 201, answered.text
    again = (await pclient.get(path, headers=bearer(world.tokens["resident"]))).json()
    assert again["responded"] is True and again["updated_at"] is not None
