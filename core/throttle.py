"""Rate limits kept in PostgreSQL, so every process of a deployment counts together.

A fixed window per key (``device-registrations:203.0.113.7``, ``device-writes:42``, ``sign-in:…``): one
upsert counts the hit and returns the count; past the limit the caller gets 429 ``too-many-requests``
with ``Retry-After`` (the end of the window). The counter is written in the caller's transaction: a
request that fails leaves no hit behind, and the row lock it holds makes concurrent hits of one key
count one after the other. Old windows are deleted by the clock of ``civicloop serve``.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import Integer, PrimaryKeyConstraint, Text, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Reader, fetch_value, psycopg_sql
from core.errors import TooManyRequests
from core.settings import Settings


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(Text)
    window_start: Mapped[datetime]
    window_seconds: Mapped[int] = mapped_column(Integer)
    hits: Mapped[int] = mapped_column(Integer)

    __table_args__ = (PrimaryKeyConstraint("key", "window_start"),)


# Sent on a plain psycopg connection or under a session (core.db.fetch_value): the device write limit
# is checked in the report create's plain transaction (docs/benchmarks.md, "create off the ORM session").
HIT_SQL = (
    "INSERT INTO rate_limit_counters (key, window_start, window_seconds, hits)"
    " VALUES (:key, to_timestamp(:start), :seconds, 1)"
    " ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1"
    " RETURNING hits"
)
HITS_SQL = "SELECT hits FROM rate_limit_counters WHERE key = :key AND window_start = to_timestamp(:start)"
_HIT = psycopg_sql(HIT_SQL)
_HITS = psycopg_sql(HITS_SQL)


def _window(window_seconds: int) -> tuple[float, int]:
    now = time.time()
    return now, math.floor(now / window_seconds) * window_seconds


def _refuse(
    what: str, now: float, start: int, window_seconds: int, error: type[TooManyRequests]
) -> TooManyRequests:
    retry_after = max(1, math.ceil(start + window_seconds - now))
    return error(f"too many {what}; try again in {retry_after} seconds", retry_after=retry_after)


async def record(source: Reader, *, key: str, window_seconds: int) -> int:
    """Count one hit of ``key`` in the current window; the window's count."""
    _, start = _window(window_seconds)
    return int(await fetch_value(source, _HIT, {"key": key, "start": start, "seconds": window_seconds}) or 0)


async def hit(
    source: Reader,
    *,
    key: str,
    limit: int,
    window_seconds: int,
    what: str,
    error: type[TooManyRequests] = TooManyRequests,
) -> None:
    """Count one hit of ``key``; raise :class:`TooManyRequests` once the window holds more than ``limit``."""
    now, start = _window(window_seconds)
    hits = await fetch_value(source, _HIT, {"key": key, "start": start, "seconds": window_seconds})
    if hits is not None and hits > limit:
        raise _refuse(what, now, start, window_seconds, error)


async def hit_per_hour(source: Reader, settings: Settings, *, key: str, limit: int, what: str) -> None:
    """:func:`hit` in an hour's window, unless the deployment turned rate limits off
    (``CIVICLOOP_RATE_LIMITS``): the API's hourly limits (device registrations and writes, account
    e-mails, Open311 service requests) all count this way."""
    if settings.rate_limits:
        await hit(source, key=key, limit=limit, window_seconds=3600, what=what)


async def check(
    source: Reader,
    *,
    key: str,
    limit: int,
    window_seconds: int,
    what: str,
    error: type[TooManyRequests] = TooManyRequests,
) -> None:
    """Raise :class:`TooManyRequests` if ``key`` already has ``limit`` hits in the window (counts nothing)."""
    now, start = _window(window_seconds)
    found = await fetch_value(source, _HITS, {"key": key, "start": start})
    if int(found or 0) >= limit:
        raise _refuse(what, now, start, window_seconds, error)


@asynccontextmanager
async def counting_failures(
    session: AsyncSession,
    *,
    limits: Sequence[tuple[str, int]],
    window_seconds: int,
    what: str,
    failures: tuple[type[BaseException], ...],
    error: type[TooManyRequests] = TooManyRequests,
    checked_on: Reader | None = None,
) -> AsyncIterator[None]:
    """Around an attempt that guessing could abuse (a sign-in, a voting code): refuse when any key's window
    already holds its limit of failures, the right answer included (otherwise the refusal would still
    answer the question), and count one failure on every key when the attempt raises one of ``failures``.

    The check reads on ``checked_on`` (the request's session by default: a cast checks on its own plain
    connection); the failure is recorded on ``session`` and committed, so it counts although the request
    fails (the caller's work must not have written anything by then)."""
    for key, limit in limits:
        await check(
            session if checked_on is None else checked_on,
            key=key,
            limit=limit,
            window_seconds=window_seconds,
            what=what,
            error=error,
        )
    try:
        yield
    except failures:
        if limits:
            for key, _limit in limits:
                await record(session, key=key, window_seconds=window_seconds)
            await session.commit()
        raise


async def forget(session: AsyncSession, *, key: str) -> None:
    await session.execute(text("DELETE FROM rate_limit_counters WHERE key = :key"), {"key": key})


def client_key(host: str | None) -> str:
    """The address a limit counts by: an IPv4 address, or the /64 of an IPv6 one (one host gets a whole
    /64). Behind a proxy this is the proxy's address unless uvicorn trusts its ``X-Forwarded-For``
    (``FORWARDED_ALLOW_IPS``, see the README)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def purge(session: AsyncSession) -> int:
    result = await session.execute(
        text(
            "DELETE FROM rate_limit_counters"
            " WHERE window_start + make_interval(secs => window_seconds) < now()"
        )
    )
    # AsyncSession.execute is typed Result; a DELETE gives a CursorResult, which has rowcount.
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
