"""What participation keeps for the life of a process: the server's participation keys, the casts' pool,
and the ballot mixer with its own pool. Built once with the app, opened and closed by its lifespan.

Two shapes, chosen by what the app's sessions are bound to:

- an engine (``civicloop serve``, and the tests whose requests really commit): casts take a plain psycopg
  connection from a pool of their own, and the mixer writes its batches on autocommit connections of
  *its* own (not the casts': they wait for it while holding theirs), as ``docs/ballot-secrecy.md``
  describes;
- one connection (the tests that roll back): a pool of its own would not see the test's transaction, so
  casts use the request session's connection and the mixer writes through sessions of that connection.
  Nothing is opened then, and an app whose lifespan never runs works the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import driver_connection, sync_url
from core.settings import Settings
from participation.ballot_store import BallotMixer, connection_pool, session_source
from participation.electorate import ParticipationKeys


def bound_engine(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The engine the app's sessions are bound to; ``None`` when they run on a caller's connection."""
    bind = sessionmaker.kw.get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


@dataclass(slots=True)
class ParticipationResources:
    keys: ParticipationKeys
    """Derived from the server's secret: voting codes, voter keys, ballot ids and the ballot cipher."""
    mixer: BallotMixer
    """One per process: every ballot of this process goes through it (``participation.ballot_store``)."""
    cast_pool: AsyncConnectionPool | None = None
    """The casts' plain psycopg connections; ``None``: casts use the request session's connection."""
    mixer_pool: AsyncConnectionPool | None = None
    """The mixer's own autocommit connections (two: it writes one batch at a time)."""

    @classmethod
    def build(
        cls, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession] | None
    ) -> ParticipationResources:
        """``sessionmaker``: the app's, when the caller gives one (tests); ``None`` for an app that makes
        its own engine from ``settings.database_url``. The pools are made closed: :meth:`opened` opens
        them in the event loop that uses them."""
        keys = ParticipationKeys.from_secret(settings.secret_key.get_secret_value())
        if sessionmaker is not None and bound_engine(sessionmaker) is None:
            return cls(keys=keys, mixer=BallotMixer(session_source(sessionmaker)))
        conninfo = sync_url(settings.database_url or "")
        # Sized like the request pool: a cast holds its connection while its ballot waits for a batch, so
        # as many casts as the request pool allows can be in flight without queueing for a connection.
        cast_pool = connection_pool(conninfo, min_size=2, max_size=2 * settings.db_pool_size)
        mixer_pool = connection_pool(conninfo, min_size=1, max_size=2, autocommit=True)
        return cls(
            keys=keys, mixer=BallotMixer(mixer_pool.connection), cast_pool=cast_pool, mixer_pool=mixer_pool
        )

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[ParticipationResources]:
        """Open the pools for the app's lifespan, and close them when it ends."""
        pools = [pool for pool in (self.cast_pool, self.mixer_pool) if pool is not None]
        try:
            for pool in pools:
                await pool.open()
            yield self
        finally:
            for pool in pools:
                await pool.close()

    @asynccontextmanager
    async def cast_connection(self, session: AsyncSession) -> AsyncIterator[AsyncConnection[Any]]:
        """A cast's unit of work: the request session's own connection when it already holds one (a bearer
        token was resolved through it; the session commits), else one of the casts' pool (committed on
        leaving, before the response): a ballot cast with a letter's code touches no session at all."""
        if self.cast_pool is None or session.in_transaction():
            yield await driver_connection(session)
            return
        async with self.cast_pool.connection() as connection:
            yield connection
