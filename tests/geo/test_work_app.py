"""What the field staff's screens ask of the API beyond the workflow itself: the work list filtered by
category with its counts and overdue reports, the moves the workflow allows, merge candidates nearby, and
the public message templates staff pick from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.workflow import TRANSITIONS, Status
from tests.conftest import DAM_SQUARE, VONDELPARK, World, bearer
from tests.geo.test_field_staff import BASE, move, submit

EAST_OF_DAM = (DAM_SQUARE[0] + 0.002, DAM_SQUARE[1])  # about 135 m east
FAR_EAST_OF_DAM = (DAM_SQUARE[0] + 0.006, DAM_SQUARE[1])  # about 400 m east


def staff(world: World, who: str = "roads_staff") -> dict[str, str]:
    return bearer(world.tokens[who])


async def overdue(session: AsyncSession, report_id: int) -> None:
    await session.execute(
        text("UPDATE reports SET due_at = :due WHERE id = :id"),
        {"due": datetime.now(UTC) - timedelta(hours=1), "id": report_id},
    )
    await session.commit()


async def test_the_work_list_filters_by_category_and_names_it(
    client: httpx.AsyncClient, world: World
) -> None:
    pothole = await submit(client, world)
    light = await submit(client, world, category="street-light", extra={"pole_number": "W-1"})
    await submit(client, world, category="dumped-waste")  # another department's
    params = {"longitude": DAM_SQUARE[0], "latitude": DAM_SQUARE[1]}
    both = await client.get(f"{BASE}/worklist", params=params, headers=staff(world, "admin"))
    assert {pothole, light} <= {item["id"] for item in both.json()}
    potholes = await client.get(
        f"{BASE}/worklist", params=params | {"category": "pothole"}, headers=staff(world, "admin")
    )
    [item] = [i for i in potholes.json() if i["id"] in (pothole, light)]
    assert item["id"] == pothole and item["category_name"] == {"nl": "Gat in de weg"}
    group = await client.get(
        f"{BASE}/worklist", params=params | {"category": "street"}, headers=staff(world, "admin")
    )
    assert {pothole, light} <= {i["id"] for i in group.json()}  # a group stands for its categories
    unknown = await client.get(f"{BASE}/worklist", params={"category": "nope"}, headers=staff(world))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-category"
    malformed = await client.get(f"{BASE}/worklist", params={"category": "A;B"}, headers=staff(world))
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid-input"


async def test_the_summary_counts_open_work_per_status_and_what_is_overdue(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    fresh = await submit(client, world)
    late = await submit(client, world)
    accepted = await submit(client, world)
    done = await submit(client, world)
    assert (await move(client, world, accepted, 1, "accepted")).status_code == 200
    assert (await move(client, world, done, 1, "accepted")).status_code == 200
    assert (await move(client, world, done, 2, "resolved")).status_code == 200
    await overdue(session, late)
    await overdue(session, done)  # finished: no longer work, never overdue
    await submit(client, world, category="dumped-waste")
    summary = (await client.get(f"{BASE}/worklist/summary", headers=staff(world))).json()
    assert summary == {
        "total": 3,
        "overdue": 1,
        "statuses": [
            {"status": "accepted", "reports": 1, "overdue": 0},
            {"status": "submitted", "reports": 2, "overdue": 1},
        ],
    }
    assert fresh != late
    lights = await client.get(
        f"{BASE}/worklist/summary", params={"category": "street-light"}, headers=staff(world)
    )
    assert lights.json() == {"total": 0, "overdue": 0, "statuses": []}


@pytest.mark.parametrize("status", list(Status))
async def test_the_staff_view_offers_exactly_the_workflow_moves(
    client: httpx.AsyncClient, world: World, session: AsyncSession, status: Status
) -> None:
    report_id = await submit(client, world)
    await session.execute(
        text("UPDATE reports SET status = :s WHERE id = :id"), {"s": status.value, "id": report_id}
    )
    await session.commit()
    view = (await client.get(f"{BASE}/reports/{report_id}/staff-view", headers=staff(world))).json()
    assert view["allowed_transitions"] == sorted(s.value for s in TRANSITIONS[status])
    public = (await client.get(f"{BASE}/reports/{report_id}")).json()
    assert "allowed_transitions" not in public


async def test_merge_candidates_are_nearby_open_reports_same_category_first(
    client: httpx.AsyncClient, world: World
) -> None:
    report_id = await submit(client, world)
    same_near = await submit(client, world, point=EAST_OF_DAM)
    same_far = await submit(client, world, point=FAR_EAST_OF_DAM)
    other_category = await submit(client, world, category="street-light", extra={"pole_number": "M-1"})
    other_department = await submit(client, world, category="dumped-waste")
    closed = await submit(client, world)
    await move(client, world, closed, 1, "closed", reason="not_ours")
    await submit(client, world, point=VONDELPARK)  # kilometres away
    url = f"{BASE}/reports/{report_id}/merge-candidates"
    found = (await client.get(url, headers=staff(world))).json()
    assert [c["id"] for c in found] == [same_near]  # roads staff: Wegen's reports only, within 250 m
    assert found[0]["same_category"] is True and 100 < found[0]["distance_m"] < 170
    wider = (await client.get(url, params={"radius": 500}, headers=staff(world, "admin"))).json()
    ids = [c["id"] for c in wider]
    assert ids[:2] == [same_near, same_far] and set(ids[2:]) == {other_category, other_department}
    assert [c["same_category"] for c in wider] == [True, True, False, False]
    assert report_id not in ids and closed not in ids
    too_wide = await client.get(url, params={"radius": 5000}, headers=staff(world))
    assert too_wide.status_code == 422


async def test_templates_for_a_status_the_category_s_own_first(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = staff(world, "admin")

    async def create(status: str, category: str | None, title: str) -> int:
        body = {"status": status, "title": {"nl": title}, "text": {"nl": f"{title}."}}
        if category:
            body["category"] = category
        response = await client.post(f"{BASE}/message-templates", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    general = await create("resolved", None, "Opgelost")
    own = await create("resolved", "pothole", "Gat gedicht")
    group = await create("resolved", "street", "Straat hersteld")
    await create("resolved", "street-light", "Lamp vervangen")
    await create("accepted", None, "Bedankt")
    listed = await client.get(
        f"{BASE}/message-templates",
        params={"status": "resolved", "category": "pothole"},
        headers=staff(world),
    )
    assert [t["id"] for t in listed.json()] == [own, group, general]
    first = listed.json()[0]
    assert first["text"] == {"nl": "Gat gedicht.", "en": "Gat gedicht."} and first["category"] == "pothole"
    every = await client.get(f"{BASE}/message-templates", headers=staff(world))
    assert len(every.json()) == 5

    changed = await client.patch(
        f"{BASE}/message-templates/{own}",
        json={"text": {"nl": "Het gat is dicht.", "en": "The hole is filled."}, "category": None},
        headers=admin,
    )
    assert changed.status_code == 200 and changed.json()["category"] is None
    assert changed.json()["text"]["en"] == "The hole is filled."
    assert (await client.delete(f"{BASE}/message-templates/{own}", headers=admin)).status_code == 204
    gone = await client.delete(f"{BASE}/message-templates/{own}", headers=admin)
    assert gone.status_code == 404 and gone.json()["code"] == "message-template-not-found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "submitted", "title": {"nl": "x"}, "text": {"nl": "x"}}, "status"),
        ({"status": "resolved", "title": {"nl": ""}, "text": {"nl": "x"}}, "title"),
        ({"status": "resolved", "title": {"nl": "x"}, "text": {"nl": "x" * 2001}}, "text"),
        ({"status": "resolved", "title": {"nl": "x"}, "text": {"en": "only English"}}, "text"),
        ({"status": "resolved", "title": {"nl": "x"}, "text": {"nl": "x"}, "extra": 1}, "extra"),
        ({"status": "resolved", "title": {"nl": "x"}, "text": {"nl": "a\u0000b"}}, "body"),
    ],
)
async def test_a_template_is_validated(
    client: httpx.AsyncClient, world: World, body: dict[str, object], field: str
) -> None:
    response = await client.post(f"{BASE}/message-templates", json=body, headers=staff(world, "admin"))
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_a_template_for_an_unknown_category_or_with_nothing_to_change(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = staff(world, "admin")
    unknown = await client.post(
        f"{BASE}/message-templates",
        json={"status": "resolved", "category": "nope", "title": {"nl": "x"}, "text": {"nl": "x"}},
        headers=admin,
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "category-not-found"
    created = await client.post(
        f"{BASE}/message-templates",
        json={"status": "resolved", "title": {"nl": "x"}, "text": {"nl": "x"}},
        headers=admin,
    )
    template_id = created.json()["id"]
    for body in ({}, {"title": None}):
        response = await client.patch(f"{BASE}/message-templates/{template_id}", json=body, headers=admin)
        assert response.status_code == 422, response.text
    listed = await client.get(f"{BASE}/message-templates", params={"status": "nope"}, headers=staff(world))
    assert listed.status_code == 422
