"""The SQL behind what residents and administrators manage: the inbox, preferences, area and push
subscriptions, webhooks, template overrides and dead letters.

Statements only: no rule is decided here. A write that may find nothing says so (``bool``, or ``None``)
and the service that called it raises the domain error. The satisfaction and reopen requests have
their own module (:mod:`notifications.feedback_queries`), the closing-the-loop metrics theirs
(:mod:`notifications.metrics`). The worker's SQL (claiming, recording outcomes) and the fan-out's
(who is told) are not here yet: they stay beside the code that runs them, tuned with it (SKIP LOCKED,
chunked updates, batched inserts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import (
    AreaSubscription,
    Delivery,
    InboxMessage,
    Preference,
    PushSubscription,
    TemplateOverride,
    WebhookEndpoint,
)

# ---------------------------------------------------------------------------------------------------
# Inbox


async def inbox_messages(
    session: AsyncSession, *, account_id: int, unread_only: bool, before_id: int | None, limit: int
) -> list[InboxMessage]:
    """An account's messages, newest first; ``before_id`` pages back."""
    query = select(InboxMessage).where(InboxMessage.account_id == account_id)
    if unread_only:
        query = query.where(InboxMessage.read_at.is_(None))
    if before_id is not None:
        query = query.where(InboxMessage.id < before_id)
    return list(await session.scalars(query.order_by(InboxMessage.id.desc()).limit(limit)))


async def unread_count(session: AsyncSession, *, account_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(InboxMessage.account_id == account_id, InboxMessage.read_at.is_(None))
        )
        or 0
    )


async def inbox_message(session: AsyncSession, *, account_id: int, message_id: int) -> InboxMessage | None:
    """One of this account's messages (another account's is not found)."""
    return await session.scalar(
        select(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.account_id == account_id)
    )


async def mark_all_read(session: AsyncSession, *, account_id: int) -> int:
    result = await session.execute(
        update(InboxMessage)
        .where(InboxMessage.account_id == account_id, InboxMessage.read_at.is_(None))
        .values(read_at=func.now())
        .returning(InboxMessage.id)
    )
    return len(result.all())


# ---------------------------------------------------------------------------------------------------
# Preferences


async def preference_rows(session: AsyncSession, *, recipient: str) -> list[Preference]:
    """The switches a recipient changed; every other kind and channel is on."""
    return list(await session.scalars(select(Preference).where(Preference.recipient == recipient)))


async def upsert_preference(
    session: AsyncSession, *, recipient: str, kind: str, channel: str, enabled: bool
) -> None:
    statement = pg_insert(Preference).values(recipient=recipient, kind=kind, channel=channel, enabled=enabled)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["recipient", "kind", "channel"],
            set_={"enabled": statement.excluded.enabled, "updated_at": func.now()},
        )
    )


# ---------------------------------------------------------------------------------------------------
# Areas (geo's table, read for the area alerts and the metrics' scope)


async def area_in_jurisdiction(session: AsyncSession, *, area_id: int, jurisdiction_id: int) -> bool:
    found = await session.scalar(
        text("SELECT id FROM areas WHERE id = :id AND jurisdiction_id = :j"),
        {"id": area_id, "j": jurisdiction_id},
    )
    return found is not None


# ---------------------------------------------------------------------------------------------------
# Area subscriptions and their daily digests


async def upsert_area_subscription(
    session: AsyncSession, *, account_id: int, area_id: int, frequency: str
) -> AreaSubscription:
    """Follow an area, or change how often; the stored row, fresh from the database."""
    statement = pg_insert(AreaSubscription).values(
        account_id=account_id, area_id=area_id, frequency=frequency
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "area_id"], set_={"frequency": statement.excluded.frequency}
        )
    )
    subscription = await session.scalar(
        select(AreaSubscription)
        .where(AreaSubscription.account_id == account_id, AreaSubscription.area_id == area_id)
        .execution_options(populate_existing=True)
    )
    assert subscription is not None  # written by the statement above, in this transaction
    return subscription


async def area_subscriptions(session: AsyncSession, *, account_id: int) -> list[AreaSubscription]:
    return list(
        await session.scalars(
            select(AreaSubscription)
            .where(AreaSubscription.account_id == account_id)
            .order_by(AreaSubscription.id)
        )
    )


async def delete_area_subscription(session: AsyncSession, *, account_id: int, area_id: int) -> bool:
    result = await session.execute(
        delete(AreaSubscription)
        .where(AreaSubscription.account_id == account_id, AreaSubscription.area_id == area_id)
        .returning(AreaSubscription.id)
    )
    return result.first() is not None


# SKIP LOCKED lets several workers share the digests.
DIGEST_DUE_SQL = text("""
SELECT s.id, s.account_id, s.area_id, s.last_digest_at, a.jurisdiction_id
FROM area_subscriptions s JOIN areas a ON a.id = s.area_id
WHERE s.frequency = 'daily' AND s.last_digest_at <= clock_timestamp() - make_interval(secs => :interval)
ORDER BY s.last_digest_at
LIMIT :limit
FOR UPDATE OF s SKIP LOCKED
""")

DIGEST_REPORTS_SQL = text("""
SELECT r.id FROM reports r, areas a
WHERE a.id = :area_id AND r.jurisdiction_id = :j AND r.is_public AND r.merged_into_id IS NULL
  AND r.created_at > :since AND ST_Intersects(a.geom, r.location)
  AND r.reporter_account_id IS DISTINCT FROM :account_id
ORDER BY r.id
LIMIT 50
""")


