"""Small helpers shared by the notifications tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import OutboxEvent
from tests.conftest import World, bearer, report_body
from tests.participation.support_rounds import DAM_POINT, admin, set_phase

BASE = "/api/v1/jurisdictions/amsterdam"
ROUND_TITLE = "Buurtbudget Dam 2027"


async def submit(client: httpx.AsyncClient, token: str, **kwargs: Any) -> dict[str, Any]:
    response = await client.post(f"{BASE}/reports", json=report_body(**kwargs), headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def transition(
    client: httpx.AsyncClient, token: str, report_id: int, status: str, **body: Any
) -> dict[str, Any]:
    staff_view = await client.get(f"{BASE}/reports/{report_id}/staff-view", headers=bearer(token))
    version = staff_view.json()["version"] if staff_view.status_code == 200 else None
    response = await client.post(
        f"{BASE}/reports/{report_id}/transitions",
        json={"status": status, "expected_version": version, **body},
        headers=bearer(token),
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


async def deliveries(session: AsyncSession, **where: Any) -> list[Any]:
    clauses = " AND ".join(f"{key} = :{key}" for key in where) or "true"
    return list(
        (
            await session.execute(
                text(f"SELECT * FROM notification_deliveries WHERE {clauses} ORDER BY id"), where
            )
        ).all()
    )


async def store_raw_event(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    topic: str,
    payload: Any,
    aggregate_type: str = "round",
    aggregate_id: int = 1,
) -> OutboxEvent:
    """An outbox row as it is, not built from a payload type: a row an older version wrote (the shapes
    ``notifications.fanout.legacy`` upgrades), or one no type accepts (a poison event)."""
    row = OutboxEvent(
        jurisdiction_id=jurisdiction_id,
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
    )
    session.add(row)
    await session.flush()
    return row


async def outbox_event(session: AsyncSession, report_id: int, topic: str) -> Any:
    return (
        await session.execute(
            text(
                "SELECT * FROM outbox_events WHERE aggregate_type = 'report' AND aggregate_id = :id"
                " AND topic = :topic ORDER BY id DESC LIMIT 1"
            ),
            {"id": report_id, "topic": topic},
        )
    ).first()


async def budget_round_with_projects(
    client: httpx.AsyncClient, world: World, author_token: str, projects: list[tuple[str, int]]
) -> tuple[int, dict[str, int]]:
    """A round in Dam, through the API, with feasible projects proposed by ``author_token``; voting open."""
    created = await client.post(
        f"{BASE}/budget-rounds",
        headers=admin(world),
        json={
            "title": ROUND_TITLE,
            "area_id": world.areas["Dam"],
            "budget": "10000",
            "ballot_type": "approval",
            "ballot_rules": {"min_projects": 1, "max_projects": 3},
        },
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    ids: dict[str, int] = {}
    for title, cost in projects:
        proposed = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals",
            headers=bearer(author_token),
            json={
                "title": title,
                "description": "Voor de buurt",
                "location": DAM_POINT,
                "estimated_cost": str(cost),
            },
        )
        assert proposed.status_code == 201, proposed.text
        ids[title] = proposed.json()["id"]
    await set_phase(client, world, round_id, "review")
    for project_id in ids.values():
        reviewed = await client.post(
            f"{BASE}/budget-rounds/{round_id}/proposals/{project_id}/review",
            headers=admin(world),
            json={"feasible": True},
        )
        assert reviewed.status_code == 200, reviewed.text
    await set_phase(client, world, round_id, "voting")
    return round_id, ids


async def vote(client: httpx.AsyncClient, round_id: int, projects: list[int], **credential: Any) -> None:
    headers = bearer(credential["token"]) if "token" in credential else {}
    body = {"projects": projects} | ({"code": credential["code"]} if "code" in credential else {})
    cast = await client.post(f"{BASE}/budget-rounds/{round_id}/ballots", json=body, headers=headers)
    assert cast.status_code == 201, cast.text


async def consultation_round(client: httpx.AsyncClient, world: World, title: str) -> int:
    """An open consultation round in Dam with one free-text question."""
    created = await client.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": title,
            "rounds": [
                {
                    "title": title,
                    "area_id": world.areas["Dam"],
                    "questions": [{"kind": "free_text", "prompt": "Idee?"}],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    round_id: int = created.json()["rounds"][0]["id"]
    opened = await client.post(
        f"{BASE}/consultation-rounds/{round_id}/status", headers=admin(world), json={"to": "open"}
    )
    assert opened.status_code == 200, opened.text
    return round_id


async def let_time_pass(session: AsyncSession, seconds: float) -> None:
    """For the worker, as if ``seconds`` had passed: the queue's clock is the database's
    (``clock_timestamp()`` against ``next_attempt_at`` and ``locked_until``), so moving every waiting
    delivery's times back by ``seconds`` is the same to it as waiting, without the test waiting or racing a
    real back-off."""
    await session.execute(
        text(
            "UPDATE notification_deliveries"
            " SET next_attempt_at = next_attempt_at - make_interval(secs => :seconds),"
            " locked_until = locked_until - make_interval(secs => :seconds)"
            " WHERE status IN ('pending', 'sending')"
        ),
        {"seconds": seconds},
    )
    await session.commit()
