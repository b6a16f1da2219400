"""Fan-out: one outbox event → deliveries, one per recipient × channel.

Topics are handled through a registry (topic → handler) so participation's events plug in without
code here knowing its tables. A handler returns *plans*: who (recipients), what kind of message
(for preferences), which template, and the values to fill it with in each language. Then one
generic step applies preferences, renders per recipient language and writes the delivery rows with
``ON CONFLICT DO NOTHING`` on ``(event_id, recipient, channel)``: fanning out an event twice (a
worker killed before it marked the event processed) writes nothing new.

Participation payload contract (events inserted by ``participation`` with ``core.outbox.record_event``
or, for ``ballot.received``, by the cast's own statement). Every participation event names the people
concerned in ``account_ids`` (``account_id`` is accepted too): participation knows who took part, and
only it knows the whole list (voters, proposal authors, project followers, respondents). There is no
fallback that asks participation's tables here: an event without ids tells nobody.

``round.voting_opened``, ``consultation.opened``
    ``title`` (str or ``{"nl": …, "en": …}``), ``url`` (optional), ``area_id`` (optional: area
    subscribers of that area are told, instant and digest alike), ``account_ids`` (optional, extra).
``ballot.received``, ``response.received``
    ``account_ids`` (the voter / respondent), ``round_id``, ``title`` (optional: looked up by the
    event's aggregate when absent, see :func:`_aggregate_title`). Never the ballot or the response
    itself: the template says only that it was received; and these topics never go to webhooks unless
    an administrator configured the webhook for personal data.
``round.results_published``
    ``account_ids`` (every account that voted, proposal authors, project followers), ``title``,
    ``funded_projects`` (``[{"id", "title", "cost"}]``, listed with a link each), ``message``, ``url``
    (optional; the round's results by default).
``consultation.you_said_we_did``
    ``account_ids`` (every respondent), ``title``, ``summary``, ``actions`` (list of str), ``url``
    (optional; the round's public results by default).
``project.progress``
    ``account_ids`` (the project's followers and its author — not "its supporters": the secret ballot
    makes them unknowable, see ``docs/ballot-secrecy.md``), ``title``, ``status`` (``planned``,
    ``in_progress``, ``completed``, ``cancelled``; older names ``funded``, ``under_construction``,
    ``delivered`` still render), ``message``, ``round_id``, ``project_id``, ``url`` (optional).

Account ids from another jurisdiction than the event's are ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import templates, tokens
from notifications.settings import NotificationSettings

logger = logging.getLogger("civicloop.notifications")

PERSONAL_KEYS = frozenset({"account_id", "account_ids", "email", "reporter_email", "phone", "reporter_phone"})
PERSONAL_TOPICS = frozenset(
    {
        "ballot.received",
        "response.received",
        "report.satisfaction_requested",
        "report.reopen_rejected",
        "alerts.digest",
        "report.supported",
    }
)
USER_CHANNELS = ("inbox", "push", "email")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    event_id: str
    jurisdiction_id: int
    topic: str
    aggregate_type: str
    aggregate_id: int
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    account_id: int | None
    locale: str
    email: str | None

    @property
    def key(self) -> str:
        if self.account_id is not None:
            return f"account:{self.account_id}"
        return email_key(self.email or "")


def email_key(address: str) -> str:
    return "email:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()


Values = Callable[[str], dict[str, object]]


@dataclass
class Plan:
    kind: str
    template: str
    recipients: list[Recipient]
    values: Values
    status: str | None = None
    category: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    transactional: bool = False
    """About the recipient's own account (a link they asked for): e-mail only, whatever the preferences,
    without an unsubscribe footer."""


@dataclass
class Outcome:
    plans: list[Plan]
    webhook_safe: bool = True
    """False for events about non-public reports: only webhooks allowed personal data get them."""


@dataclass
class Context:
    """What one fan-out batch shares: the session, settings and per-batch caches."""

    session: AsyncSession
    settings: NotificationSettings
    jurisdictions: dict[int, Any] = field(default_factory=dict)
    overrides: dict[tuple[int, str], list[templates.Override]] = field(default_factory=dict)
    webhooks: dict[int, list[Any]] = field(default_factory=dict)

    async def jurisdiction(self, jurisdiction_id: int) -> Any:
        if jurisdiction_id not in self.jurisdictions:
            self.jurisdictions[jurisdiction_id] = (
                await self.session.execute(
                    text("SELECT id, slug, name, default_locale FROM jurisdictions WHERE id = :id"),
                    {"id": jurisdiction_id},
                )
            ).one()
        return self.jurisdictions[jurisdiction_id]

    def url(self, path: str) -> str:
        return self.settings.public_base_url.rstrip("/") + path


Handler = Callable[[Context, Event], Awaitable[Outcome]]
HANDLERS: dict[str, Handler] = {}


def handles(*topics: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for topic in topics:
            HANDLERS[topic] = handler
        return handler

    return register


def localized(value: object, locale: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("nl") or value.get("en") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------------
# Recipients

REPORT_SQL = text("""
SELECT r.id, r.jurisdiction_id, r.status, r.is_public, r.reporter_account_id, r.reporter_email,
       r.merged_into_id, c.code AS category_code, c.name AS category_name, a.name AS area_name
