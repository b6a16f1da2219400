"""The app factory the browser tests' uvicorn process runs: ``create_app`` with settings from the
environment the fixture sets (its own database, port, media folder, SMTP sink). The notifications
worker looks for due work every second instead of every 30 s, so "is it fixed?" is asked at once."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from notifications.settings import NotificationSettings


def app() -> FastAPI:
    settings = Settings()
    built = create_app(settings)
    built.state.notification_settings = NotificationSettings.from_settings(
        settings, worker_schedule_seconds=1.0, worker_poll_seconds=0.5
    )
    return built
