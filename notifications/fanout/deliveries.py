"""From a handler's plans to delivery rows: preferences, rendering per recipient language, one row per
recipient × channel, and the webhooks. Rows are written with ``ON CONFLICT DO NOTHING`` on
``(event_id, recipient, channel)``: fanning out an event twice (a worker killed before it marked the
event processed) writes nothing new."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import AppPage
from notifications import links, templates, tokens
from notifications.fanout.base import HANDLERS, Context, Event, Outcome
from notifications.settings import NotificationSettings

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
"""Never to webhooks unless an administrator configured the webhook for personal data."""
USER_CHANNELS = ("inbox", "push", "email")


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
    return links.public_url(settings.public_base_url, links.API_UNSUBSCRIBE, token=token)


def unsubscribe_page(settings: NotificationSettings, token: str) -> str:
    """The link in the mail's text: a page of the residents' app that unsubscribes in one tap."""
    return links.public_url(settings.public_base_url, AppPage.UNSUBSCRIBE, token=token)


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
                        "unsubscribe_url": ctx.url(links.API_UNSUBSCRIBE, token=token),
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