FROM reports r
JOIN categories c ON c.id = r.category_id
LEFT JOIN areas a ON a.id = r.area_id
WHERE r.id = :id AND r.jurisdiction_id = :j
""")

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

AREA_SUBSCRIBERS_SQL = text("""
SELECT a.id, a.locale, a.is_anonymous, a.email, false AS is_reporter, NULL AS reporter_email
FROM area_subscriptions s
JOIN areas ar ON ar.id = s.area_id
JOIN accounts a ON a.id = s.account_id
WHERE ar.jurisdiction_id = :j AND s.frequency = 'instant'
  AND ST_Intersects(ar.geom, (SELECT location FROM reports WHERE id = :report_id))
  AND a.id IS DISTINCT FROM :exclude
ORDER BY a.id
""")

AREA_ID_SUBSCRIBERS_SQL = text("""
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


async def _rows_to_recipients(
    ctx: Context, event: Event, sql: Any, params: dict[str, Any]
) -> list[Recipient]:
    jurisdiction = await ctx.jurisdiction(event.jurisdiction_id)
    rows = (await ctx.session.execute(sql, params)).all()
    return [_recipient(row, jurisdiction.default_locale) for row in rows]


async def accounts(
    ctx: Context, event: Event, account_ids: Sequence[object], *, report_id: int | None = None
) -> list[Recipient]:
    ids = sorted({int(i) for i in account_ids if isinstance(i, int) and not isinstance(i, bool)})
    if not ids:
        return []
    return await _rows_to_recipients(
        ctx, event, ACCOUNTS_SQL, {"ids": ids, "j": event.jurisdiction_id, "report_id": report_id}
    )


# ---------------------------------------------------------------------------------------------------
# Reports


async def _report(ctx: Context, event: Event, report_id: object) -> Any:
    if not isinstance(report_id, int) or isinstance(report_id, bool):
        raise ValueError(f"payload.report_id must be an integer, got {report_id!r}")
    row = (await ctx.session.execute(REPORT_SQL, {"id": report_id, "j": event.jurisdiction_id})).first()
    if row is None:
        raise LookupError(f"report {report_id} does not exist in jurisdiction {event.jurisdiction_id}")
    return row


def _report_values(ctx: Context, slug: str, report: Any, extra: dict[str, object] | None = None) -> Values:
    def values(locale: str) -> dict[str, object]:
        return {
            "reference": f"#{report.id}",
            "category": localized(report.category_name, locale),
            "area": report.area_name or "",
            "url": ctx.url(f"/reports/{report.id}"),  # the report's page in the residents' app
            **(extra or {}),
        }

    return values


async def _followers(ctx: Context, event: Event, report_id: int) -> list[Recipient]:
    return await _rows_to_recipients(ctx, event, FOLLOWERS_SQL, {"report_id": report_id})


