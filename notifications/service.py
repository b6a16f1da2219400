"""The rules of notifications people act on: inbox, preferences, subscriptions, push, webhooks,
dead letters, template overrides, satisfaction answers and reopen decisions. Services flush, never commit.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, InvalidInput
from core.identity import Identity
from core.outbox import record_event
from geo import service as geo_service
from geo.errors import AreaNotFound
from geo.models import Report
from geo.schemas import TransitionCreate
from geo.workflow import Status
from notifications import templates, tokens
from notifications.channels.network import check_url_syntax, resolve
from notifications.errors import (
    AlreadyAnswered,
    AlreadyDecided,
    DeliveryNotFound,
    InboxMessageNotFound,
    NotYetAsked,
    ReopenRequestNotFound,
    SatisfactionRequestNotFound,
    SubscriptionNotFound,
    TemplateOverrideNotFound,
    UnknownTemplate,
    WebhookNotFound,
)
from notifications.events import AreaDigest, ReopenRejected, SatisfactionRequested
from notifications.fanout import HANDLERS
from notifications.models import (
    KINDS,
    AreaSubscription,
    Delivery,
    InboxMessage,
    Preference,
    PushSubscription,
    ReopenRequest,
    SatisfactionRequest,
    TemplateOverride,
    WebhookEndpoint,
)
from notifications.settings import NotificationSettings

USER_CHANNELS = ("email", "push", "inbox")
UNHAPPY_SCORE = 2
"""A score at or below this (out of 5) asks staff to reconsider, like "not fixed" does."""


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


# ---------------------------------------------------------------------------------------------------
# Inbox


async def list_inbox(
    session: AsyncSession, *, account_id: int, unread_only: bool, before_id: int | None, limit: int
) -> list[InboxMessage]:
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


async def mark_read(session: AsyncSession, *, account_id: int, message_id: int) -> InboxMessage:
    message = await session.scalar(
        select(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.account_id == account_id)
    )
    if message is None:
        raise InboxMessageNotFound(f"no message {message_id} in your inbox")
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
        await session.flush()
    return message


async def mark_all_read(session: AsyncSession, *, account_id: int) -> int:
    result = await session.execute(
        update(InboxMessage)
        .where(InboxMessage.account_id == account_id, InboxMessage.read_at.is_(None))
        .values(read_at=func.now())
        .returning(InboxMessage.id)
    )
    return len(result.all())


# ---------------------------------------------------------------------------------------------------
# Preferences and one-click unsubscribe


async def preferences(session: AsyncSession, *, recipient: str) -> dict[str, dict[str, bool]]:
    matrix = {kind: dict.fromkeys(USER_CHANNELS, True) for kind in KINDS}
    for row in await session.scalars(select(Preference).where(Preference.recipient == recipient)):
        matrix[row.kind][row.channel] = row.enabled
    return matrix


async def set_preference(
    session: AsyncSession, *, recipient: str, kind: str, channel: str, enabled: bool
) -> None:
    statement = pg_insert(Preference).values(recipient=recipient, kind=kind, channel=channel, enabled=enabled)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["recipient", "kind", "channel"],
            set_={"enabled": statement.excluded.enabled, "updated_at": func.now()},
        )
    )


def unsubscribe_claims(settings: NotificationSettings, token: str) -> tuple[str, str, str]:
    """(recipient, kind, channel) of a genuine, well-formed unsubscribe link; preview and POST agree."""
    claims = tokens.verify(settings.secret_key.get_secret_value(), "unsubscribe", token)
    recipient, kind, channel = claims.get("r"), claims.get("k"), claims.get("c")
    if not isinstance(recipient, str) or kind not in KINDS or channel not in USER_CHANNELS:
        raise InvalidInput("this unsubscribe link is malformed", code="invalid-link-token")
    return recipient, str(kind), str(channel)


async def unsubscribe(session: AsyncSession, *, settings: NotificationSettings, token: str) -> dict[str, str]:
    """RFC 8058: the POST from the mail client itself, no sign-in; the token says who and what."""
    recipient, kind, channel = unsubscribe_claims(settings, token)
    await set_preference(session, recipient=recipient, kind=kind, channel=channel, enabled=False)
    return {"kind": kind, "channel": channel}


# ---------------------------------------------------------------------------------------------------
# Area alerts


async def subscribe_area(
    session: AsyncSession, *, jurisdiction_id: int, account_id: int, area_id: int, frequency: str
) -> AreaSubscription:
    found = await session.scalar(
        text("SELECT id FROM areas WHERE id = :id AND jurisdiction_id = :j"),
        {"id": area_id, "j": jurisdiction_id},
    )
    if found is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
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
    assert subscription is not None
    return subscription


async def area_subscriptions(session: AsyncSession, *, account_id: int) -> list[AreaSubscription]:
    return list(
        await session.scalars(
            select(AreaSubscription)
            .where(AreaSubscription.account_id == account_id)
            .order_by(AreaSubscription.id)
        )
    )


async def unsubscribe_area(session: AsyncSession, *, account_id: int, area_id: int) -> None:
    result = await session.execute(
        delete(AreaSubscription)
        .where(AreaSubscription.account_id == account_id, AreaSubscription.area_id == area_id)
        .returning(AreaSubscription.id)
    )
    if result.first() is None:
        raise SubscriptionNotFound(f"you do not follow area {area_id}")


# ---------------------------------------------------------------------------------------------------
# Web push subscriptions


def _b64url(value: str, *, length: int, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as error:
        raise InvalidInput(f"keys.{name} is not base64url", code="invalid-push-subscription") from error
    if len(raw) != length:
        raise InvalidInput(f"keys.{name} must be {length} bytes", code="invalid-push-subscription")
    return raw


async def register_push(
    session: AsyncSession,
    *,
    settings: NotificationSettings,
    account_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
) -> PushSubscription:
    """An endpoint is a capability URL the browser gave this device. It is bound to its owner: another
    account may take it over only with the subscription's own keys (the same browser subscription, e.g.
    after signing in to another account on this device); knowing the URL alone is not enough."""
    scheme, _, _ = check_url_syntax(endpoint)
    point = _b64url(p256dh, length=65, name="p256dh")
    try:
        # The encryption of every push to this device needs the point on the curve; checked here,
        # once, instead of failing at each delivery.
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as error:
        raise InvalidInput(
            "keys.p256dh is not a point on the P-256 curve (an uncompressed public key of 65 bytes)",
            code="invalid-push-key",
        ) from error
    _b64url(auth, length=16, name="auth")
    target = await resolve(endpoint, allowlist=settings.network_allowlist)
    if scheme != "https" and not target.allowlisted:
        raise InvalidInput("push endpoints must use https", code="invalid-push-subscription")
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
        raise Conflict(
            "this push endpoint belongs to another account; unsubscribe in the browser and subscribe again",
            code="push-endpoint-taken",
        )
    subscription = await session.scalar(
        select(PushSubscription)
        .where(PushSubscription.endpoint == endpoint)
        .execution_options(populate_existing=True)
    )
    assert subscription is not None
    return subscription


async def delete_push(session: AsyncSession, *, account_id: int, subscription_id: int) -> None:
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.id == subscription_id, PushSubscription.account_id == account_id)
        .returning(PushSubscription.id)
    )
    if result.first() is None:
        raise SubscriptionNotFound(f"no push subscription {subscription_id} of yours")


# ---------------------------------------------------------------------------------------------------
# Webhooks


async def _check_webhook_target(
    settings: NotificationSettings, url: str, allow_private_network: bool
) -> None:
    await resolve(url, allow_private=allow_private_network, allowlist=settings.network_allowlist)


async def create_webhook(
    session: AsyncSession, *, settings: NotificationSettings, jurisdiction_id: int, data: dict[str, Any]
) -> WebhookEndpoint:
    await _check_webhook_target(settings, data["url"], data.get("allow_private_network", False))
    _check_topics(data.get("topics", []))
    webhook = WebhookEndpoint(jurisdiction_id=jurisdiction_id, secret=secrets.token_urlsafe(32), **data)
    session.add(webhook)
    await session.flush()
    return webhook


def _check_topics(topics: list[str]) -> None:
    if unknown := sorted(set(topics) - set(HANDLERS)):
        raise InvalidInput(
            f"unknown topics: {', '.join(unknown)}", code="unknown-topic", allowed=sorted(HANDLERS)
        )


async def get_webhook(session: AsyncSession, *, jurisdiction_id: int, webhook_id: int) -> WebhookEndpoint:
    webhook = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == webhook_id, WebhookEndpoint.jurisdiction_id == jurisdiction_id
        )
    )
    if webhook is None:
        raise WebhookNotFound(f"no webhook {webhook_id} in this jurisdiction")
    return webhook


async def list_webhooks(session: AsyncSession, *, jurisdiction_id: int) -> list[WebhookEndpoint]:
    return list(
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.jurisdiction_id == jurisdiction_id)
            .order_by(WebhookEndpoint.id)
        )
    )


async def update_webhook(
    session: AsyncSession,
    *,
    settings: NotificationSettings,
    jurisdiction_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    webhook = await get_webhook(session, jurisdiction_id=jurisdiction_id, webhook_id=webhook_id)
    if "url" in changes or "allow_private_network" in changes:
        await _check_webhook_target(
            settings,
            changes.get("url", webhook.url),
            changes.get("allow_private_network", webhook.allow_private_network),
        )
    if "topics" in changes:
        _check_topics(changes["topics"])
    for key, value in changes.items():
        setattr(webhook, key, value)
    if rotate_secret:
        webhook.secret = secrets.token_urlsafe(32)
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, *, jurisdiction_id: int, webhook_id: int) -> None:
    webhook = await get_webhook(session, jurisdiction_id=jurisdiction_id, webhook_id=webhook_id)
    await session.delete(webhook)
    await session.flush()


# ---------------------------------------------------------------------------------------------------
# Dead letters


async def dead_letters(
    session: AsyncSession, *, jurisdiction_id: int | None, before_id: int | None, limit: int
) -> list[Delivery]:
    query = select(Delivery).where(Delivery.status == "dead")
    if jurisdiction_id is not None:
        query = query.where(Delivery.jurisdiction_id == jurisdiction_id)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    return list(await session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


async def replay(session: AsyncSession, *, jurisdiction_id: int | None, delivery_id: int) -> Delivery | None:
    """Put a dead letter back in the queue. A failed fan-out is replayed by fanning the event out again
    (its dead-letter row is removed, so the retry can record a new one if it fails again)."""
    query = select(Delivery).where(Delivery.id == delivery_id, Delivery.status == "dead").with_for_update()
    if jurisdiction_id is not None:
        query = query.where(Delivery.jurisdiction_id == jurisdiction_id)
    delivery = await session.scalar(query)
    if delivery is None:
        raise DeliveryNotFound(f"no dead letter {delivery_id}")
    if delivery.channel == "fanout":
        await session.execute(
            text("UPDATE outbox_events SET processed_at = NULL WHERE id = :id"),
            {"id": delivery.outbox_event_id},
        )
        await session.delete(delivery)
        await session.flush()
        return None
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.locked_until = None
    await session.execute(text("SELECT pg_notify('civicloop_deliveries', '')"))
    await session.flush()
    return delivery


# ---------------------------------------------------------------------------------------------------
# Template overrides


async def put_template_override(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    topic: str,
    status: str | None,
    category_code: str | None,
    locale: str,
    subject: str,
    body: str,
) -> TemplateOverride:
    if topic not in templates.template_topics():
        raise UnknownTemplate(f"no template {topic!r}", allowed=sorted(templates.template_topics()))
    if status is not None and (topic != "report.status_changed" or status not in set(Status)):
        raise UnknownTemplate(
            f"no {topic!r} template for status {status!r}", allowed=sorted(s.value for s in Status)
        )
    templates.check_template(subject)
    templates.check_template(body)
    if category_code is not None:
        await geo_service.get_category(session, jurisdiction_id=jurisdiction_id, code=category_code)
    values = {
        "jurisdiction_id": jurisdiction_id,
        "topic": topic,
        "status": status,
        "category_code": category_code,
        "locale": locale,
    }
    override = await session.scalar(select(TemplateOverride).filter_by(**values))
    if override is None:
        override = TemplateOverride(**values, subject=subject, body=body)
        session.add(override)
    else:
        override.subject, override.body, override.updated_at = subject, body, datetime.now(UTC)
    await session.flush()
    return override


async def list_template_overrides(session: AsyncSession, *, jurisdiction_id: int) -> list[TemplateOverride]:
    return list(
        await session.scalars(
            select(TemplateOverride)
            .where(TemplateOverride.jurisdiction_id == jurisdiction_id)
            .order_by(TemplateOverride.id)
        )
    )


async def delete_template_override(session: AsyncSession, *, jurisdiction_id: int, override_id: int) -> None:
    result = await session.execute(
        delete(TemplateOverride)
        .where(TemplateOverride.id == override_id, TemplateOverride.jurisdiction_id == jurisdiction_id)
        .returning(TemplateOverride.id)
    )
    if result.first() is None:
        raise TemplateOverrideNotFound(f"no template override {override_id}")


# ---------------------------------------------------------------------------------------------------
# Satisfaction and reopen requests


async def get_satisfaction_request(
    session: AsyncSession, *, request_id: int, lock: bool = False
) -> SatisfactionRequest:
    query = select(SatisfactionRequest).where(SatisfactionRequest.id == request_id)
    request = await session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise SatisfactionRequestNotFound(f"no satisfaction request {request_id}")
    return request


def satisfaction_request_from_token(settings: NotificationSettings, token: str) -> int:
    claims = tokens.verify(settings.secret_key.get_secret_value(), "satisfaction", token)
    request_id = claims.get("id")
    if not isinstance(request_id, int):
        raise InvalidInput("this link is malformed", code="invalid-link-token")
    return request_id


async def my_satisfaction_requests(session: AsyncSession, *, account_id: int) -> list[SatisfactionRequest]:
    return list(
        await session.scalars(
            select(SatisfactionRequest)
            .where(
                SatisfactionRequest.account_id == account_id,
                SatisfactionRequest.issued_at.is_not(None),
                SatisfactionRequest.cancelled_at.is_(None),
            )
            .order_by(SatisfactionRequest.id.desc())
            .limit(100)
        )
    )


async def answer_satisfaction(
    session: AsyncSession,
    *,
    request_id: int,
    account_id: int | None,
    fixed: bool,
    score: int,
    comment: str | None,
) -> tuple[SatisfactionRequest, ReopenRequest | None]:
    """Answer once. ``account_id`` is the signed-in caller (None when answering by signed link)."""
    request = await get_satisfaction_request(session, request_id=request_id, lock=True)
    if account_id is not None and request.account_id != account_id:
        raise SatisfactionRequestNotFound(f"no satisfaction request {request_id} for you")
    if request.issued_at is None or request.cancelled_at is not None:
        raise NotYetAsked(
            "this question has not been asked (or was withdrawn because the report was reopened)"
        )
    if request.answered_at is not None:
        raise AlreadyAnswered("this question was answered already")
    request.answered_at = datetime.now(UTC)
    request.fixed, request.score, request.comment = fixed, score, comment
    reopen = None
    if not fixed or score <= UNHAPPY_SCORE:
        # The reporter and every "me too" supporter are asked; their unhappy answers are one question
        # for staff (reopen this report?), so they share one pending request. The report's row lock
        # makes two answers at the same moment find each other's request.
        await geo_service.get_report(
            session, jurisdiction_id=request.jurisdiction_id, report_id=request.report_id, lock=True
        )
        reopen = await session.scalar(
            select(ReopenRequest)
            .where(ReopenRequest.report_id == request.report_id, ReopenRequest.status == "pending")
            .order_by(ReopenRequest.id)
            .limit(1)
        )
        if reopen is None:
            reopen = ReopenRequest(
                jurisdiction_id=request.jurisdiction_id,
                report_id=request.report_id,
                satisfaction_request_id=request.id,
                account_id=request.account_id,
                status="pending",
            )
            session.add(reopen)
    await session.flush()
    return request, reopen


async def reopen_requests(
    session: AsyncSession, *, jurisdiction_id: int, identity: Identity, status: str | None, limit: int
) -> list[tuple[ReopenRequest, SatisfactionRequest]]:
    """Staff see the requests of their departments' reports; administrators see all."""
    query = (
        select(ReopenRequest, SatisfactionRequest)
        .join(SatisfactionRequest, SatisfactionRequest.id == ReopenRequest.satisfaction_request_id)
        .where(ReopenRequest.jurisdiction_id == jurisdiction_id)
    )
    if status is not None:
        query = query.where(ReopenRequest.status == status)
    if not identity.is_admin_of(jurisdiction_id):
        query = query.where(
            ReopenRequest.report_id.in_(
                select(Report.id).where(Report.department_id.in_(sorted(identity.department_ids)))
            )
        )
    rows = await session.execute(query.order_by(ReopenRequest.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def decide_reopen(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    request_id: int,
    actor: Identity,
    accept: bool,
    message: str | None,
) -> ReopenRequest:
    request = await session.scalar(
        select(ReopenRequest)
        .where(ReopenRequest.id == request_id, ReopenRequest.jurisdiction_id == jurisdiction_id)
        .with_for_update()
    )
    if request is None:
        raise ReopenRequestNotFound(f"no reopen request {request_id} in this jurisdiction")
    report = await geo_service.get_report(
        session, jurisdiction_id=jurisdiction_id, report_id=request.report_id
    )
    if not actor.is_staff_of(jurisdiction_id, report.department_id):
        raise Forbidden("only staff of this report's department or an administrator may decide")
    if request.status != "pending":
        raise AlreadyDecided(f"this request was {request.status} already")
    if accept and report.status == Status.REOPENED:
        pass  # staff reopened it already; the request is answered by that
    elif accept:
        # Through geo's own workflow: the transition table decides, the followers hear "reopened".
        await geo_service.transition_report(
            session,
            jurisdiction_id=jurisdiction_id,
            report_id=report.id,
            actor=actor,
            data=TransitionCreate(status=Status.REOPENED, public_message=message),
            expected_version=report.version,
        )
    else:
        if not message:
            raise InvalidInput("say why the report stays closed", code="message-required")
        await record_event(
            session,
            jurisdiction_id=jurisdiction_id,
            event=ReopenRejected(
                report_id=report.id,
                reopen_request_id=request.id,
                account_id=request.account_id,
                message=message,
            ),
        )
    request.status = "accepted" if accept else "rejected"
    request.decided_by_account_id = actor.account_id
    request.decided_at = datetime.now(UTC)
    request.decision_message = message
    # Any other request still pending for this report (made before requests were shared) is decided
    # with it: none may stay pending after the report was reopened.
    await session.execute(
        update(ReopenRequest)
        .where(
            ReopenRequest.report_id == report.id,
            ReopenRequest.status == "pending",
            ReopenRequest.id != request.id,
        )
        .values(
            status=request.status,
            decided_by_account_id=actor.account_id,
            decided_at=request.decided_at,
            decision_message=message,
        )
    )
    await session.flush()
    return request


# ---------------------------------------------------------------------------------------------------
# Scheduled work: run by the worker; SKIP LOCKED lets several workers share it


ISSUE_SQL = text("""
WITH due AS (
    SELECT s.id, r.status = 'resolved' AS still_resolved
    FROM satisfaction_requests s JOIN reports r ON r.id = s.report_id
    WHERE s.issued_at IS NULL AND s.cancelled_at IS NULL AND s.due_at <= clock_timestamp()
    ORDER BY s.due_at
    LIMIT :limit
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE satisfaction_requests s
SET issued_at = CASE WHEN due.still_resolved THEN now() END,
    cancelled_at = CASE WHEN due.still_resolved THEN NULL ELSE now() END
FROM due WHERE s.id = due.id
RETURNING s.id, s.jurisdiction_id, s.report_id, s.account_id, due.still_resolved
""")


async def issue_due_satisfaction_requests(session: AsyncSession, *, limit: int = 500) -> int:
    issued = 0
    for row in (await session.execute(ISSUE_SQL, {"limit": limit})).all():
        if not row.still_resolved:
            continue
        await record_event(
            session,
            jurisdiction_id=row.jurisdiction_id,
            event=SatisfactionRequested(
                report_id=row.report_id, satisfaction_request_id=row.id, account_id=row.account_id
            ),
        )
        issued += 1
    return issued


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


async def issue_due_digests(session: AsyncSession, *, interval_seconds: float, limit: int = 500) -> int:
    issued = 0
    for row in (await session.execute(DIGEST_DUE_SQL, {"interval": interval_seconds, "limit": limit})).all():
        report_ids = list(
            await session.scalars(
                DIGEST_REPORTS_SQL,
                {
                    "area_id": row.area_id,
                    "j": row.jurisdiction_id,
                    "since": row.last_digest_at,
                    "account_id": row.account_id,
                },
            )
        )
        if report_ids:
            await record_event(
                session,
                jurisdiction_id=row.jurisdiction_id,
                event=AreaDigest(account_id=row.account_id, area_id=row.area_id, report_ids=report_ids),
            )
            issued += 1
        await session.execute(
            text("UPDATE area_subscriptions SET last_digest_at = now() WHERE id = :id"), {"id": row.id}
        )
    return issued
