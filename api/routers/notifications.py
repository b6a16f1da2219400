"""Notifications over HTTP: the inbox, preferences, area alerts, web push, webhooks, dead letters,
template overrides, satisfaction answers, reopen decisions and the closing-the-loop metrics.

Policies: residents manage their own inbox, preferences and subscriptions; administrators the
webhooks, dead letters and templates (they configure where personal data may go); field staff decide
reopen requests of their departments. The metrics are COUNCIL (council members and administrators):
they are aggregate numbers for the council dashboard, and a council member's grant is scoped to an
area, so a member sees the metrics of their own area (and its sub-areas), an administrator all.
Two routes are PUBLIC on purpose and carry a signed token instead of a sign-in: one-click
unsubscribe (RFC 8058: the mail client POSTs without cookies) and answering a satisfaction request
from the link in the mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT, STAFF
from api.deps import SessionDep
from api.idempotency import idempotent
from core.errors import InvalidInput, NotYourArea
from core.identity import Identity
from geo import queries as geo_queries
from geo import service as geo_service
from geo.errors import AreaNotFound
from notifications import metrics, service
from notifications.channels.webpush import application_server_key, load_or_create_vapid
from notifications.errors import InvalidPeriod
from notifications.schemas import (
    AreaSubscriptionCreate,
    AreaSubscriptionRead,
    DeadLetterRead,
    InboxMessageRead,
    LoopMetrics,
    ParticipationLoopMetrics,
    PreferencesUpdate,
    PushSubscriptionCreate,
    PushSubscriptionRead,
    ReopenDecision,
    ReopenRequestRead,
    ReplayResult,
    SatisfactionAnswer,
    SatisfactionAnswered,
    SatisfactionRequestRead,
    TemplateOverrideRead,
    TemplateOverrideWrite,
    UnreadCount,
    Unsubscribed,
    UnsubscribePreview,
    VapidKey,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from notifications.settings import NotificationSettings

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["notifications"])
links = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Id = Annotated[int, Path(ge=1, le=2**62)]
Token = Annotated[str, Path(min_length=10, max_length=1000, pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")]
MAX_PERIOD = timedelta(days=3 * 366)


def notification_settings(request: Request) -> NotificationSettings:
    notifications: NotificationSettings = request.app.state.notification_settings
    return notifications


SettingsDep = Depends(notification_settings)


# ---------------------------------------------------------------------------------------------------
# Inbox


@router.get("/me/inbox", response_model=list[InboxMessageRead], summary="My messages, newest first")
async def inbox(
    jurisdiction: str,
    unread: bool = False,
    before_id: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=50, ge=1, le=200),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    return await service.list_inbox(
        session, account_id=identity.account_id, unread_only=unread, before_id=before_id, limit=limit
    )


@router.get("/me/inbox/unread-count", response_model=UnreadCount, summary="How many messages are unread")
async def inbox_unread_count(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return {"unread": await service.unread_count(session, account_id=identity.account_id)}


@router.post("/me/inbox/{message_id}/read", response_model=InboxMessageRead, summary="Mark one message read")
async def inbox_mark_read(
    jurisdiction: str,
    message_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    return await service.mark_read(session, account_id=identity.account_id, message_id=message_id)


@router.post("/me/inbox/read-all", response_model=UnreadCount, summary="Mark every message read")
async def inbox_mark_all_read(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    await service.mark_all_read(session, account_id=identity.account_id)
    return {"unread": 0}


# ---------------------------------------------------------------------------------------------------
# Preferences and subscriptions


@router.get("/me/notification-preferences", summary="Per kind and channel: on or off (default on)")
async def get_preferences(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> dict[str, dict[str, bool]]:
    return await service.preferences(session, recipient=service.account_key(identity.account_id))


@router.patch("/me/notification-preferences", summary="Switch kinds and channels on or off")
async def update_preferences(
    jurisdiction: str,
    data: PreferencesUpdate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> dict[str, dict[str, bool]]:
    key = service.account_key(identity.account_id)
    for change in data.changes:
        await service.set_preference(
            session, recipient=key, kind=change.kind, channel=change.channel, enabled=change.enabled
        )
    return await service.preferences(session, recipient=key)


@router.get("/me/area-subscriptions", response_model=list[AreaSubscriptionRead], summary="Areas I follow")
async def list_area_subscriptions(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return await service.area_subscriptions(session, account_id=identity.account_id)


@router.put(
    "/me/area-subscriptions",
    response_model=AreaSubscriptionRead,
    summary="Follow new reports in an area, instantly or as a daily digest",
)
async def subscribe_area(
    jurisdiction: str,
    data: AreaSubscriptionCreate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.subscribe_area(
        session,
        jurisdiction_id=found.id,
        account_id=identity.account_id,
        area_id=data.area_id,
        frequency=data.frequency,
    )


@router.delete("/me/area-subscriptions/{area_id}", status_code=204, summary="Stop following an area")
async def unsubscribe_area(
    jurisdiction: str, area_id: Id, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Response:
    await service.unsubscribe_area(session, account_id=identity.account_id, area_id=area_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# Web push


@links.get("/vapid-public-key", response_model=VapidKey, summary="The applicationServerKey for pushManager")
async def vapid_public_key(
    settings: NotificationSettings = SettingsDep, identity: Identity | None = Depends(PUBLIC)
) -> Any:
    return {"public_key": application_server_key(load_or_create_vapid(settings.vapid_private_key_file))}


@router.post(
    "/me/push-subscriptions",
    status_code=201,
    response_model=PushSubscriptionRead,
    summary="Register this device",
)
async def register_push(
    jurisdiction: str,
    data: PushSubscriptionCreate,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    return await service.register_push(
        session,
        settings=settings,
        account_id=identity.account_id,
        endpoint=data.endpoint,
        p256dh=data.keys.p256dh,
        auth=data.keys.auth,
    )


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204, summary="Unregister a device")
async def delete_push(
    jurisdiction: str,
    subscription_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    await service.delete_push(session, account_id=identity.account_id, subscription_id=subscription_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# One-click unsubscribe (RFC 8058) and satisfaction answers by signed link


@links.get(
    "/unsubscribe/{token}",
    response_model=UnsubscribePreview,
    summary="What the unsubscribe link would switch off (no change)",
)
async def unsubscribe_preview(
    token: Token, settings: NotificationSettings = SettingsDep, identity: Identity | None = Depends(PUBLIC)
) -> dict[str, str]:
    """GET never unsubscribes: link scanners in mail filters follow links; RFC 8058 uses POST."""
    _, kind, channel = service.unsubscribe_claims(settings, token)
    return {"kind": kind, "channel": channel, "action": "POST to unsubscribe"}


@links.post("/unsubscribe/{token}", response_model=Unsubscribed, summary="One-click unsubscribe, no sign-in")
async def unsubscribe(
    token: Token,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    done = await service.unsubscribe(session, settings=settings, token=token)
    return {**done, "enabled": False}


@links.get(
    "/satisfaction/{token}", response_model=SatisfactionRequestRead, summary="The question behind a link"
)
async def satisfaction_by_link(
    token: Token,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity | None = Depends(PUBLIC),
) -> Any:
    request_id = service.satisfaction_request_from_token(settings, token)
    return await service.get_satisfaction_request(session, request_id=request_id)


@links.post(
    "/satisfaction/{token}", status_code=201, response_model=SatisfactionAnswered, summary="Answer by link"
)
async def answer_by_link(
    token: Token,
    data: SatisfactionAnswer,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity | None = Depends(PUBLIC),
) -> Any:
    request_id = service.satisfaction_request_from_token(settings, token)
    return await _answer(session, request_id, None, data)


async def _answer(
    session: AsyncSession, request_id: int, account_id: int | None, data: SatisfactionAnswer
) -> dict[str, Any]:
    answered, reopen = await service.answer_satisfaction(
        session,
        request_id=request_id,
        account_id=account_id,
        fixed=data.fixed,
        score=data.score,
        comment=data.comment,
    )
    return {
        "id": answered.id,
        "report_id": answered.report_id,
        "reopen_request_id": reopen.id if reopen else None,
    }


@router.get(
    "/me/satisfaction-requests", response_model=list[SatisfactionRequestRead], summary="Questions asked of me"
)
async def my_satisfaction_requests(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return await service.my_satisfaction_requests(session, account_id=identity.account_id)


@router.post(
    "/satisfaction-requests/{request_id}/answer",
    status_code=201,
    response_model=SatisfactionAnswered,
    summary="Is it fixed? How satisfied are you?",
)
async def answer(
    jurisdiction: str,
    request_id: Id,
    data: SatisfactionAnswer,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    async def produce() -> tuple[int, object, dict[str, str]]:
        return 201, await _answer(session, request_id, identity.account_id, data), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


# ---------------------------------------------------------------------------------------------------
# Reopen requests (staff)


@router.get(
    "/reopen-requests", response_model=list[ReopenRequestRead], summary="Unhappy answers to decide on"
)
async def reopen_requests(
    jurisdiction: str,
    status: str | None = Query(default="pending", pattern="^(pending|accepted|rejected)$"),
    limit: int = Query(default=100, ge=1, le=500),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> list[dict[str, Any]]:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    rows = await service.reopen_requests(
        session, jurisdiction_id=found.id, identity=identity, status=status, limit=limit
    )
    return [
        {
            "id": request.id,
            "report_id": request.report_id,
            "status": request.status,
            "fixed": answer.fixed,
            "score": answer.score,
            "comment": answer.comment,
            "created_at": request.created_at,
            "decided_at": request.decided_at,
            "decision_message": request.decision_message,
        }
        for request, answer in rows
    ]


@router.post(
    "/reopen-requests/{request_id}/decision",
    response_model=ReopenRequestRead,
    summary="Accept (the report is reopened) or reject with a message",
)
async def decide_reopen(
    jurisdiction: str,
    request_id: Id,
    data: ReopenDecision,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> dict[str, Any]:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    decided = await service.decide_reopen(
        session,
        jurisdiction_id=found.id,
        request_id=request_id,
        actor=identity,
        accept=data.accept,
        message=data.message,
    )
    answer = await service.get_satisfaction_request(session, request_id=decided.satisfaction_request_id)
    return {
        "id": decided.id,
        "report_id": decided.report_id,
        "status": decided.status,
        "fixed": answer.fixed,
        "score": answer.score,
        "comment": answer.comment,
        "created_at": decided.created_at,
        "decided_at": decided.decided_at,
        "decision_message": decided.decision_message,
    }


# ---------------------------------------------------------------------------------------------------
# Webhooks, dead letters, templates (administrators)


@router.get("/webhooks", response_model=list[WebhookRead], summary="Webhooks of this municipality")
async def list_webhooks(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.list_webhooks(session, jurisdiction_id=found.id)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Add a webhook")
async def create_webhook(
    jurisdiction: str,
    data: WebhookCreate,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.create_webhook(
        session, settings=settings, jurisdiction_id=found.id, data=data.model_dump()
    )


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, summary="One webhook")
async def read_webhook(
    jurisdiction: str, webhook_id: Id, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.get_webhook(session, jurisdiction_id=found.id, webhook_id=webhook_id)


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead | WebhookCreated,
    summary="Change a webhook (the new secret is shown once, only when rotated)",
)
async def update_webhook(
    jurisdiction: str,
    webhook_id: Id,
    data: WebhookUpdate,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    changes = data.model_dump(exclude_unset=True, exclude={"rotate_secret"})
    if any(value is None for key, value in changes.items() if key != "description"):
        raise InvalidInput("only description may be set to null", code="invalid-null")
    webhook = await service.update_webhook(
        session,
        settings=settings,
        jurisdiction_id=found.id,
        webhook_id=webhook_id,
        changes=changes,
        rotate_secret=data.rotate_secret,
    )
    shape = WebhookCreated if data.rotate_secret else WebhookRead
    return shape.model_validate(webhook, from_attributes=True)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook")
async def delete_webhook(
    jurisdiction: str, webhook_id: Id, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Response:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    await service.delete_webhook(session, jurisdiction_id=found.id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/dead-letters", response_model=list[DeadLetterRead], summary="Deliveries that gave up")
async def dead_letters(
    jurisdiction: str,
    before_id: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=100, ge=1, le=500),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.dead_letters(session, jurisdiction_id=found.id, before_id=before_id, limit=limit)


@router.post(
    "/dead-letters/{delivery_id}/replay", response_model=ReplayResult, summary="Try a dead letter again"
)
async def replay_dead_letter(
    jurisdiction: str,
    delivery_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    delivery = await service.replay(session, jurisdiction_id=found.id, delivery_id=delivery_id)
    return {"id": delivery_id, "replayed": "delivery" if delivery is not None else "fan-out"}


@router.get(
    "/notification-templates",
    response_model=list[TemplateOverrideRead],
    summary="This municipality's wording",
)
async def list_templates(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.list_template_overrides(session, jurisdiction_id=found.id)


@router.put(
    "/notification-templates", response_model=TemplateOverrideRead, summary="Override one template's wording"
)
async def put_template(
    jurisdiction: str,
    data: TemplateOverrideWrite,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await service.put_template_override(
        session,
        jurisdiction_id=found.id,
        topic=data.topic,
        status=data.status,
        category_code=data.category,
        locale=data.locale,
        subject=data.subject,
        body=data.body,
    )


@router.delete(
    "/notification-templates/{override_id}", status_code=204, summary="Back to the default wording"
)
async def delete_template(
    jurisdiction: str,
    override_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Response:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    await service.delete_template_override(session, jurisdiction_id=found.id, override_id=override_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# Closing-the-loop metrics


async def _metrics_scope(
    session: AsyncSession,
    identity: Identity,
    jurisdiction: str,
    start: datetime | None,
    end: datetime | None,
    area_id: int | None,
) -> tuple[int, datetime, datetime]:
    """The jurisdiction id and the checked period, once the caller may see metrics of this area."""
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    end = end or datetime.now(UTC)
    try:
        start = start or end - timedelta(days=30)
    except OverflowError:
        raise InvalidPeriod("the period lies before the calendar begins") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidPeriod("give start and end with a time zone offset")
    if not start < end or end - start > MAX_PERIOD:
        raise InvalidPeriod("the period must be non-empty and at most three years")
    if area_id is not None and not await metrics.area_in_jurisdiction(
        session, area_id=area_id, jurisdiction_id=found.id
    ):
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    if not identity.is_admin_of(found.id):
        if area_id is None or not await geo_queries.area_within(
            session, area_id=area_id, ancestors=identity.council_area_ids
        ):
            raise NotYourArea("council members see the metrics of their own area")
    return found.id, start, end


@router.get("/loop-metrics", response_model=LoopMetrics, summary="Was the loop closed? Per area and category")
async def loop_metrics(
    jurisdiction: str,
    start: datetime | None = Query(default=None, description="default: 30 days before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    category: str | None = Query(default=None, max_length=64),
    group_by: str = Query(
        default="none",
        pattern="^(none|area|category|week|month)$",
        description="week and month: calendar periods in the municipality's time zone (2026-W07, 2026-02)",
    ),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> Any:
    jurisdiction_id, start, end = await _metrics_scope(session, identity, jurisdiction, start, end, area_id)
    if category is not None:
        await geo_service.get_category(session, jurisdiction_id=jurisdiction_id, code=category)
    rows = await metrics.loop_metrics(
        session,
        jurisdiction_id=jurisdiction_id,
        start=start,
        end=end,
        area_id=area_id,
        category=category,
        group_by=group_by,
    )
    return {
        "start": start,
        "end": end,
        "area_id": area_id,
        "category": category,
        "group_by": group_by,
        "rows": rows,
    }


@router.get(
    "/loop-metrics/participation",
    response_model=ParticipationLoopMetrics,
    summary="Were voters and respondents told the outcome? Per area",
)
async def participation_loop_metrics(
    jurisdiction: str,
    start: datetime | None = Query(default=None, description="default: 30 days before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    group_by: str = Query(default="none", pattern="^(none|area)$"),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> Any:
    jurisdiction_id, start, end = await _metrics_scope(session, identity, jurisdiction, start, end, area_id)
    found = await metrics.participation_loop_metrics(
        session, jurisdiction_id=jurisdiction_id, start=start, end=end, area_id=area_id, group_by=group_by
    )
    return {"start": start, "end": end, "area_id": area_id, "group_by": group_by, **found}