@handles("report.submitted")
async def report_submitted(ctx: Context, event: Event) -> Outcome:
    report = await _report(ctx, event, event.payload.get("report_id"))
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    reporter = [
        r for r in await _followers(ctx, event, report.id) if r.account_id == report.reporter_account_id
    ]
    data = {"report_id": report.id}
    plans = [
        Plan(
            "report_updates",
            "report.submitted",
            reporter,
            _report_values(ctx, slug, report),
            category=report.category_code,
            data=data,
        )
    ]
    if report.is_public:
        subscribers = await _rows_to_recipients(
            ctx,
            event,
            AREA_SUBSCRIBERS_SQL,
            {"j": event.jurisdiction_id, "report_id": report.id, "exclude": report.reporter_account_id},
        )
        plans.append(
            Plan(
                "area_alerts", "alerts.new_report", subscribers, _report_values(ctx, slug, report), data=data
            )
        )
    return Outcome(plans, webhook_safe=report.is_public)


@handles("report.status_changed")
async def report_status_changed(ctx: Context, event: Event) -> Outcome:
    payload = event.payload
    report = await _report(ctx, event, payload.get("report_id"))
    if payload.get("merged_into_id") is not None:
        return Outcome([], webhook_safe=report.is_public)  # report.merged tells the followers
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    to_status = str(payload.get("to_status") or "")
    photo_id = payload.get("photo_id")
    photo_url = (
        ctx.url(f"/api/v1/jurisdictions/{slug}/reports/{report.id}/photos/{int(photo_id)}")
        if photo_id
        else ""
    )
    base = _report_values(ctx, slug, report)

    def values(locale: str) -> dict[str, object]:
        return {
            **base(locale),
            "status": templates.label(locale, "status", to_status),
            "reason": templates.label(locale, "reason", payload.get("reason")),
            "message": payload.get("public_message") or "",
            "photo_url": photo_url,
        }

    followers = await _followers(ctx, event, report.id)
    if to_status == "resolved":
        await _ask_satisfaction_later(
            ctx, event, report.id, [f.account_id for f in followers if f.account_id]
        )
    elif to_status == "reopened":
        await ctx.session.execute(
            text(
                "UPDATE satisfaction_requests SET cancelled_at = now()"
                " WHERE report_id = :id AND issued_at IS NULL AND cancelled_at IS NULL"
            ),
            {"id": report.id},
        )
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
    due_at = event.created_at + timedelta(seconds=ctx.settings.satisfaction_delay_seconds)
    await ctx.session.execute(
        text("""
            INSERT INTO satisfaction_requests
                (jurisdiction_id, report_id, outbox_event_id, account_id, due_at)
            SELECT :j, :report_id, :event, unnest(CAST(:ids AS bigint[])), :due_at
            ON CONFLICT (outbox_event_id, account_id) DO NOTHING
        """),
        {
            "j": event.jurisdiction_id,
            "report_id": report_id,
            "event": event.id,
            "ids": account_ids,
            "due_at": due_at,
        },
    )


@handles("report.merged")
async def report_merged(ctx: Context, event: Event) -> Outcome:
    duplicate = await _report(ctx, event, event.payload.get("report_id"))
    master = await _report(ctx, event, event.payload.get("merged_into_id"))
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    message = await ctx.session.scalar(
        text(
            "SELECT public_message FROM report_status_changes WHERE report_id = :id AND to_status = 'closed'"
            " ORDER BY id DESC LIMIT 1"
        ),
        {"id": duplicate.id},
    )
    values = _report_values(
        ctx,
        slug,
        duplicate,
        {
            "master_reference": f"#{master.id}",
            "master_url": ctx.url(f"/api/v1/jurisdictions/{slug}/reports/{master.id}"),
            "message": message or "",
        },
    )
    followers = await _followers(ctx, event, duplicate.id)
    data = {"report_id": duplicate.id, "merged_into_id": master.id}
    return Outcome(
        [Plan("report_updates", "report.merged", followers, values, data=data)],
        webhook_safe=duplicate.is_public and master.is_public,
    )


