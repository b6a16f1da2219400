"""A resident's data download (JSON) and account deletion with the reports kept, anonymised (issue 12,
item 17); the clock of ``civicloop serve`` runs the retention."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.clock import clock
from core.db import make_sessionmaker
from core.settings import Settings
from tests.conftest import RACE_CATEGORY, RACE_EXTRA, RACE_TRACK, World, bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"


async def test_a_resident_downloads_all_their_data(client: httpx.AsyncClient, world: World) -> None:
    resident = bearer(world.tokens["resident"])
    made = await client.post(
        f"{BASE}/reports", json=report_body(contact={"email": "ik@example.org"}), headers=resident
    )
    assert made.status_code == 201
    answer = await client.get("/api/v1/me/data", headers=resident)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["cache-control"] == "private, no-store"
    data = answer.json()
    assert (
        data["account"]["email"] == "resident@example.org" and data["account"]["jurisdiction"] == "amsterdam"
    )
    [report] = [r for r in data["reports"] if r["id"] == made.json()["id"]]
    assert report["contact_email"] == "ik@example.org" and report["location"]["type"] == "Point"
    assert report["history"][0]["status"] == "submitted"
    assert made.json()["id"] in data["followed_reports"]
    assert {"ballots", "ballot"} & set(data) == set()
    assert set(data) >= {"inbox", "notification_preferences", "voted_in_rounds", "consultation_responses"}
    assert (await client.get("/api/v1/me/data")).status_code == 401


async def test_deleting_an_account_keeps_its_reports_anonymised(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    resident = bearer(world.tokens["resident"])
    made = (
        await client.post(
            f"{BASE}/reports",
            json=report_body(contact={"email": "ik@example.org", "phone": "+31 6 1234 5678"}),
            headers=resident,
        )
    ).json()
    refused = await client.request("DELETE", "/api/v1/me", headers=resident)
    assert (refused.status_code, refused.json()["code"]) == (403, "wrong-password")
    wrong = await client.request("DELETE", "/api/v1/me", json={"password": "raden maar"}, headers=resident)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong-password")
    staff = await client.request(
        "DELETE",
        "/api/v1/me",
        json={"password": "correct horse battery"},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert (staff.status_code, staff.json()["code"]) == (409, "account-has-roles")

    deleted = await client.request(
        "DELETE", "/api/v1/me", json={"password": "correct horse battery"}, headers=resident
    )
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/me", headers=resident)).status_code == 401
    account_id = world.accounts["resident"]
    row = (
        await session.execute(
            text(
                "SELECT reporter_email, reporter_phone, reporter_account_id, description FROM reports"
                " WHERE id = :id"
            ),
            {"id": made["id"]},
        )
    ).one()
    assert tuple(row)[:3] == (None, None, None) and row.description  # the report stays, nameless
    left = await session.scalar(
        text(
            "SELECT (SELECT count(*) FROM accounts WHERE id = :a) + (SELECT count(*) FROM report_followers"
            " WHERE account_id = :a) + (SELECT count(*) FROM notification_deliveries WHERE account_id = :a)"
            " + (SELECT count(*) FROM access_tokens WHERE account_id = :a)"
        ),
        {"a": account_id},
    )
    assert left == 0
    # An anonymous device has no password to give.
    device = await client.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"})
    gone = await client.request("DELETE", "/api/v1/me", headers=bearer(device.json()["token"]))
    assert gone.status_code == 204


async def test_the_clock_runs_the_retention(engine: AsyncEngine, world: World, settings: Settings) -> None:
    """Really committed (the clock has its own connections), at the race track where listings never look."""
    async with make_sessionmaker(engine)() as session:
        report_id = await session.scalar(
            text(
                "INSERT INTO reports (jurisdiction_id, category_id, location, description, extra, status,"
                " is_public, reporter_email, version, created_at, updated_at)"
                " SELECT :j, c.id, ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'Oud', CAST(:extra AS jsonb),"
                " 'closed', true, 'oud@example.org', 1, now(), now() FROM categories c"
                " WHERE c.code = :category AND c.jurisdiction_id = :j RETURNING id"
            ),
            {
                "j": world.amsterdam,
                "x": RACE_TRACK[0],
                "y": RACE_TRACK[1],
                "category": RACE_CATEGORY,
                "extra": json.dumps(RACE_EXTRA),
            },
        )
        await session.execute(
            text(
                "INSERT INTO report_status_changes (report_id, to_status, created_at)"
                " VALUES (:id, 'closed', now() - interval '200 days')"
            ),
            {"id": report_id},
        )
        await session.commit()
    async with clock(engine, settings, interval_seconds=0.05, retention_seconds=0):
        for _ in range(100):
            async with engine.connect() as connection:
                email = await connection.scalar(
                    text("SELECT reporter_email FROM reports WHERE id = :id"), {"id": report_id}
                )
            if email is None:
                break
            await asyncio.sleep(0.05)
    assert email is None
