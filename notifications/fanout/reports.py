"""Report events (``geo.events``) and the report messages ``notifications`` schedules itself
(``notifications.events``): the reporter, the followers, the area's subscribers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from geo.events import ReportMerged, ReportStatusChanged, ReportSubmitted, ReportSupported
from notifications import links, templates, tokens
from notifications.events import ReopenRejected, SatisfactionRequested
from notifications.fanout import recipients
from notifications.fanout.base import Context, Event, Outcome, Plan, Values, handles, localized

REPORT_SQL = text("""
SELECT r.id, r.jurisdiction_id, r.status, r.is_public, r.reporter_account_id, r.reporter_email,
       r.merged_into_id, c.code AS category_code, c.name AS category_name, a.name AS area_name
FROM reports r
JOIN categories c ON c.id = r.category_id
LEFT JOIN areas a ON a.id = r.area_id
WHERE r.id = :id AND r.jurisdiction_id = :j
""")

CLOSING_MESSAGE_SQL = text(
    "SELECT public_message FROM report_status_changes WHERE report_id = :id AND to_status = 'closed'"
    " ORDER BY id DESC LIMIT 1"
)

ASK_SATISFACTION_SQL = text("""
INSERT INTO satisfaction_requests (jurisdiction_id, report_id, outbox_event_id, account_id, due_at)
SELECT :j, :report_id, :event, unnest(CAST(:ids AS bigint[])), :due_at
ON CONFLICT (outbox_event_id, account_id) DO NOTHING
""")

CANCEL_SATISFACTION_SQL = text(
    "UPDATE satisfaction_requests SET cancelled_at = now()"
    " WHERE report_id = :id AND issued_at IS NULL AND cancelled_at IS NULL"
)


async def _report(ctx: Context, event: Event, report_id: int) -> Any:
    row = (await ctx.session.execute(REPORT_SQL, {"id": report_id, "j": event.jurisdiction_id})).first()
    if row is None:
        raise LookupError(f"report {report_id} does not exist in jurisdiction {event.jurisdiction_id}")
    return row


def _report_values(ctx: Context, report: Any, extra: dict[str, object] | None = None) -> Values:
    def values(locale: str) -> dict[str, object]:
        return {
            "reference": f"#{report.id}",
            "category": localized(report.category_name, locale),
            "area": report.area_name or "",
            "url": links.report_page(ctx.settings.public_base_url, report.id),
            **(extra or {}),
        }

    return values


@handles(ReportSubmitted.topic)
async def report_submitted(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, ReportSubmitted)
    report = await _report(ctx, event, payload.report_id)
    reporter = [
        r
        for r in await recipients.followers(ctx, event, report.id)
        if r.account_id == report.reporter_account_id
    ]
    data = {"report_id": report.id}
    plans = [
        Plan(
            "report_updates",
            "report.submitted",
            reporter,
            _report_values(ctx, report),
            category=report.category_code,
            data=data,
        )
    ]
    if report.is_public:
        subscribers = await recipients.report_area_subscribers(
            ctx, event, report.id, exclude=report.reporter_account_id
        )
        plans.append(
            Plan("area_alerts", "alerts.new_report", subscribers, _report_values(ctx, report), data=data)
        )
    return Outcome(plans, webhook_safe=report.is_public)


@handles(ReportStatusChanged.topic)
async def report_status_changed(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, ReportStatusChanged)
    report = await _report(ctx, event, payload.report_id)
    if payload.merged_into_id is not None:
        return Outcome([], webhook_safe=report.is_public)  # report.merged tells the followers
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    to_status = payload.to_status
    photo_url = (
        ctx.url(links.API_REPORT_PHOTO, slug=slug, report_id=report.id, photo_id=payload.photo_id)
        if payload.photo_id
        else ""
    )
    base = _report_values(ctx, report)

    def values(locale: str) -> dict[str, object]:
        return {
            **base(locale),
            "status": templates.label(locale, "status", to_status),
            "reason": templates.label(locale, "reason", payload.reason),
            "message": payload.public_message or "",
            "photo_url": photo_url,
        }

    followers = await recipients.followers(ctx, event, report.id)
    if to_status == "resolved":
        await _ask_satisfaction_later(
            ctx, event, report.id, [f.account_id for f in followers if f.account_id]
        )
    elif to_status == "reopened":
        await ctx.session.execute(CANCEL_SATISFACTION_SQL, {"id": report.id})
    data = {"report_id": report.id, "status": to_status, **({"photo_url": photo_url} if photo_url else {})}
    plan = Plan(
        "report_updates",
        "report.status_changed",
        followers,
        values,
        status=to_status,
        category=report.category_code,
        data=data,
    )
    return Outcome([plan], webhook_safe=report.is_public)


async def _ask_satisfaction_later(ctx: Context, event: Event, report_id: int, account_ids: list[int]) -> None:
    if not account_ids:
        return
    await ctx.session.execute(
        ASK_SATISFACTION_SQL,
        {
            "j": event.jurisdiction_id,
            "report_id": report_id,
            "event": event.id,
            "ids": account_ids,
            "due_at": event.created_at + timedelta(seconds=ctx.settings.satisfaction_delay_seconds),
        },
    )


@handles(ReportMerged.topic)
async def report_merged(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, ReportMerged)
    duplicate = await _report(ctx, event, payload.report_id)
    master = await _report(ctx, event, payload.merged_into_id)
    message = await ctx.session.scalar(CLOSING_MESSAGE_SQL, {"id": duplicate.id})
    values = _report_values(
        ctx,
        duplicate,
        {
            "master_reference": f"#{master.id}",
            "master_url": ctx.url(links.AppPage.REPORT, report_id=master.id),  # the app's page, not JSON
            "message": message or "",
        },
    )
    followers = await recipients.followers(ctx, event, duplicate.id)
    data = {"report_id": duplicate.id, "merged_into_id": master.id}
    return Outcome(
        [Plan("report_updates", "report.merged", followers, values, data=data)],
        webhook_safe=duplicate.is_public and master.is_public,
    )


@handles(ReportSupported.topic)
async def report_supported(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, ReportSupported)
    report = await _report(ctx, event, payload.report_id)
    supporter = await recipients.accounts(ctx, event, [payload.account_id], report_id=report.id)
    plan = Plan(
        "report_updates",
        "report.supported",
        supporter,
        _report_values(ctx, report),
        data={"report_id": report.id},
    )
    return Outcome([plan], webhook_safe=report.is_public)


@handles(SatisfactionRequested.topic)
async def satisfaction_requested(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, SatisfactionRequested)
    report = await _report(ctx, event, payload.report_id)
    request_id = payload.satisfaction_request_id
    token = tokens.sign(
        ctx.settings.secret_key.get_secret_value(),
        "satisfaction",
        {"id": request_id},
        ttl_seconds=ctx.settings.satisfaction_link_days * 86400,
    )
    # A page of the residents' app: one tap answers it (the API's link route only takes a POST).
    answer_url = ctx.url(links.AppPage.FEEDBACK, token=token)
    told = await recipients.accounts(ctx, event, [payload.account_id], report_id=report.id)
    values = _report_values(ctx, report, {"satisfaction_url": answer_url})
    data = {"report_id": report.id, "satisfaction_request_id": request_id, "answer_token": token}
    return Outcome([Plan("satisfaction", "report.satisfaction_requested", told, values, data=data)])


@handles(ReopenRejected.topic)
async def reopen_rejected(ctx: Context, event: Event) -> Outcome:
    payload = await ctx.payload(event, ReopenRejected)
    report = await _report(ctx, event, payload.report_id)
    told = await recipients.accounts(ctx, event, [payload.account_id], report_id=report.id)
    values = _report_values(ctx, report, {"message": payload.message or ""})
    data = {"report_id": report.id, "reopen_request_id": payload.reopen_request_id}
    return Outcome([Plan("report_updates", "report.reopen_rejected", told, values, data=data)])
