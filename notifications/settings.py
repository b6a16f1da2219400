"""The notification settings: the ``notifications`` section of ``core.settings.Settings``.

Declared once, in ``core.settings`` (the one settings model, which the README's table is generated
from); the notifications package receives ``settings.notifications`` and never the whole application
settings. Tests and the worker may build a section on their own.
"""

from __future__ import annotations

from core.settings import NotificationSettings

__all__ = ["NotificationSettings"]
