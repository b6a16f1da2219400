"""What the notification routes share: the two routers every module adds its routes to, path
parameters and the notification settings dependency.

One router per prefix, shared by the modules, not a router per module included in these: FastAPI
(>= 0.160) includes routers lazily, and a router included in a router stays a nested branch that the
route walk of the role-matrix tests (``tests/api/test_route_policies.py``) does not expand. The app
keeps mounting exactly these two, as it did when they were one module."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from notifications.settings import NotificationSettings

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["notifications"])
"""The routes under a jurisdiction."""
links = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
"""The PUBLIC routes that name no jurisdiction: the web push key and the signed links."""

Id = Annotated[int, Path(ge=1, le=2**62)]
Token = Annotated[str, Path(min_length=10, max_length=1000, pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")]
"""A signed link's token: payload and signature, each base64url."""


async def notification_settings(request: Request) -> NotificationSettings:
    notifications: NotificationSettings = request.app.state.notification_settings
    return notifications


SettingsDep = Depends(notification_settings)
