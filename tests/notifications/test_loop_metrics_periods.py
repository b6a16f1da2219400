"""The loop metrics per calendar week and month, in the municipality's time zone: what the council's
dashboard charts as "reports per period"."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World, bearer
from tests.notifications.helpers import BASE, submit

# Just before midnight UTC on 31 January is just after midnight on 1 February in Amsterdam (UTC+1).
LATE_JANUARY_UTC = "2026-01-31T23:30:00+00:00"
MID_JANUARY = "2026-01-14T12:00:00+00:00"  # a Wednesday of ISO week 3
MID_FEBRUARY = "2026-02-18T12:00:00+00:00"  # a Wednesday of ISO week 8


async def test_reports_are_counted_per_local_month_and_iso_week(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    moments = [MID_JANUARY, MID_JANUARY, LATE_JANUARY_UTC, MID_FEBRUARY]
    for moment in moments:
        report = await submit(client, world.tokens["resident"])
        await session.execute(
            text("UPDATE reports SET created_at = CAST(:at AS timestamptz) WHERE id = :id"),
            {"at": moment, "id": report["id"]},
        )
    await session.commit()
    params = {"start": "2026-01-01T00:00:00+01:00", "end": "2026-03-01T00:00:00+01:00"}
    admin = bearer(world.tokens["admin"])
    url = f"{BASE}/loop-metrics"
    months = await client.get(url, params=params | {"group_by": "month"}, headers=admin)
    assert months.status_code == 200, months.text
    assert [(row["group"], row["inputs"]) for row in months.json()["rows"]] == [
        ("2026-01", 2),
        ("2026-02", 2),
    ]
    weeks = await client.get(url, params=params | {"group_by": "week"}, headers=admin)
    # 1 February 2026 00:30 in Amsterdam is the Sunday that ends ISO week 5.
    assert [(row["group"], row["inputs"]) for row in weeks.json()["rows"]] == [
        ("2026-W03", 2),
        ("2026-W05", 1),
        ("2026-W08", 1),
    ]
    whole = await client.get(url, params=params, headers=admin)
    [total] = whole.json()["rows"]
    assert total["inputs"] == sum(row["inputs"] for row in months.json()["rows"])
    unknown = await client.get(url, params=params | {"group_by": "day"}, headers=admin)
    assert unknown.status_code == 422
