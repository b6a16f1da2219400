"""Retention of personal data in reports, per jurisdiction (the AVG/GDPR; Signalen does the same).

``contact_retention_days`` (N) after a report was closed (resolved or closed, and not reopened since),
the reporter's contact data (e-mail, phone) is erased and the report's links to anonymous devices are cut:
the reporter's device account no longer owns it, anonymous devices no longer follow it. Registered
accounts keep their own reports and follows (they can delete their account, see ``api/privacy.py``).
``photo_retention_months`` (M) after the close, its photos (the resident's and staff's after-photos) are
deleted, rows and files. The report itself, its category, place, description and public history stay.

Run by the clock of ``civicloop serve`` (hourly) and by ``civicloop retention run [--dry-run]``; each run
works in batches and can be repeated at will.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.media import MediaStore
from geo.models import Jurisdiction

logger = logging.getLogger("civicloop.retention")

# When a report closed: its latest change into the final status it is in now.
_CLOSED_AT = (
    "(SELECT max(c.created_at) FROM report_status_changes c"
    " WHERE c.report_id = r.id AND c.to_status = r.status)"
)
_DUE_CONTACT = f"""
SELECT r.id FROM reports r JOIN jurisdictions j ON j.id = r.jurisdiction_id
WHERE r.status IN ('resolved', 'closed') AND r.anonymised_at IS NULL
  AND {_CLOSED_AT} < now() - make_interval(days => coalesce(j.contact_retention_days, :default_days))
ORDER BY r.id LIMIT :batch
"""  # noqa: S608 (constants only)
_ANONYMISE = """
WITH due AS ({due}),
unfollowed AS (
    DELETE FROM report_followers f USING accounts a, due
    WHERE f.report_id = due.id AND a.id = f.account_id AND a.is_anonymous RETURNING f.report_id
),
changed AS (
    UPDATE reports r SET reporter_email = NULL, reporter_phone = NULL, anonymised_at = now(),
        reporter_account_id = CASE WHEN EXISTS (
            SELECT 1 FROM accounts a WHERE a.id = r.reporter_account_id AND a.is_anonymous
        ) THEN NULL ELSE r.reporter_account_id END
    FROM due WHERE r.id = due.id
    RETURNING r.id
)
SELECT (SELECT count(*) FROM changed) AS reports, (SELECT count(*) FROM unfollowed) AS follows
"""
_DUE_PHOTOS = f"""
SELECT p.id FROM photos p JOIN reports r ON r.id = p.report_id
JOIN jurisdictions j ON j.id = r.jurisdiction_id
WHERE r.status IN ('resolved', 'closed')
  AND {_CLOSED_AT} < now() - make_interval(months => coalesce(j.photo_retention_months, :default_months))
ORDER BY p.id LIMIT :batch
"""  # noqa: S608 (constants only)


@dataclass
class RetentionRun:
    reports_anonymised: int = 0
    follows_removed: int = 0
    photos_removed: int = 0
    files_removed: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "reports_anonymised": self.reports_anonymised,
            "follows_removed": self.follows_removed,
            "photos_removed": self.photos_removed,
            "files_removed": len(self.files_removed),
        }


async def anonymise_contacts(
    session: AsyncSession, *, default_days: int, batch: int = 1000
) -> tuple[int, int]:
    """One batch of reports whose contact data are due; (reports, follows removed)."""
    row = (
        await session.execute(
            text(_ANONYMISE.format(due=_DUE_CONTACT)), {"default_days": default_days, "batch": batch}
        )
    ).one()
    return int(row.reports), int(row.follows)


async def remove_photos(
    session: AsyncSession, *, default_months: int, batch: int = 1000
) -> tuple[int, list[str]]:
    """One batch of photos of reports closed long enough: the rows go now; returns the media keys no
    photo refers to any more (files are content-addressed, so one file may serve several rows)."""
    rows = (
        await session.execute(
            text(
                f"DELETE FROM photos WHERE id IN ({_DUE_PHOTOS}) RETURNING storage_key, thumbnail_key"  # noqa: S608
            ),
            {"default_months": default_months, "batch": batch},
        )
    ).all()
    keys = sorted({key for row in rows for key in row})
    if not keys:
        return len(rows), []
    used = set(
        await session.scalars(
            text(
                "SELECT k FROM unnest(CAST(:keys AS text[])) k WHERE EXISTS"
                " (SELECT 1 FROM photos p WHERE p.storage_key = k OR p.thumbnail_key = k)"
            ),
            {"keys": keys},
        )
    )
    return len(rows), [key for key in keys if key not in used]


async def run_retention(
    session: AsyncSession,
    media: MediaStore,
    *,
    default_days: int,
    default_months: int,
    dry_run: bool = False,
    batch: int = 1000,
) -> RetentionRun:
    """Everything that is due, batch after batch. The caller's session is committed after each batch (a
    dry run rolls back instead and deletes no file)."""
    run = RetentionRun(dry_run=dry_run)
    if dry_run:
        batch = 2**31 - 1  # one pass that counts everything, then rolled back
    while True:
        reports, follows = await anonymise_contacts(session, default_days=default_days, batch=batch)
        photos, files = await remove_photos(session, default_months=default_months, batch=batch)
        run.reports_anonymised += reports
        run.follows_removed += follows
        run.photos_removed += photos
        run.files_removed += files
        if dry_run:
            await session.rollback()
            return run
        await session.commit()
        for key in files:  # after the commit: a file goes only once no committed row points at it
            with contextlib.suppress(FileNotFoundError):
                media.path(key).unlink()
        if reports < batch and photos < batch:
            break
    if run.reports_anonymised or run.photos_removed:
        logger.info("retention: %s", run.summary())
    return run


# --------------------------------------------------------------------------------------------------------
# The periods, set per jurisdiction by its administrators


async def jurisdiction_retention(session: AsyncSession, *, jurisdiction_id: int) -> Jurisdiction:
    """The jurisdiction whose retention periods are read or set (``None`` in a period: the default)."""
    return await session.get_one(Jurisdiction, jurisdiction_id)


async def set_retention(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    contact_retention_days: int | None,
    photo_retention_months: int | None,
) -> Jurisdiction:
    jurisdiction = await jurisdiction_retention(session, jurisdiction_id=jurisdiction_id)
    jurisdiction.contact_retention_days = contact_retention_days
    jurisdiction.photo_retention_months = photo_retention_months
    await session.flush()
    return jurisdiction