@handles("report.supported")
async def report_supported(ctx: Context, event: Event) -> Outcome:
    report = await _report(ctx, event, event.payload.get("report_id"))
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    supporter = await accounts(ctx, event, [event.payload.get("account_id")], report_id=report.id)
    plan = Plan(
        "report_updates",
        "report.supported",
        supporter,
        _report_values(ctx, slug, report),
        data={"report_id": report.id},
    )
    return Outcome([plan], webhook_safe=report.is_public)


@handles("report.satisfaction_requested")
async def satisfaction_requested(ctx: Context, event: Event) -> Outcome:
    report = await _report(ctx, event, event.payload.get("report_id"))
    request_id = int(event.payload["satisfaction_request_id"])
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    token = tokens.sign(
        ctx.settings.secret_key.get_secret_value(),
        "satisfaction",
        {"id": request_id},
        ttl_seconds=ctx.settings.satisfaction_link_days * 86400,
    )
    # A page of the residents' app: one tap answers it (the API's link route only takes a POST).
    answer_url = ctx.url(f"/feedback/{token}")
    recipients = await accounts(ctx, event, [event.payload.get("account_id")], report_id=report.id)
    values = _report_values(ctx, slug, report, {"satisfaction_url": answer_url})
    data = {"report_id": report.id, "satisfaction_request_id": request_id, "answer_token": token}
    return Outcome([Plan("satisfaction", "report.satisfaction_requested", recipients, values, data=data)])


@handles("report.reopen_rejected")
async def reopen_rejected(ctx: Context, event: Event) -> Outcome:
    report = await _report(ctx, event, event.payload.get("report_id"))
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    recipients = await accounts(ctx, event, [event.payload.get("account_id")], report_id=report.id)
    values = _report_values(ctx, slug, report, {"message": event.payload.get("message") or ""})
    data = {"report_id": report.id, "reopen_request_id": event.payload.get("reopen_request_id")}
    return Outcome([Plan("report_updates", "report.reopen_rejected", recipients, values, data=data)])


@handles("alerts.digest")
async def digest(ctx: Context, event: Event) -> Outcome:
    report_ids = [int(i) for i in event.payload.get("report_ids", [])]
    rows = (
        await ctx.session.execute(
            text("""
                SELECT r.id, c.name AS category_name, r.address FROM reports r
                JOIN categories c ON c.id = r.category_id
                WHERE r.id = ANY(:ids) AND r.jurisdiction_id = :j ORDER BY r.id
            """),
            {"ids": report_ids, "j": event.jurisdiction_id},
        )
    ).all()
    area = await ctx.session.scalar(
        text("SELECT name FROM areas WHERE id = :id"), {"id": event.payload.get("area_id")}
    )
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug

    def values(locale: str) -> dict[str, object]:
        lines = [
            f"- #{row.id} {localized(row.category_name, locale)}"
            + (f", {row.address}" if row.address else "")
            + f": {ctx.url(f'/api/v1/jurisdictions/{slug}/reports/{row.id}')}"
            for row in rows
        ]
        return {"count": len(rows), "area": area or "", "report_list": "\n".join(lines)}

    recipients = await accounts(ctx, event, [event.payload.get("account_id")]) if rows else []
    data = {"area_id": event.payload.get("area_id"), "report_ids": [row.id for row in rows]}
    return Outcome([Plan("area_alerts", "alerts.digest", recipients, values, data=data)])


# ---------------------------------------------------------------------------------------------------
# Participation (events emitted by ``participation``; see the payload contract in the module docstring)

# The one thing notifications reads of participation's tables: a title the event did not carry
# (``ballot.received`` is written on the cast's hot path, whose one query does not read the title).
AGGREGATE_TITLE_SQL = {
    "budget_round": text("SELECT title FROM budget_rounds WHERE id = :id AND jurisdiction_id = :j"),
    "consultation_round": text(
        "SELECT r.title FROM consultation_rounds r JOIN consultations c ON c.id = r.consultation_id"
        " WHERE r.id = :id AND c.jurisdiction_id = :j"
    ),
}


