"""Area alerts: the daily digest of new public reports in an area (``notifications.events.AreaDigest``).
The instant alert of one new report is part of ``report.submitted`` (``reports``)."""

from __future__ import annotations

from sqlalchemy import text

from notifications import links
from notifications.events import AreaDigest
from notifications.fanout import recipients
from notifications.fanout.base import Context, Event, Outcome, Plan, handles, localized

DIGEST_REPORTS_SQL = text("""
SELECT r.id, c.name AS category_name, r.address FROM reports r
JOIN categories c ON c.id = r.category_id
WHERE r.id = ANY(:ids) AND r.jurisdiction_id = :j ORDER BY r.id
""")


@handles(AreaDigest.topic)
async def digest(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, AreaDigest)
    rows = (
        await ctx.session.execute(DIGEST_REPORTS_SQL, {"ids": payload.report_ids, "j": event.jurisdiction_id})
    ).all()
    area = await ctx.session.scalar(text("SELECT name FROM areas WHERE id = :id"), {"id": payload.area_id})

    def values(locale: str) -> dict[str, object]:
        lines = [
            f"- #{row.id} {localized(row.category_name, locale)}"
            + (f", {row.address}" if row.address else "")
            + f": {ctx.url(links.AppPage.REPORT, report_id=row.id)}"
            for row in rows
        ]
        return {"count": len(rows), "area": area or "", "report_list": "\n".join(lines)}

    told = await recipients.accounts(ctx, event, [payload.account_id]) if rows else []
    data = {"area_id": payload.area_id, "report_ids": [row.id for row in rows]}
    return Outcome([Plan("area_alerts", "alerts.digest", told, values, data=data)])
