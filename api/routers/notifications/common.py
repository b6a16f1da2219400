"""What the notification routes share: path parameters and the notification settings dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from notifications.settings import NotificationSettings

Id = Annotated[int, Path(ge=1, le=2**62)]
Token = Annotated[str, Path(min_length=10, max_length=1000, pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")]
"""A signed link's token: payload and signature, each base64url."""


def notification_settings(request: Request) -> NotificationSettings:
    notifications: NotificationSettings = request.app.state.notification_settings
    return notifications


SettingsDep = Depends(notification_settings)
