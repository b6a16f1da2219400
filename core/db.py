"""Declarative base, engine and session factory.

Services receive an ``AsyncSession`` and only flush; the unit of work (an HTTP request, a CLI
command, a job) commits. The naming convention keeps alembic revisions stable.
"""

from __future__ import annotations

import re
import select
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
import sqlalchemy.exc
from psycopg.rows import namedtuple_row, tuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Connections are kept, never opened per burst: an overflow connection is closed after each use,
    and a new one costs a connect, fresh prepared statements and ~2 ms of CPU.

    A kept connection may have died with its server (a restart, a failover, an administrator's
    ``pg_terminate_backend``). Each checkout looks whether the server has hung up on it — without a
    round trip, see :func:`server_hung_up` — and the pool then replaces it, so a request after a
    database restart gets a fresh connection instead of a dead one. ``pool_pre_ping`` would do the same
    with a ``SELECT 1`` per checkout: a round trip per request on the hot read paths, for a case the
    socket already tells us about.
    """
    engine = create_async_engine(
        url, pool_size=2 * pool_size, max_overflow=0, pool_timeout=10, pool_pre_ping=False
    )
    event.listen(engine.sync_engine, "checkout", _refuse_dead_connection)
    return engine


def server_hung_up(connection: psycopg.AsyncConnection[Any]) -> bool:
    """True when an idle connection can no longer be used: closed, or its socket readable.

    An idle connection is readable only when the server said something unasked, and what it says
    unasked is, in practice, "terminating connection" (a fast or immediate shutdown, a terminated
    backend) followed by closing the socket. A false alarm (an asynchronous notice) costs one reconnect.
    """
    if connection.closed or connection.broken:
        return True
    try:
        # poll, not select: select() cannot watch descriptors above 1023, which a busy process has.
        poller = select.poll()
        poller.register(connection.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.OperationalError):
        return True


def _refuse_dead_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, psycopg.AsyncConnection) and server_hung_up(driver):
        # The pool invalidates this connection and checks out (connects) another one.
        raise sqlalchemy.exc.DisconnectionError("the server closed this pooled connection")


async def check_pooled_connection(connection: psycopg.AsyncConnection[Any]) -> None:
    """``check`` for psycopg_pool pools: the same look at the socket, no round trip."""
    if server_hung_up(connection):
        raise psycopg.OperationalError("the server closed this pooled connection")


# SQLSTATE classes and codes after which the same work succeeds once the server is back or less busy:
# connection exceptions (08), transaction rollbacks (40: serialization failure, deadlock), insufficient
# resources (53: too many connections, disk full) and the server shutting down or starting (57P01-03).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53")
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_transient_database_error(error: BaseException) -> bool:
    """A failure of the database connection or the server's state, not of the statement or its data.

    The API answers these with 503 and ``Retry-After``; the notifications worker retries the whole
    batch later instead of dead-lettering an innocent event. Anything else (a constraint, a bad value,
    a query cancelled by a timeout) is about the work itself.
    """
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original: BaseException | None = error.orig
    elif isinstance(error, sqlalchemy.exc.TimeoutError | sqlalchemy.exc.DisconnectionError):
        return True  # no connection free in the pool in time / none could be made
    else:
        original = error
    if isinstance(original, psycopg.InterfaceError):
        return True
    if isinstance(original, psycopg.OperationalError):
        state = original.sqlstate
        return state is None or state[:2] in _TRANSIENT_SQLSTATE_CLASSES or state in _TRANSIENT_SQLSTATES
    return isinstance(original, ConnectionError | TimeoutError)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


def sync_url(url: str) -> str:
    """The same database for a plain psycopg connection (alembic, the CLI's bulk loads)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def psycopg_sql(sql: str) -> str:
    """SQL written with ``:name`` parameters (as for ``text()``) in psycopg's ``%(name)s`` style."""
    if "%" in sql:
        raise ValueError("escape % as %% before converting")
    return _NAMED_PARAMETER.sub(r"%(\1)s", sql)


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session's transaction, for the hottest read and write paths.

    Statements sent here are part of the session's unit of work (same transaction, same commit), but
    skip SQLAlchemy's per-statement machinery: on a 2-core box that machinery costs more CPU than
    the query itself for the small, hand-written statements of the map and report lists.
    """
    transaction = session.get_transaction()
    cached = session.info.get("driver_connection")
    # Valid only within the transaction it was taken in: after a commit the pool may hand the
    # connection to another request.
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cast("psycopg.AsyncConnection[Any]", cached[1])
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    session.info["driver_connection"] = (session.get_transaction(), raw.driver_connection)
    return cast("psycopg.AsyncConnection[Any]", raw.driver_connection)


Reader = AsyncSession | psycopg.AsyncConnection[Any]
"""Where a hand-written statement runs: a request's session (inside its unit of work) or a plain
psycopg connection of :class:`PlainTransactions` (a public read, or a hot write: no session at all)."""


async def _driver(source: Reader) -> psycopg.AsyncConnection[Any]:
    return source if isinstance(source, psycopg.AsyncConnection) else await driver_connection(source)


async def fetch_all(source: Reader, sql: str, params: dict[str, Any]) -> list[Any]:
    """Rows as named tuples; ``sql`` in psycopg style (see :func:`psycopg_sql`)."""
    driver = await _driver(source)
    async with driver.cursor(row_factory=namedtuple_row) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall()


async def fetch_one(source: Reader, sql: str, params: dict[str, Any]) -> Any | None:
    driver = await _driver(source)
    async with driver.cursor(row_factory=namedtuple_row) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchone()


async def fetch_tuple(source: Reader, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """One row as a plain tuple, for the look-ups every request makes (its jurisdiction, a category id,
    a JSON answer PostgreSQL built): no named-tuple class to make per statement and no cursor context
    to enter and leave, ~12k instructions less each (docs/benchmarks.md, "issue 13: the last 10%"). A
    client-side cursor holds nothing on the server, so it is left to the garbage collector unclosed."""
    driver = await _driver(source)
    cursor = await driver.cursor(row_factory=tuple_row).execute(sql, params)
    return await cursor.fetchone()


async def fetch_value(source: Reader, sql: str, params: dict[str, Any]) -> Any | None:
    row = await fetch_tuple(source, sql, params)
    return None if row is None else row[0]


async def execute(source: Reader, sql: str, params: dict[str, Any]) -> int:
    """A statement that returns no rows; the number of rows it touched."""
    driver = await _driver(source)
    async with driver.cursor() as cursor:
        await cursor.execute(sql, params)
        return cursor.rowcount


class PlainTransactions:
    """Plain psycopg connections, each taken for one transaction, for the hot paths of
    docs/benchmarks.md: the public reads (the report list, the near-list, the duplicate check) and the
    report create (identity, rate limit, idempotency key and submission in one transaction). No ORM
    session, no SQLAlchemy pool, no greenlet bridge.

    An ``AsyncSession`` per request (begin, pool checkout through SQLAlchemy, commit, check-in) cost
    these requests about as much CPU as their statements (docs/benchmarks.md, "issue 13: profile").
    The app opens a ``psycopg_pool`` pool in its lifespan (:meth:`open`), sized like the engine's.
    Without one, an app built on a caller's sessionmaker (the tests, whose transaction is rolled back)
    works through a session of that sessionmaker, so it sees, and writes into, the caller's transaction.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._pool: AsyncConnectionPool[Any] | None = None

    async def open(self, url: str, *, pool_size: int) -> None:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            sync_url(url),
            min_size=pool_size,
            max_size=2 * pool_size,  # as make_engine's pool: kept connections, none opened per burst
            open=False,
            timeout=10,
            check=check_pooled_connection,  # a connection the server ended is replaced when taken
        )
        await pool.open()
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def transaction(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A connection in a transaction of its own: committed on the way out, rolled back on an error.

        With a pool, that is what ``psycopg_pool``'s own context manager does; it is handed out as it is
        (no wrapper of ours around it: on the report create every layer is paid per request).
        """
        if self._pool is not None:
            return self._pool.connection()
        if self._sessionmaker is None:
            raise RuntimeError("PlainTransactions has neither a pool (open it) nor a sessionmaker")
        return self._session_transaction(self._sessionmaker)

    @staticmethod
    @asynccontextmanager
    async def _session_transaction(
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with sessionmaker() as session:
            try:
                yield await driver_connection(session)
                if session.in_transaction():
                    await session.commit()
            except BaseException:
                await session.rollback()
                raise
