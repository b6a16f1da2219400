"""The app factory the browser tests' uvicorn process runs: ``create_app`` with settings from the
environment the fixture sets (its own database, port, media folder, SMTP sink). The notifications
worker looks for due work every second instead of every 30 s, so "is it fixed?" is asked at once."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings


def app() -> FastAPI:
    return create_app(Settings(worker_schedule_seconds=1.0, worker_poll_seconds=0.5))
