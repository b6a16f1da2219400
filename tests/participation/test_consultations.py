"""Consultations end to end: eligibility, one editable response, aggregates with a map grid, exports,
"you said, we did", and the events for notifications."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import DAM_SQUARE, World, bearer
from tests.participation.support_rounds import BASE, VONDELPARK_POINT, admin, verify

POINT = {"type": "Point", "coordinates": list(DAM_SQUARE)}


async def test_a_consultation_round_end_to_end(
    pclient: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
) -> None:
    client = pclient
    created = await client.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Plein van de toekomst",
            "rounds": [
                {
                    "title": "Keuzes",
                    "area_id": world.areas["Dam"],
                    "questions": [
                        {
                            "kind": "single_choice",
                            "prompt": "Meer bomen?",
                            "options": ["ja", "nee"],
                            "required": True,
                        },
                        {
                            "kind": "multiple_choice",
                            "prompt": "Wat mist?",
                            "options": ["bank", "kraan", "boom"],
                            "max_choices": 2,
                        },
                        {"kind": "scale", "prompt": "Hoe tevreden?", "scale_min": 1, "scale_max": 5},
                        {"kind": "free_text", "prompt": "Idee?"},
                        {"kind": "ranking", "prompt": "Volgorde", "options": ["a", "b", "c"]},
                        {"kind": "map_point", "prompt": "Waar moet de speeltuin?"},
                    ],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    round_ = created.json()["rounds"][0]
    round_id, q = round_["id"], [x["id"] for x in round_["questions"]]
    answers = [
        {"question_id": q[0], "choices": ["ja"]},
        {"question_id": q[1], "choices": ["bank", "boom"]},
        {"question_id": q[2], "number": 4},
        {"question_id": q[3], "text": "Een waterspeelplek"},
        {"question_id": q[4], "choices": ["b", "a", "c"]},
        {"question_id": q[5], "point": POINT},
    ]
    closed_yet = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": answers},
        headers=bearer(world.tokens["resident"]),
    )
    assert (closed_yet.status_code, closed_yet.json()["code"]) == (409, "consultation-not-open")
    await client.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "open"}
    )
    unverified = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": answers},
        headers=bearer(world.tokens["resident"]),
    )
    assert unverified.json()["code"] == "address-not-verified"
    await verify(client, world, world.accounts["resident"])
    await verify(client, world, world.accounts["other_resident"])
    bad = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        headers=bearer(world.tokens["resident"]),
        json={
            "answers": [
                {"question_id": q[1], "choices": ["bank", "kraan", "boom"]},
                {"question_id": q[2], "number": 9},
                {"question_id": q[5], "point": VONDELPARK_POINT},
            ]
        },
    )
    assert {v["code"] for v in bad.json()["violations"]} == {
        "too-many-choices",
        "out-of-scale",
        "point-outside-area",
        "required-question",
    }
    first = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": answers},
        headers=bearer(world.tokens["resident"]),
    )
    assert first.status_code == 201, first.text
    edited = answers[:2] + [{"question_id": q[2], "number": 2}] + answers[3:]
    second = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": edited},
        headers=bearer(world.tokens["resident"]),
    )
    assert second.status_code == 200 and second.json()["replaced"] is True
    other = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        headers=bearer(world.tokens["other_resident"]),
        json={
            "answers": [
                {"question_id": q[0], "choices": ["nee"]},
                {"question_id": q[2], "number": 5},
                {"question_id": q[5], "point": POINT},
            ]
        },
    )
    assert other.status_code == 201
    hidden = await client.get(f"{BASE}/consultation-rounds/{round_id}/results")
    assert hidden.status_code == 403
    staff_view = (
        await client.get(f"{BASE}/consultation-rounds/{round_id}/results", headers=admin(world))
    ).json()
    assert staff_view["respondents"] == 2
    assert staff_view["area_id"] == world.areas["Dam"] and staff_view["filtered_area_id"] is None
    by_id = {x["id"]: x for x in staff_view["questions"]}
    assert by_id[q[0]]["counts"] == {"ja": 1, "nee": 1}
    assert by_id[q[2]]["mean"] == 3.5
    assert by_id[q[3]]["texts"] == ["Een waterspeelplek"]
    assert by_id[q[4]]["ranking"] == ["b", "a", "c"]
    assert by_id[q[5]]["density"]["features"][0]["properties"]["count"] == 2
    elsewhere = (
        await client.get(
            f"{BASE}/consultation-rounds/{round_id}/results?area_id={world.areas['Zuid']}",
            headers=admin(world),
        )
    ).json()
    assert elsewhere["respondents"] == 0
    assert elsewhere["area_id"] == world.areas["Dam"] and elsewhere["filtered_area_id"] == world.areas["Zuid"]
    # Filtering by a district counts the respondents of its neighbourhoods (Dam lies in Centrum).
    district = (
        await client.get(
            f"{BASE}/consultation-rounds/{round_id}/results?area_id={world.areas['Centrum']}",
            headers=admin(world),
        )
    ).json()
    assert district["respondents"] == 2
    assert {x["id"]: x for x in district["questions"]}[q[0]]["counts"] == {"ja": 1, "nee": 1}
    await client.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "closed"}
    )
    late = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        json={"answers": answers},
        headers=bearer(world.tokens["resident"]),
    )
    assert late.json()["code"] == "consultation-not-open"
    public = (await client.get(f"{BASE}/consultation-rounds/{round_id}/results")).json()
    assert "texts" not in {k for x in public["questions"] for k in x}
    exported = await client.get(
        f"{BASE}/consultation-rounds/{round_id}/export.csv", headers=bearer(world.tokens["council"])
    )
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == 3 and rows[1][1] == "Dam"
    geojson = (
        await client.get(f"{BASE}/consultation-rounds/{round_id}/export.geojson", headers=admin(world))
    ).json()
    assert len(geojson["features"]) == 2
    filtered = await client.get(
        f"{BASE}/consultation-rounds/{round_id}/export.csv?area_id={world.areas['Zuid']}",
        headers=admin(world),
    )
    assert len(list(csv.reader(io.StringIO(filtered.text)))) == 1  # the header only
    assert (
        await client.get(
            f"{BASE}/consultation-rounds/{round_id}/export.csv", headers=bearer(world.tokens["resident"])
        )
    ).status_code == 403
    published = await client.post(
        f"{BASE}/consultation-rounds/{round_id}/you-said-we-did",
        headers=admin(world),
        json={"summary": "U wilde meer bomen", "actions": ["Vier bomen in 2027"]},
    )
    assert published.status_code == 200 and published.json()["you_said_we_did"]["actions"]
    events: dict[str, Any] = dict(
        (
            await session.execute(
                text(
                    "SELECT topic, payload FROM outbox_events"
                    " WHERE aggregate_type = 'consultation_round' AND aggregate_id = :r ORDER BY id"
                ),
                {"r": round_id},
            )
        ).all()
    )
    assert set(events) >= {"consultation.opened", "response.received", "consultation.you_said_we_did"}
    assert set(events["consultation.you_said_we_did"]["account_ids"]) == {
        world.accounts["resident"],
        world.accounts["other_resident"],
    }


async def test_a_council_member_is_an_insider_of_their_own_area_only(
    pclient: httpx.AsyncClient, world: World
) -> None:
    """Before the close, results (with free texts) and exports are for staff and the area's council."""
    council = bearer(world.tokens["council"])  # the council of Centrum
    rounds = {}
    for name in ("Dam", "Zuid"):
        created = await pclient.post(
            f"{BASE}/consultations",
            headers=admin(world),
            json={
                "title": f"Plein {name}",
                "rounds": [
                    {
                        "title": "Ideeën",
                        "area_id": world.areas[name],
                        "questions": [{"kind": "free_text", "prompt": "Idee?"}],
                    }
                ],
            },
        )
        assert created.status_code == 201, created.text
        rounds[name] = created.json()["rounds"][0]["id"]
        opened = await pclient.post(
            f"{BASE}/consultation-rounds/{rounds[name]}/status", headers=admin(world), json={"to": "open"}
        )
        assert opened.status_code == 200, opened.text
    own = f"{BASE}/consultation-rounds/{rounds['Dam']}"
    other = f"{BASE}/consultation-rounds/{rounds['Zuid']}"
    assert (await pclient.get(f"{own}/results", headers=council)).status_code == 200
    hidden = await pclient.get(f"{other}/results", headers=council)
    assert (hidden.status_code, hidden.json()["code"]) == (403, "results-not-public")
    assert (await pclient.get(f"{other}/results", headers=admin(world))).status_code == 200
    for export in ("export.csv", "export.geojson"):
        assert (await pclient.get(f"{own}/{export}", headers=council)).status_code == 200
        refused = await pclient.get(f"{other}/{export}", headers=council)
        assert (refused.status_code, refused.json()["code"]) == (403, "not-your-area")
        assert (await pclient.get(f"{other}/{export}", headers=admin(world))).status_code == 200


async def test_a_draft_round_is_shown_to_the_administrators_only(
    pclient: httpx.AsyncClient, world: World
) -> None:
    created = await pclient.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Plein in wording",
            "rounds": [
                {
                    "title": "Nog geheim",
                    "area_id": world.areas["Dam"],
                    "questions": [{"kind": "free_text", "prompt": "Idee?"}],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    path = f"{BASE}/consultations/{created.json()['id']}"
    assert created.json()["rounds"][0]["status"] == "draft"
    for token in (None, world.tokens["resident"], world.tokens["council"], world.tokens["roads_staff"]):
        seen = await pclient.get(path, headers=bearer(token) if token else {})
        assert seen.status_code == 200 and seen.json()["rounds"] == [], (token, seen.text)
    assert [r["title"] for r in (await pclient.get(path, headers=admin(world))).json()["rounds"]] == [
        "Nog geheim"
    ]