async def _aggregate_title(ctx: Context, event: Event) -> object:
    if event.payload.get("title"):
        return event.payload["title"]
    sql = AGGREGATE_TITLE_SQL.get(event.aggregate_type)
    if sql is None:
        return ""
    title = await ctx.session.scalar(sql, {"id": event.aggregate_id, "j": event.jurisdiction_id})
    return title or ""


def _participation_url(ctx: Context, event: Event, slug: str) -> str:
    """Where the message points when the event names no ``url``: the page of what it is about in the
    residents' app (``?j=`` names the jurisdiction, so the link works on a phone that never opened the app).

    Receipts (``ballot.received``, ``response.received``) point nowhere: they confirm, nothing more."""
    payload = event.payload
    if payload.get("url"):
        return str(payload["url"])
    round_id, project_id = payload.get("round_id"), payload.get("project_id")
    paths = {
        "round.voting_opened": f"/rounds/{event.aggregate_id}/vote",
        "round.results_published": f"/rounds/{event.aggregate_id}/results",
        "project.progress": _project_path(round_id, project_id),
        "consultation.opened": f"/consultation-rounds/{event.aggregate_id}",
        "consultation.you_said_we_did": f"/consultation-rounds/{event.aggregate_id}/results",
    }
    needs = {"project.progress": (round_id, project_id)}
    if event.topic not in paths or not all(
        isinstance(value, int) and not isinstance(value, bool) for value in needs.get(event.topic, ())
    ):
        return ""
    return app_url(ctx, paths[event.topic], slug)


def _project_path(round_id: object, project_id: object) -> str:
    return f"/rounds/{round_id}/projects/{project_id}"


def app_url(ctx: Context, path: str, slug: str) -> str:
    return ctx.url(f"{path}?{urlencode({'j': slug})}")


@handles(
    "round.voting_opened",
    "ballot.received",
    "round.results_published",
    "project.progress",
    "consultation.opened",
    "response.received",
    "consultation.you_said_we_did",
)
async def participation(ctx: Context, event: Event) -> Outcome:
    payload = event.payload
    ids: list[object] = list(payload.get("account_ids") or [])
    if payload.get("account_id") is not None:
        ids.append(payload["account_id"])
    recipients = await accounts(ctx, event, ids)
    if event.topic in ("round.voting_opened", "consultation.opened") and isinstance(
        payload.get("area_id"), int
    ):
        known = {r.account_id for r in recipients}
        recipients += [
            r
            for r in await _rows_to_recipients(
                ctx,
                event,
                AREA_ID_SUBSCRIBERS_SQL,
                {"area_id": payload["area_id"], "j": event.jurisdiction_id},
            )
            if r.account_id not in known
        ]
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    title = await _aggregate_title(ctx, event)
    url = _participation_url(ctx, event, slug)
    status = payload.get("status") if event.topic == "project.progress" else None
    round_id = payload.get("round_id")
    # Funded projects are listed with their page, where a resident can follow one to hear of its progress.
    projects = [
        (
            p.get("title"),
            app_url(ctx, _project_path(round_id, p["id"]), slug)
            if isinstance(p.get("id"), int) and isinstance(round_id, int)
            else "",
        )
        for p in payload.get("funded_projects") or []
        if isinstance(p, dict)
    ]
    actions = [a for a in payload.get("actions") or [] if isinstance(a, str | dict)]

    def values(locale: str) -> dict[str, object]:
        project_lines = [
            f"- {localized(project_title, locale)}" + (f": {link}" if link else "")
            for project_title, link in projects
        ]
        if project_lines:
            project_lines.insert(0, templates.label(locale, "participation", "funded_projects"))
        return {
            "title": localized(title, locale),
            "url": url,
            "message": localized(payload.get("message") or payload.get("summary"), locale),
            "status": templates.label(locale, "progress", str(status)) if status else "",
            "projects": "\n".join(project_lines),
            "actions": "\n".join(f"- {localized(action, locale)}" for action in actions),
        }

    data = {k: payload[k] for k in ("round_id", "project_id", "consultation_id") if k in payload}
    if url:
        data["url"] = url
    return Outcome([Plan("participation", event.topic, recipients, values, data=data)])


