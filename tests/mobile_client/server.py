"""The app factory the browser tests' uvicorn process runs: ``create_app`` with settings from the
environment the fixture sets (its own database, port, media folder, SMTP sink)."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings


def app() -> FastAPI:
    return create_app(Settings())
