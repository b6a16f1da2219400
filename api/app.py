"""The FastAPI application: the composition root that wires every package together."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import health, mobile_app, openapi_errors, problems
from api.clock import clock
from api.middleware import BodyGuard
from api.open311.router import router as open311_router
from api.routers import (
    auth,
    budget_rounds,
    consultations,
    council,
    council_votes,
    jurisdictions,
    message_templates,
    paper_ballots,
    privacy,
    proposals,
    reports,
    staff,
    taking_part,
    voting,
)
from api.routers import map as map_routes
from api.routers import notifications as notification_routes
from core import log_redaction
from core.db import PlainTransactions, make_engine, make_sessionmaker, sync_url
from core.settings import Settings
from geo.media import MediaStore
from notifications.worker import running_in_background
from participation.resources import ParticipationResources

API_DESCRIPTION = """
civicloop closes the loop between a municipality and its residents: residents report problems in
public space, field staff act on them, and everyone hears back what was done.

Errors are RFC 9457 `application/problem+json` with a stable `code`. Writes accept an
`Idempotency-Key` header; staff updates need the version they read (`If-Match`).
"""


def create_app(
    settings: Settings, *, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> FastAPI:
    """Build the app. Tests pass a ``sessionmaker`` bound to their rolled-back transaction."""
    # The participation keys, the casts' pool and the ballot mixer: made here, opened by the lifespan.
    participation_resources = ParticipationResources.build(settings, sessionmaker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if sessionmaker is None:
            if not settings.database_url:
                raise RuntimeError("DATABASE_URL is not set (civicloop serve provisions a local database)")
            engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
            app.state.sessionmaker = make_sessionmaker(engine)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(participation_resources.opened())
            if engine is not None and settings.database_url:
                plain_transactions = PlainTransactions()
                await plain_transactions.open(settings.database_url, pool_size=settings.db_pool_size)
                stack.push_async_callback(plain_transactions.close)
                app.state.plain_transactions = plain_transactions
            if settings.notifications.run_worker and sessionmaker is None and settings.database_url:
                # The notifications worker runs next to the API (``civicloop worker run`` runs it alone).
                background = await stack.enter_async_context(
                    running_in_background(
                        app.state.sessionmaker,
                        app.state.notification_settings,
                        listen_url=sync_url(settings.database_url),
                        concurrency=settings.notifications.worker_concurrency,
                    )
                )
                app.state.worker_health = background.health  # reported by /readyz
                assert engine is not None
                await stack.enter_async_context(clock(engine, settings))
            if sessionmaker is None:
                # What start-up made (routes, models, schemas, pools) lives as long as the process: out
                # of the collector's reach, a full collection no longer walks it in the middle of a
                # request (docs/benchmarks.md, "where the p99 tail comes from").
                gc.collect()
                gc.freeze()
                stack.callback(gc.unfreeze)
            yield
        if engine is not None:
            await engine.dispose()

    # /docs is served by mobile_app with Swagger UI from this server (no CDN: it works offline).
    app = FastAPI(
        title="civicloop",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    log_redaction.install()  # keys and tokens never reach a log line (also under another server)
    app.state.settings = settings
    app.state.media = MediaStore(settings.media_dir)
    # The section the routes and the worker use; tests put one of their own here.
    app.state.notification_settings = settings.notifications
    if sessionmaker is not None:
        app.state.sessionmaker = sessionmaker
        app.state.plain_transactions = PlainTransactions(sessionmaker)  # the caller's transaction
    app.state.participation = participation_resources
    problems.install(app)
    # Routes are matched in order, at a few µs of Python each (FastAPI walks every route of each included
    # router): the residents' report routes, the hottest, come first. No route of a later router
    # matches one of their paths (the app's catch-all comes last), so the order changes no answer.
    # They are the app's own routes, not an included router: FastAPI (0.165) matches a request to an
    # included router twice (once to pick the router, once inside it), which cost the duplicate check
    # 8% of its instructions (docs/benchmarks.md, "issue 13: the last 10%"). The router sets its
    # prefix and tags on each route itself. One thing an include would add is missing: these routes do
    # not see ``app.dependency_overrides`` (they were built without the app as their provider); nothing
    # overrides dependencies here, the tests run the production path.
    app.router.routes.extend(reports.router.routes)
    for module in (
        auth,
        jurisdictions,
        staff,
        message_templates,
        council,
        map_routes,
        budget_rounds,
        proposals,
        voting,
        paper_ballots,
        council_votes,
        consultations,
        taking_part,
        privacy,
    ):
        app.include_router(module.router)
    app.include_router(open311_router)
    app.include_router(notification_routes.router)
    app.include_router(notification_routes.links)
    app.include_router(health.router)
    openapi_errors.install(app)
    app.add_middleware(
        BodyGuard, max_json_bytes=256 * 1024, max_upload_bytes=settings.max_photo_bytes + 64 * 1024
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Last: its catch-all answers the app's client-side routes.
    mobile_app.install(app, reload=settings.environment == "development")
    return app