# ---------------------------------------------------------------------------------------------------
# From plans to delivery rows


async def _preferences(ctx: Context, keys: list[str]) -> dict[tuple[str, str, str], bool]:
    if not keys:
        return {}
    rows = await ctx.session.execute(
        text(
            "SELECT recipient, kind, channel, enabled FROM notification_preferences"
            " WHERE recipient = ANY(:keys)"
        ),
        {"keys": keys},
    )
    return {(row.recipient, row.kind, row.channel): row.enabled for row in rows}


async def _overrides(ctx: Context, jurisdiction_id: int, topic: str) -> list[templates.Override]:
    key = (jurisdiction_id, topic)
    if key not in ctx.overrides:
        rows = await ctx.session.execute(
            text(
                "SELECT status, category_code, locale, subject, body FROM notification_template_overrides"
                " WHERE jurisdiction_id = :j AND topic = :topic"
            ),
            {"j": jurisdiction_id, "topic": topic},
        )
        ctx.overrides[key] = [templates.Override(*row) for row in rows]
    return ctx.overrides[key]


async def _webhooks(ctx: Context, jurisdiction_id: int) -> list[Any]:
    if jurisdiction_id not in ctx.webhooks:
        ctx.webhooks[jurisdiction_id] = list(
            (
                await ctx.session.execute(
                    text(
                        "SELECT id, url, topics, include_personal_data FROM webhook_endpoints"
                        " WHERE jurisdiction_id = :j AND is_active ORDER BY id"
                    ),
                    {"j": jurisdiction_id},
                )
            ).all()
        )
    return ctx.webhooks[jurisdiction_id]


def unsubscribe_token(settings: NotificationSettings, recipient_key: str, kind: str, channel: str) -> str:
    return tokens.sign(
        settings.secret_key.get_secret_value(), "unsubscribe", {"r": recipient_key, "k": kind, "c": channel}
    )


def unsubscribe_url(settings: NotificationSettings, recipient_key: str, kind: str, channel: str) -> str:
    """The RFC 8058 one-click URL for the ``List-Unsubscribe`` header: the mail client POSTs to it."""
    token = unsubscribe_token(settings, recipient_key, kind, channel)
    return settings.public_base_url.rstrip("/") + f"/api/v1/notifications/unsubscribe/{token}"


def unsubscribe_page(settings: NotificationSettings, token: str) -> str:
    """The link in the mail's text: a page of the residents' app that unsubscribes in one tap."""
    return settings.public_base_url.rstrip("/") + f"/unsubscribe/{token}"


def webhook_body(event: Event, slug: str, *, include_personal_data: bool) -> dict[str, Any]:
    data = dict(event.payload)
    if not include_personal_data:
        data = {k: v for k, v in data.items() if k not in PERSONAL_KEYS}
    return {
        "event_id": event.event_id,
        "topic": event.topic,
        "occurred_at": event.created_at.isoformat(),
        "jurisdiction": slug,
        "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id},
        "data": data,
    }