async def due_digests(session: AsyncSession, *, interval_seconds: float, limit: int) -> Sequence[Any]:
    """Daily subscriptions whose last digest is ``interval_seconds`` old, locked for this transaction:
    rows of (id, account_id, area_id, last_digest_at, jurisdiction_id)."""
    return (await session.execute(DIGEST_DUE_SQL, {"interval": interval_seconds, "limit": limit})).all()


async def digest_report_ids(
    session: AsyncSession, *, area_id: int, jurisdiction_id: int, since: datetime, account_id: int
) -> list[int]:
    """Public reports new in the area since ``since``, leaving out the subscriber's own."""
    return list(
        await session.scalars(
            DIGEST_REPORTS_SQL,
            {"area_id": area_id, "j": jurisdiction_id, "since": since, "account_id": account_id},
        )
    )


async def mark_digested(session: AsyncSession, *, subscription_id: int) -> None:
    await session.execute(
        text("UPDATE area_subscriptions SET last_digest_at = now() WHERE id = :id"), {"id": subscription_id}
    )


# ---------------------------------------------------------------------------------------------------
# Web push subscriptions


async def upsert_push_subscription(
    session: AsyncSession, *, account_id: int, endpoint: str, p256dh: str, auth: str
) -> PushSubscription | None:
    """Store a device's endpoint, or take it over when it is this account's or the keys are the
    subscription's own. ``None`` when the endpoint stays another account's."""
    statement = pg_insert(PushSubscription).values(
        account_id=account_id, endpoint=endpoint, p256dh=p256dh, auth=auth
    )
    stored = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["endpoint"],
            set_={"account_id": account_id, "p256dh": p256dh, "auth": auth},
            where=(PushSubscription.account_id == account_id)
            | (
                (PushSubscription.auth == statement.excluded.auth)
                & (PushSubscription.p256dh == statement.excluded.p256dh)
            ),
        ).returning(PushSubscription.id)
    )
    if stored.first() is None:
        return None
    return await session.scalar(
        select(PushSubscription)
        .where(PushSubscription.endpoint == endpoint)
        .execution_options(populate_existing=True)
    )


async def delete_push_subscription(session: AsyncSession, *, account_id: int, subscription_id: int) -> bool:
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == subscription_id, PushSubscription.account_id == account_id)
        .returning(PushSubscription.id)
    )
    return result.first() is not None


# ---------------------------------------------------------------------------------------------------
# Webhooks


async def webhook(session: AsyncSession, *, jurisdiction_id: int, webhook_id: int) -> WebhookEndpoint | None:
    return await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == webhook_id, WebhookEndpoint.jurisdiction_id == jurisdiction_id
        )
    )


async def webhooks(session: AsyncSession, *, jurisdiction_id: int) -> list[WebhookEndpoint]:
    return list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.jurisdiction_id == jurisdiction_id)
            .order_by(WebhookEndpoint.id)
        )
    )


# ---------------------------------------------------------------------------------------------------
# Template overrides


async def template_override(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    topic: str,
    status: str | None,
    category_code: str | None,
    locale: str,
) -> TemplateOverride | None:
    """The override of exactly this topic, status, category and locale (``None`` matches only none)."""
    return await session.scalar(
        select(TemplateOverride).filter_by(
            jurisdiction_id=jurisdiction_id,
            topic=topic,
            status=status,
            category_code=category_code,
            locale=locale,
        )
    )


async def template_overrides(session: AsyncSession, *, jurisdiction_id: int) -> list[TemplateOverride]:
    return list(
        await session.scalars(
            select(TemplateOverride)
            .where(TemplateOverride.jurisdiction_id == jurisdiction_id)
            .order_by(TemplateOverride.id)
        )
    )


async def delete_template_override(session: AsyncSession, *, jurisdiction_id: int, override_id: int) -> bool:
    result = await session.execute(
        delete(TemplateOverride)
        .where(TemplateOverride.id == override_id, TemplateOverride.jurisdiction_id == jurisdiction_id)
        .returning(TemplateOverride.id)
    )
    return result.first() is not None


# ---------------------------------------------------------------------------------------------------
# Dead letters


async def dead_letters(
    session: AsyncSession, *, jurisdiction_id: int | None, before_id: int | None, limit: int
) -> list[Delivery]:
    """Deliveries that gave up, newest first; every jurisdiction's when ``jurisdiction_id`` is None."""
    query = select(Delivery).where(Delivery.status == "dead")
    if jurisdiction_id is not None:
        query = query.where(Delivery.jurisdiction_id == jurisdiction_id)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    return list(await session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


async def dead_letter_for_update(
    session: AsyncSession, *, jurisdiction_id: int | None, delivery_id: int
) -> Delivery | None:
    query = select(Delivery).where(Delivery.id == delivery_id, Delivery.status == "dead").with_for_update()
    if jurisdiction_id is not None:
        query = query.where(Delivery.jurisdiction_id == jurisdiction_id)
    return await session.scalar(query)


async def unprocess_outbox_event(session: AsyncSession, *, outbox_event_id: int) -> None:
    """Hand an event back to the fan-out, as if it had never been processed."""
    await session.execute(
        text("UPDATE outbox_events SET processed_at = NULL WHERE id = :id"), {"id": outbox_event_id}
    )


async def wake_delivery_workers(session: AsyncSession) -> None:
    """Tell listening workers there is work (sent when the transaction commits)."""
    await session.execute(text("SELECT pg_notify('civicloop_deliveries', '')"))
