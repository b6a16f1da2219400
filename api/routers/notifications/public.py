"""The PUBLIC notification routes, under ``/api/v1/notifications``: the web push key, and the two
signed links that carry a token instead of a sign-in: one-click unsubscribe (RFC 8058: the mail
client POSTs without cookies) and answering a satisfaction request from the link in the mail. The
token is the only authority: a genuine link names no jurisdiction and needs none."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC
from api.deps import SessionDep
from api.routers.notifications.common import SettingsDep, Token, links
from api.routers.notifications.feedback import answer_satisfaction
from core.identity import Identity
from notifications import feedback, preferences
from notifications.channels.webpush import application_server_key, load_or_create_vapid
from notifications.schemas import (
    SatisfactionAnswer,
    SatisfactionAnswered,
    SatisfactionRequestRead,
    Unsubscribed,
    UnsubscribePreview,
    VapidKey,
)
from notifications.settings import NotificationSettings


@links.get("/vapid-public-key", response_model=VapidKey, summary="The applicationServerKey for pushManager")
async def vapid_public_key(
    settings: NotificationSettings = SettingsDep, identity: Identity | None = Depends(PUBLIC)
) -> Any:
    return {"public_key": application_server_key(load_or_create_vapid(settings.vapid_private_key_file))}


@links.get(
    "/unsubscribe/{token}",
    response_model=UnsubscribePreview,
    summary="What the unsubscribe link would switch off (no change)",
)
async def unsubscribe_preview(
    token: Token, settings: NotificationSettings = SettingsDep, identity: Identity | None = Depends(PUBLIC)
) -> dict[str, str]:
    """GET never unsubscribes: link scanners in mail filters follow links; RFC 8058 uses POST."""
    _, kind, channel = preferences.unsubscribe_claims(settings, token)
    return {"kind": kind, "channel": channel, "action": "POST to unsubscribe"}


@links.post("/unsubscribe/{token}", response_model=Unsubscribed, summary="One-click unsubscribe, no sign-in")
async def unsubscribe(
    token: Token,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    kind, channel = await preferences.unsubscribe(session, settings=settings, token=token)
    return {"kind": kind, "channel": channel, "enabled": False}


@links.get(
    "/satisfaction/{token}", response_model=SatisfactionRequestRead, summary="The question behind a link"
)
async def satisfaction_by_link(
    token: Token,
    session: AsyncSession = SessionDep,
    settings: NotificationSettings = SettingsDep,
    identity: Identity | None = Depends(PUBLIC),
) -> Any:
    request_id = feedback.satisfaction_request_from_token(settings, token)
    return await feedback.get_satisfaction_request(session, request_id=request_id)


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
    request_id = feedback.satisfaction_request_from_token(settings, token)
    return await answer_satisfaction(session, request_id, None, data)