async def plan_deliveries(ctx: Context, event: Event) -> list[dict[str, Any]]:
    """The delivery rows for one event (not yet written). Unknown topics have none."""
    handler = HANDLERS.get(event.topic)
    outcome = await handler(ctx, event) if handler else Outcome([])
    jurisdiction = await ctx.jurisdiction(event.jurisdiction_id)
    rows: list[dict[str, Any]] = []

    def row(channel: str, recipient: str, **values: Any) -> None:
        rows.append(
            {
                "event_id": event.event_id,
                "outbox_event_id": event.id,
                "jurisdiction_id": event.jurisdiction_id,
                "topic": event.topic,
                "recipient": recipient,
                "channel": channel,
                "account_id": None,
                "address": None,
                "subject": "",
                "body": "",
                **values,
            }
        )

    all_recipients = [r for plan in outcome.plans for r in plan.recipients]
    preferences = await _preferences(ctx, sorted({r.key for r in all_recipients}))
    account_ids = sorted({r.account_id for r in all_recipients if r.account_id is not None})
    subscriptions: dict[int, list[Any]] = {}
    if account_ids:
        for sub in await ctx.session.execute(
            text(
                "SELECT id, account_id, endpoint FROM push_subscriptions"
                " WHERE account_id = ANY(:ids) ORDER BY id"
            ),
            {"ids": account_ids},
        ):
            subscriptions.setdefault(sub.account_id, []).append(sub)
    for plan in outcome.plans:
        overrides = await _overrides(ctx, event.jurisdiction_id, plan.template)
        rendered: dict[str, templates.Rendered] = {}
        for recipient in plan.recipients:
            key = recipient.key
            if recipient.locale not in rendered:
                rendered[recipient.locale] = templates.render(
                    topic=plan.template,
                    locale=recipient.locale,
                    values=plan.values(recipient.locale),
                    status=plan.status,
                    category=plan.category,
                    overrides=overrides,
                )
            message = rendered[recipient.locale]

            def allowed(channel: str, key: str = key, kind: str = plan.kind) -> bool:
                return preferences.get((key, kind, channel), True)

            common = {
                "kind": plan.kind,
                "account_id": recipient.account_id,
                "locale": recipient.locale,
                "subject": message.subject,
                "body": message.body,
            }
            if plan.transactional:
                if recipient.email:
                    row("email", key, **common, address=recipient.email, data=plan.data)
                continue
            if recipient.account_id is not None and allowed("inbox"):
                row("inbox", key, **common, data=plan.data)
            if recipient.account_id is not None and allowed("push"):
                for sub in subscriptions.get(recipient.account_id, []):
                    row(
                        "push",
                        f"{key}:push:{sub.id}",
                        **common,
                        address=sub.endpoint,
                        data={**plan.data, "subscription_id": sub.id},
                    )
            if recipient.email and allowed("email"):
                token = unsubscribe_token(ctx.settings, key, plan.kind, "email")
                base = ctx.settings.public_base_url.rstrip("/")
                footer = templates.substitute(
                    templates.label(recipient.locale, "email", "unsubscribe_footer"),
                    {"url": unsubscribe_page(ctx.settings, token)},
                )
                row(
                    "email",
                    key,
                    **(common | {"body": f"{message.body}\n\n-- \n{footer}"}),
                    address=recipient.email,
                    data={
                        **plan.data,
                        "unsubscribe_url": f"{base}/api/v1/notifications/unsubscribe/{token}",
                    },
                )
    for webhook in await _webhooks(ctx, event.jurisdiction_id):
        if webhook.topics and event.topic not in webhook.topics:
            continue
        if not webhook.include_personal_data and (event.topic in PERSONAL_TOPICS or not outcome.webhook_safe):
            continue
        body = webhook_body(event, jurisdiction.slug, include_personal_data=webhook.include_personal_data)
        row(
            "webhook",
            f"webhook:{webhook.id}",
            kind="webhook",
            locale=jurisdiction.default_locale,
            address=webhook.url,
            data={"webhook_id": webhook.id, "body": body},
        )
    return rows


INSERT_DELIVERY_SQL = text("""
INSERT INTO notification_deliveries
    (event_id, outbox_event_id, jurisdiction_id, topic, kind, recipient, account_id, channel, locale,
     address, subject, body, data, status, attempts, last_error)
VALUES (:event_id, :outbox_event_id, :jurisdiction_id, :topic, :kind, :recipient, :account_id, :channel,
        :locale, :address, :subject, :body, CAST(:data AS jsonb), :status, 0, :last_error)
ON CONFLICT (event_id, recipient, channel) DO NOTHING
""")


async def write_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(
            INSERT_DELIVERY_SQL,
            [
                {
                    **row,
                    "data": json.dumps(row["data"], default=str),
                    "status": row.get("status", "pending"),
                    "last_error": row.get("last_error"),
                }
                for row in rows
            ],
        )


# Handlers in modules of their own register themselves on import.
from notifications import account_mail  # noqa: E402, F401
