"""Small helpers shared by the notifications tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"


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
