"""Field staff move reports through the workflow: work list, guarded updates, audit, merges."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import make_sessionmaker
from core.outbox import OutboxEvent
from geo.models import ReportFollower, ReportStatusChange, ReportSupporter
from tests.conftest import (
    DAM_SQUARE,
    RACE_CATEGORY,
    RACE_EXTRA,
    RACE_TRACK,
    VONDELPARK,
    World,
    bearer,
    report_body,
)
from tests.photos import phone_jpeg

BASE = "/api/v1/jurisdictions/amsterdam"


async def submit(
    client: httpx.AsyncClient,
    world: World,
    point: tuple[float, float] = DAM_SQUARE,
    category: str = "pothole",
    who: str = "resident",
    **extra: object,
) -> int:
    response = await client.post(
        f"{BASE}/reports",
        json=report_body(category=category, point=point, **extra),
        headers=bearer(world.tokens[who]),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def move(
    client: httpx.AsyncClient,
    world: World,
    report_id: int,
    version: int | None,
    status: str,
    who: str = "roads_staff",
    **body: object,
) -> httpx.Response:
    headers = bearer(world.tokens[who]) | ({"If-Match": f'"v{version}"'} if version is not None else {})
    return await client.post(
        f"{BASE}/reports/{report_id}/transitions", json={"status": status, **body}, headers=headers
    )


async def test_a_field_worker_takes_a_report_to_resolved_with_an_after_photo(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    report_id = await submit(client, world)
    view = await client.get(
        f"{BASE}/reports/{report_id}/staff-view", headers=bearer(world.tokens["roads_staff"])
    )
    assert view.status_code == 200 and view.headers["etag"] == '"v1"'
    version = 1
    for status in ("accepted", "scheduled", "in_progress"):
        response = await move(
            client, world, report_id, version, status, public_message=f"now {status}", internal_note="ploeg 3"
        )
        assert response.status_code == 200, response.text
        version += 1
        assert response.headers["etag"] == f'"v{version}"'
    photo = await client.post(
        f"{BASE}/photos",
        files={"file": ("na.jpg", phone_jpeg(), "image/jpeg")},
        data={"kind": "after"},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert photo.status_code == 201, photo.text
    done = await move(
        client,
        world,
        report_id,
        version,
        "resolved",
        public_message="Gat gedicht",
        internal_note="asfalt 2 zakken",
        photo_id=photo.json()["id"],
    )
    assert done.status_code == 200, done.text
    staff = done.json()
    assert staff["status"] == "resolved" and staff["resolved_at"] and staff["version"] == 5
    assert [h["to_status"] for h in staff["history"]] == [
        "submitted",
        "accepted",
        "scheduled",
        "in_progress",
        "resolved",
    ]
    assert staff["history"][-1]["internal_note"] == "asfalt 2 zakken"
    assert staff["history"][-1]["actor_account_id"] == world.accounts["roads_staff"]
    public = (await client.get(f"{BASE}/reports/{report_id}")).json()
    assert public["history"][-1]["public_message"] == "Gat gedicht"
    assert public["history"][-1]["photo"]["kind"] == "after"
    assert "internal_note" not in str(public) and "asfalt" not in str(public)
    topics = list(
        await session.scalars(
            select(OutboxEvent.payload["to_status"].astext)
            .where(OutboxEvent.aggregate_id == report_id, OutboxEvent.topic == "report.status_changed")
            .order_by(OutboxEvent.id)
        )
    )
    assert topics == ["accepted", "scheduled", "in_progress", "resolved"]


async def test_stale_missing_and_malformed_versions(client: httpx.AsyncClient, world: World) -> None:
    report_id = await submit(client, world)
    assert (await move(client, world, report_id, 1, "accepted")).status_code == 200
    stale = await move(client, world, report_id, 1, "scheduled")
    assert stale.status_code == 412 and stale.json()["code"] == "stale-version"
    assert stale.json()["current_version"] == 2
    missing = await move(client, world, report_id, None, "scheduled")
    assert missing.status_code == 428 and missing.json()["code"] == "precondition-required"
    in_body = await move(client, world, report_id, None, "scheduled", expected_version=2)
    assert in_body.status_code == 200
    bad = await client.post(
        f"{BASE}/reports/{report_id}/transitions",
        json={"status": "on_hold"},
        headers=bearer(world.tokens["roads_staff"]) | {"If-Match": "*"},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-if-match"


async def test_illegal_moves_and_reasons(client: httpx.AsyncClient, world: World) -> None:
    report_id = await submit(client, world)
    illegal = await move(client, world, report_id, 1, "resolved")
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal-transition"
    assert illegal.json()["allowed"] == ["accepted", "closed"]
    no_reason = await move(client, world, report_id, 1, "closed")
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason-required"
    closed = await move(
        client,
        world,
        report_id,
        1,
        "closed",
        reason="not_ours",
        public_message="Dit is grond van Rijkswaterstaat",
    )
    assert closed.status_code == 200 and closed.json()["status_reason"] == "not_ours"
    reopened = await move(client, world, report_id, 2, "reopened")
    assert reopened.status_code == 200 and reopened.json()["status_reason"] is None


async def test_only_the_reports_department_or_an_admin_may_move_it(
    client: httpx.AsyncClient, world: World
) -> None:
    report_id = await submit(client, world)
    wrong = await move(client, world, report_id, 1, "accepted", who="waste_staff")
    assert wrong.status_code == 403
    view = await client.get(
        f"{BASE}/reports/{report_id}/staff-view", headers=bearer(world.tokens["waste_staff"])
    )
    assert view.status_code == 403 and view.json()["code"] == "not-your-department"
    assert (await move(client, world, report_id, 1, "accepted", who="admin")).status_code == 200


async def test_work_list_is_my_departments_open_reports_nearest_first(
    client: httpx.AsyncClient, world: World
) -> None:
    east = (DAM_SQUARE[0] + 0.002, DAM_SQUARE[1])
    far = await submit(client, world, point=VONDELPARK)
    near = await submit(client, world, point=DAM_SQUARE)
    middle = await submit(client, world, point=east)
    waste = await submit(client, world, point=DAM_SQUARE, category="dumped-waste")
    done = await submit(client, world, point=DAM_SQUARE)
    await move(client, world, done, 1, "closed", reason="duplicate")
    params = {"longitude": DAM_SQUARE[0], "latitude": DAM_SQUARE[1]}
    items = (
        await client.get(f"{BASE}/worklist", params=params, headers=bearer(world.tokens["roads_staff"]))
    ).json()
    assert [i["id"] for i in items] == [near, middle, far]
    assert items[0]["distance_m"] < 1 < items[1]["distance_m"] < items[2]["distance_m"]
    waste_items = await client.get(
        f"{BASE}/worklist", params=params, headers=bearer(world.tokens["waste_staff"])
    )
    assert [i["id"] for i in waste_items.json()] == [waste]
    half = await client.get(
        f"{BASE}/worklist", params={"longitude": 4.9}, headers=bearer(world.tokens["roads_staff"])
    )
    assert half.status_code == 422 and half.json()["code"] == "invalid-position"


async def test_merging_a_duplicate_carries_followers_and_me_toos_over(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    master = await submit(client, world, who="resident")
    duplicate = await submit(client, world, who="device")
    await client.post(
        f"{BASE}/reports/{duplicate}/supporters", headers=bearer(world.tokens["other_resident"])
    )
    response = await client.post(
        f"{BASE}/reports/{duplicate}/merge",
        json={"into_report_id": master, "public_message": "Al gemeld"},
        headers=bearer(world.tokens["roads_staff"]) | {"If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["status"] == "closed" and merged["status_reason"] == "duplicate"
    assert merged["merged_into_id"] == master
    followers = set(
        await session.scalars(select(ReportFollower.account_id).where(ReportFollower.report_id == master))
    )
    assert followers == {
        world.accounts["resident"],
        world.accounts["device"],
        world.accounts["other_resident"],
    }
    supporters = set(
        await session.scalars(select(ReportSupporter.account_id).where(ReportSupporter.report_id == master))
    )
    assert supporters == {world.accounts["device"], world.accounts["other_resident"]}
    topics = set(
        await session.scalars(select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == duplicate))
    )
    assert {"report.merged", "report.status_changed"} <= topics
    again = await client.post(
        f"{BASE}/reports/{master}/merge",
        json={"into_report_id": duplicate},
        headers=bearer(world.tokens["roads_staff"]) | {"If-Match": '"v1"'},
    )
    assert again.status_code == 409 and again.json()["code"] == "report-not-open"
    me_too = await client.post(
        f"{BASE}/reports/{duplicate}/supporters", headers=bearer(world.tokens["council"])
    )
    assert me_too.json()["report_id"] == master  # a "me too" on a merged report lands on its master


async def test_concurrent_updates_with_the_same_version_let_exactly_one_win(
    committed_client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    report_id = await submit(
        committed_client, world, point=RACE_TRACK, category=RACE_CATEGORY, extra=RACE_EXTRA
    )
    attempts = await asyncio.gather(
        *[
            move(committed_client, world, report_id, 1, status, who=who, **extra)
            for status, who, extra in [("accepted", "admin", {}), ("closed", "admin", {"reason": "spam"})] * 4
        ],
        return_exceptions=False,
    )
    statuses = sorted(r.status_code for r in attempts)
    assert statuses.count(200) == 1 and statuses.count(412) == 7, [r.text for r in attempts]
    async with make_sessionmaker(engine)() as session:
        changes = await session.scalar(select(func.count()).where(ReportStatusChange.report_id == report_id))
    assert changes == 2  # submitted + the one winner
