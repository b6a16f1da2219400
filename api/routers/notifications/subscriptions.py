"""What a resident chooses to hear about, over HTTP (RESIDENT: their own only): the preferences per
kind and channel, the areas they follow and the devices that receive web push."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import RESIDENT
from api.deps import SessionDep
from api.routers.notifications.common import Id, SettingsDep, router
from core.identity import Identity
from geo import service as geo_service
from notifications import preferences, queries, subscriptions
from notifications.schemas import (
    AreaSubscriptionCreate,
    AreaSubscriptionRead,
    PreferencesUpdate,
    PushSubscriptionCreate,
    PushSubscriptionRead,
)
from notifications.settings import NotificationSettings


@router.get("/me/notification-preferences", summary="Per kind and channel: on or off (default on)")
async def get_preferences(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> dict[str, dict[str, bool]]:
    return await preferences.preferences(session, recipient=preferences.account_key(identity.account_id))


@router.patch("/me/notification-preferences", summary="Switch kinds and channels on or off")
async def update_preferences(
    jurisdiction: str,
    data: PreferencesUpdate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> dict[str, dict[str, bool]]:
    return await preferences.change_preferences(
        session,
        recipient=preferences.account_key(identity.account_id),
        changes=[(change.kind, change.channel, change.enabled) for change in data.changes],
    )


@router.get("/me/area-subscriptions", response_model=list[AreaSubscriptionRead], summary="Areas I follow")
async def list_area_subscriptions(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return await queries.area_subscriptions(session, account_id=identity.account_id)


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
    return await subscriptions.subscribe_area(
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
    await subscriptions.unsubscribe_area(session, account_id=identity.account_id, area_id=area_id)
    return Response(status_code=204)


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
    return await subscriptions.register_push(
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
    await subscriptions.delete_push(session, account_id=identity.account_id, subscription_id=subscription_id)
    return Response(status_code=204)
