"""Retention per jurisdiction (issue 12, item 17): contact data and device links of reports closed longer
than N days are erased, photos of reports closed longer than M months are deleted (rows and files), by
``geo.retention`` as the clock of ``civicloop serve`` and ``civicloop retention run [--dry-run]`` run it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from api.cli import app as cli
from core.settings import Settings
from geo.media import MediaStore
from geo.retention import RetentionRun, run_retention
from tests.conftest import World, bearer, report_body
from tests.photos import phone_jpeg

BASE = "/api/v1/jurisdictions/amsterdam"


async def _report(
    client: httpx.AsyncClient,
    token: str,
    *,
    closed_days_ago: int | None,
    session: AsyncSession,
    photo: bytes | None = None,
) -> dict:
    upload = await client.post(
        f"{BASE}/photos",
        files={"file": ("p.jpg", photo or phone_jpeg(), "image/jpeg")},
        headers=bearer(token),
    )
    assert upload.status_code == 201, upload.text
    made = await client.post(
        f"{BASE}/reports",
        json=report_body(
            photo_ids=[upload.json()["id"]], contact={"email": "melder@example.org", "phone": "0612345678"}
        ),
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    report = made.json()
    if closed_days_ago is not None:
        await session.execute(
            text("UPDATE reports SET status = 'closed' WHERE id = :id"), {"id": report["id"]}
        )
        await session.execute(
            text(
                "INSERT INTO report_status_changes (report_id, from_status, to_status, created_at)"
                " VALUES (:id, 'submitted', 'closed', now() - make_interval(days => :days))"
            ),
            {"id": report["id"], "days": closed_days_ago},
        )
    return report


async def _state(session: AsyncSession, report_id: int) -> dict:
    row = (
        await session.execute(
            text(
                "SELECT reporter_email, reporter_phone, reporter_account_id,"
                " anonymised_at IS NOT NULL AS done, (SELECT array_agg(account_id ORDER BY account_id)"
                "   FROM report_followers WHERE report_id = r.id) AS followers,"
                " (SELECT array_agg(storage_key) FROM photos WHERE report_id = r.id) AS photos"
                " FROM reports r WHERE id = :id"
            ),
            {"id": report_id},
        )
    ).one()
    return dict(row._mapping)


async def retain(
    sessionmaker: async_sessionmaker[AsyncSession], media: MediaStore, *, dry_run: bool = False
) -> RetentionRun:
    async with sessionmaker() as own:
        return await run_retention(own, media, default_days=90, default_months=12, dry_run=dry_run)


async def test_contact_data_device_links_and_photos_go_after_their_retention(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    media = MediaStore(settings.media_dir)
    device, resident = world.tokens["device"], world.tokens["resident"]
    old = await _report(
        client, device, closed_days_ago=400, session=session, photo=phone_jpeg(80, 60)
    )  # both retentions passed
    contact_only = await _report(client, device, closed_days_ago=100, session=session)  # 90 days passed
    recent = await _report(client, device, closed_days_ago=10, session=session)
    still_open = await _report(client, device, closed_days_ago=None, session=session)
    registered = await _report(client, resident, closed_days_ago=400, session=session)
    for report in (old, contact_only, registered):  # a registered follower keeps following
        await client.put(
            f"{BASE}/reports/{report['id']}/followers/me", headers=bearer(world.tokens["other_resident"])
        )
    old_files = (await _state(session, old["id"]))["photos"]
    assert all(media.path(key).exists() for key in old_files)

    await session.commit()  # into the test's transaction: the runs below use sessions of their own
    dry = await retain(sessionmaker, media, dry_run=True)
    assert dry.summary() == {
        "dry_run": True,
        "reports_anonymised": 3,
        "follows_removed": 2,
        "photos_removed": 2,
        "files_removed": dry.summary()["files_removed"],
    }
    assert (await _state(session, old["id"]))["reporter_email"] == "melder@example.org"  # nothing changed
    assert all(media.path(key).exists() for key in old_files)

    run = await retain(sessionmaker, media)
    assert (run.reports_anonymised, run.follows_removed, run.photos_removed) == (3, 2, 2)
    device_id, resident_id, other_id = (world.accounts[k] for k in ("device", "resident", "other_resident"))
    for report in (old, contact_only):
        state = await _state(session, report["id"])
        assert (state["reporter_email"], state["reporter_phone"], state["reporter_account_id"]) == (
            None,
            None,
            None,
        )
        assert state["done"] and state["followers"] == [other_id]  # the device's follow is gone
    assert (await _state(session, old["id"]))["photos"] is None
    # The old report's photo and thumbnail; the registered report's files are shared with a kept photo.
    assert set(old_files) <= set(run.files_removed) and len(run.files_removed) == 2
    assert not any(media.path(key).exists() for key in run.files_removed)
    assert (await _state(session, contact_only["id"]))["photos"]  # 100 days < 12 months: photos stay
    kept = await _state(session, registered["id"])
    assert kept["reporter_account_id"] == resident_id and kept["reporter_email"] is None  # own account stays
    for report in (recent, still_open):
        state = await _state(session, report["id"])
        assert state["reporter_email"] == "melder@example.org" and state["reporter_account_id"] == device_id
        assert device_id in state["followers"] and state["photos"]
    # Files still used by another photo row are kept (content-addressed: the same bytes, one file).
    assert all(media.path(key).exists() for key in (await _state(session, recent["id"]))["photos"])
    again = await retain(sessionmaker, media)
    assert again.summary()["reports_anonymised"] == again.summary()["photos_removed"] == 0


async def test_a_jurisdiction_sets_its_own_retention(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = bearer(world.tokens["admin"])
    answer = await client.get(f"{BASE}/retention", headers=admin)
    assert answer.json() == {
        "contact_retention_days": None,
        "photo_retention_months": None,
        "default_contact_retention_days": 90,
        "default_photo_retention_months": 12,
    }
    bad = await client.put(f"{BASE}/retention", json={"contact_retention_days": -1}, headers=admin)
    assert bad.status_code == 422
    stricter = await client.put(
        f"{BASE}/retention", json={"contact_retention_days": 7, "photo_retention_months": 0}, headers=admin
    )
    assert stricter.status_code == 200 and stricter.json()["contact_retention_days"] == 7
    report = await _report(client, world.tokens["device"], closed_days_ago=8, session=session)
    await session.commit()
    run = await retain(sessionmaker, MediaStore(settings.media_dir))
    assert run.reports_anonymised >= 1 and run.photos_removed >= 1
    state = await _state(session, report["id"])
    assert state["reporter_email"] is None and state["photos"] is None


def test_the_command_counts_what_is_due_without_changing_anything(
    database_url: str, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CIVICLOOP_MEDIA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["dry_run"] is True and set(summary) == {
        "dry_run",
        "reports_anonymised",
        "follows_removed",
        "photos_removed",
        "files_removed",
    }
