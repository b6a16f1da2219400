"""Who is told: accounts by id, a report's followers, the subscribers of an area.

Account ids from another jurisdiction than the event's are ignored. A reporter is mailed at the address
they gave with the report, and only about that report; an anonymous account has no address."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from notifications.fanout.base import Context, Event, Recipient

FOLLOWERS_SQL = text("""
SELECT a.id, a.locale, a.is_anonymous, a.email, a.id = r.reporter_account_id AS is_reporter, r.reporter_email
FROM report_followers f
JOIN accounts a ON a.id = f.account_id
JOIN reports r ON r.id = f.report_id
WHERE f.report_id = :report_id
ORDER BY a.id
""")

ACCOUNTS_SQL = text("""
SELECT a.id, a.locale, a.is_anonymous, a.email,
       coalesce(a.id = r.reporter_account_id, false) AS is_reporter, r.reporter_email
FROM accounts a
LEFT JOIN reports r ON r.id = :report_id
WHERE a.id = ANY(:ids) AND a.jurisdiction_id = :j
ORDER BY a.id
""")

REPORT_AREA_SUBSCRIBERS_SQL = text("""
SELECT a.id, a.locale, a.is_anonymous, a.email, false AS is_reporter, NULL AS reporter_email
FROM area_subscriptions s
JOIN areas ar ON ar.id = s.area_id
JOIN accounts a ON a.id = s.account_id
WHERE ar.jurisdiction_id = :j AND s.frequency = 'instant'
  AND ST_Intersects(ar.geom, (SELECT location FROM reports WHERE id = :report_id))
  AND a.id IS DISTINCT FROM :exclude
ORDER BY a.id
""")

AREA_SUBSCRIBERS_SQL = text("""
SELECT DISTINCT a.id, a.locale, a.is_anonymous, a.email, false AS is_reporter, NULL AS reporter_email
FROM area_subscriptions s
JOIN accounts a ON a.id = s.account_id
WHERE s.area_id IN (
    WITH RECURSIVE up AS (
        SELECT id, parent_id FROM areas WHERE id = :area_id AND jurisdiction_id = :j
        UNION ALL SELECT p.id, p.parent_id FROM areas p JOIN up ON p.id = up.parent_id
    ) SELECT id FROM up)
ORDER BY a.id
""")


def _recipient(row: Any, default_locale: str) -> Recipient:
    email = None
    if row.is_reporter and row.reporter_email:
        email = row.reporter_email  # the address the reporter gave with this report, and only for it
    elif not row.is_anonymous and row.email:
        email = row.email
    return Recipient(account_id=row.id, locale=row.locale or default_locale, email=email)


async def _query(ctx: Context, event: Event, sql: Any, params: dict[str, Any]) -> list[Recipient]:
    jurisdiction = await ctx.jurisdiction(event.jurisdiction_id)
    rows = (await ctx.session.execute(sql, params)).all()
    return [_recipient(row, jurisdiction.default_locale) for row in rows]


async def accounts(
    ctx: Context, event: Event, account_ids: Sequence[int | None], *, report_id: int | None = None
) -> list[Recipient]:
    ids = sorted({i for i in account_ids if i is not None})
    if not ids:
        return []
    return await _query(
        ctx, event, ACCOUNTS_SQL, {"ids": ids, "j": event.jurisdiction_id, "report_id": report_id}
    )


async def followers(ctx: Context, event: Event, report_id: int) -> list[Recipient]:
    return await _query(ctx, event, FOLLOWERS_SQL, {"report_id": report_id})


async def report_area_subscribers(
    ctx: Context, event: Event, report_id: int, *, exclude: int | None
) -> list[Recipient]:
    """Instant subscribers of the areas that contain the report's place."""
    return await _query(
        ctx,
        event,
        REPORT_AREA_SUBSCRIBERS_SQL,
        {"j": event.jurisdiction_id, "report_id": report_id, "exclude": exclude},
    )


async def area_subscribers(ctx: Context, event: Event, area_id: int) -> list[Recipient]:
    """Subscribers of the area and of the areas containing it, instant and digest alike."""
    return await _query(ctx, event, AREA_SUBSCRIBERS_SQL, {"area_id": area_id, "j": event.jurisdiction_id})
