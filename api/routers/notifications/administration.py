"""A municipality's notification set-up over HTTP (ADMIN: administrators configure where personal
data may go): webhooks, dead letters and template overrides."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN
from api.deps import SessionDep
from api.routers.notifications.common import Id, SettingsDep, router
from core.identity import Identity
from geo import service as geo_service
from notifications import queries, template_overrides, webhooks
from notifications.dead_letters import replay
from notifications.schemas import (
    DeadLetterRead,
    ReplayResult,
    TemplateOverrideRead,
    TemplateOverrideWrite,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from notifications.settings import NotificationSettings

# ---------------------------------------------------------------------------------------------------
# Webhooks


@router.get("/webhooks", response_model=list[WebhookRead], summary="Webhooks of this municipality")
async def list_webhooks(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await queries.webhooks(session, jurisdiction_id=found.id)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Add a webhook")
async def create_webhook(
    jurisdiction: str,
    data: WebhookCreate,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await webhooks.create_webhook(
        session, settings=settings, jurisdiction_id=found.id, data=data.model_dump()
    )


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, summary="One webhook")
async def read_webhook(
    jurisdiction: str, webhook_id: Id, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await webhooks.get_webhook(session, jurisdiction_id=found.id, webhook_id=webhook_id)


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
    webhook = await webhooks.update_webhook(
        session,
        settings=settings,
        jurisdiction_id=found.id,
        webhook_id=webhook_id,
        changes=data.model_dump(exclude_unset=True, exclude={"rotate_secret"}),
        rotate_secret=data.rotate_secret,
    )
    shape = WebhookCreated if data.rotate_secret else WebhookRead
    return shape.model_validate(webhook, from_attributes=True)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook")
async def delete_webhook(
    jurisdiction: str, webhook_id: Id, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Response:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    await webhooks.delete_webhook(session, jurisdiction_id=found.id, webhook_id=webhook_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------
# Dead letters


@router.get("/dead-letters", response_model=list[DeadLetterRead], summary="Deliveries that gave up")
async def dead_letters(
    jurisdiction: str,
    before_id: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=100, ge=1, le=500),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await queries.dead_letters(session, jurisdiction_id=found.id, before_id=before_id, limit=limit)


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
    delivery = await replay(session, jurisdiction_id=found.id, delivery_id=delivery_id)
    return {"id": delivery_id, "replayed": "delivery" if delivery is not None else "fan-out"}


# ---------------------------------------------------------------------------------------------------
# Template overrides


@router.get(
    "/notification-templates",
    response_model=list[TemplateOverrideRead],
    summary="This municipality's wording",
)
async def list_templates(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(ADMIN)
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    return await queries.template_overrides(session, jurisdiction_id=found.id)


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
    return await template_overrides.put_template_override(
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
    await template_overrides.delete_template_override(
        session, jurisdiction_id=found.id, override_id=override_id
    )
    return Response(status_code=204)
