"""Request-scoped resources: the unit of work (an ORM session or a plain transaction) and settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from core import throttle
from core.db import PlainTransactions, Reader
from core.settings import Settings
from geo.media import MediaStore

_PLAIN = "runs_on_plain_transaction"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def client_key(request: Request) -> str:
    """The client address a rate limit counts by (:func:`core.throttle.client_key`)."""
    return throttle.client_key(request.client.host if request.client else None)


def on_plain_transaction(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose unit of work is a plain transaction instead of an ORM session (the report
    create, docs/benchmarks.md "create off the ORM session"): its policy and the route itself then work
    on one ``psycopg`` connection of :class:`~core.db.PlainTransactions`, through ``UnitOfWorkDep``."""
    setattr(endpoint, _PLAIN, True)
    return endpoint


async def unit_of_work(request: Request) -> AsyncIterator[Reader]:
    """The request's unit of work, where its policy and its route both work: a plain transaction for a
    route marked :func:`on_plain_transaction`, else an ORM session.

    Committed when the route returns, before the response is sent, and rolled back on any error. Always
    used with function scope (``UnitOfWorkDep``, through ``SessionDep`` too), so the commit happens
    before FastAPI sends the response and a failed commit can never follow a 2xx. The route is known
    from the scope (Starlette puts the matched endpoint there), so the choice does not depend on the
    order in which a route declares its dependencies.
    """
    if getattr(request.scope.get("endpoint"), _PLAIN, False):
        async with plain_transactions(request).transaction() as connection:
            yield connection
        return
    async with request.app.state.sessionmaker() as session:
        request.state.session = session
        try:
            yield session
            # A session that never began (a ballot cast with a code, a cached read) has nothing to
            # commit; skipping it saves ~30 µs of CPU per request (half the cost of an unused session).
            if session.in_transaction():
                await session.commit()
        except BaseException:
            await session.rollback()
            raise


UnitOfWorkDep = Depends(unit_of_work, scope="function")


async def get_session(request: Request, unit: Reader = UnitOfWorkDep) -> AsyncSession:
    """The request's ORM session (its unit of work; see :func:`unit_of_work`)."""
    if not isinstance(unit, AsyncSession):
        raise RuntimeError(f"{request.url.path} runs on a plain transaction; it has no ORM session")
    return unit


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def plain_transactions(request: Request) -> PlainTransactions:
    """Plain connections for the hot paths: a public read takes one in the route and holds it only as
    long as its statements run; a route marked :func:`on_plain_transaction` gets one as its unit of work."""
    transactions: PlainTransactions = request.app.state.plain_transactions
    return transactions


async def get_media(request: Request) -> MediaStore:
    return request.app.state.media


SessionDep = Depends(get_session)
