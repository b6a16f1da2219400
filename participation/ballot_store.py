"""Where ballots are written, sealed and read: the mixing writer, the seal at the close, the vacuum after it.

Ballots are never written by the request that casts them (see ``docs/ballot-secrecy.md``): the request
hands its ballot to the process's :class:`BallotMixer`, which writes it with the other ballots received
meanwhile in a transaction of its own, so no ballot shares a transaction (``xmin``) with its voter's
participation row. While voting is open a ballot reaches the database only encrypted
(``participation.ballot_cipher``): the write-ahead log keeps each participation next to the ballot
written for it, whatever the mixing, so only ciphertext may be there. :func:`seal_ballots` decrypts,
shuffles and writes them in clear at the close.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import check_pooled_connection, driver_connection
from participation.ballot_cipher import BallotCipher, BallotIntegrityError
from participation.errors import BallotNotStored, VotingClosed

logger = logging.getLogger(__name__)

# Casts hold this lock shared, a close takes it exclusively: the seal never runs while a ballot of the
# round is on its way. Two 32-bit keys, a key space apart from the one-bigint voter locks.
ROUND_LOCK_CLASS = 0x62616C6C  # "ball"
_RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


def round_lock(round_id: int) -> tuple[int, int]:
    """The advisory key of a round (ids beyond 2^31 share keys: harmless, a close then waits a bit more)."""
    return ROUND_LOCK_CLASS, round_id % 2**31


ConnectionSource = Callable[[], AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]]
"""Opens a unit of work on a plain psycopg connection: commits on a normal exit, rolls back on an error
(``psycopg_pool.AsyncConnectionPool.connection`` is one). Ballots skip the ORM: on the 2-core reference
box an ``AsyncSession`` costs ~0.4 ms of CPU per transaction and ~0.2 ms per statement, the driver
~0.1 ms for both (``docs/benchmarks-participation.md``)."""


def connection_pool(
    conninfo: str, *, min_size: int, max_size: int, autocommit: bool = False
) -> AsyncConnectionPool:
    """A closed pool for casts or a mixer (open it in the event loop that uses it).

    Every statement here is a handful of primary-key or index lookups whose generic plan is the right
    one, so the connections prepare each statement at its first use and always run the generic plan:
    with PostgreSQL's default (``plan_cache_mode = auto``) the context query stays on custom plans and
    the server spent ~22 % of its time planning it again at every cast.

    ``autocommit`` is for the mixer, whose batch is one statement: it is then its own transaction, one
    round trip instead of three (``BEGIN``, the statement, ``COMMIT``).
    """
    return AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        open=False,
        timeout=10,
        # A connection the server ended (a restart) is replaced when taken, without a round trip.
        check=check_pooled_connection,
        kwargs={
            "prepare_threshold": 0,
            "options": "-c plan_cache_mode=force_generic_plan",
            "autocommit": autocommit,
        },
    )


def session_source(sessionmaker: async_sessionmaker[AsyncSession]) -> ConnectionSource:
    """A source on SQLAlchemy sessions: for an app that runs on a caller's connection (the tests, whose
    sessions join an outer transaction that is rolled back), where a pool of its own would not see it."""

    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with sessionmaker() as session:
            yield await driver_connection(session)
            await session.commit()

    return unit_of_work


# One statement per batch (its own implicit transaction on the mixer's autocommit connections, or part
# of the caller's transaction on a session): which rounds are still open, their ballots inserted in the
# order given (ballot-id order, see _store) and, per round short of ``anonymity``, cover rewrites of
# earlier ballots, so the batch's ``xmin`` names at least that many ballots of the round.
_OPEN = (
    "WITH open AS MATERIALIZED (SELECT id FROM budget_rounds WHERE id = ANY(CAST(%(rounds)s AS bigint[]))"
    " AND phase = 'voting' AND (voting_closes_at IS NULL OR voting_closes_at > now())),"
    " written AS (INSERT INTO ballots (id, round_id, channel, contents)"
    " SELECT * FROM unnest(CAST(%(ids)s AS uuid[]), CAST(%(ballot_rounds)s AS bigint[]),"
    " CAST(%(channels)s AS text[]), CAST(%(contents)s AS bytea[]))"
    " AS u (id, round_id, channel, contents)"
    # A filter on the function scan (an init plan, evaluated once): no join to reorder the rows.
    " WHERE u.round_id = ANY(ARRAY(SELECT id FROM open))"
    " ON CONFLICT (id) DO UPDATE SET contents = excluded.contents, channel = excluded.channel)"
)
# A window of ids on each side of a random start; SKIP LOCKED so concurrent writers (other processes)
# never wait on each other's cover rows. The batch's own ballots are left out: a statement must not
# modify a row twice (their insert may be an update of an earlier version).
_COVER_WINDOW = (
    " after_{n} AS (SELECT id FROM ballots WHERE round_id = CAST(%(cover_round_{n})s AS bigint)"
    "   AND id >= CAST(%(cover_start_{n})s AS uuid) AND id <> ALL(CAST(%(ids)s AS uuid[]))"
    "   AND CAST(%(cover_round_{n})s AS bigint) = ANY(ARRAY(SELECT id FROM open))"
    "   ORDER BY id LIMIT CAST(%(cover_size_{n})s AS int) FOR UPDATE SKIP LOCKED),"
    " before_{n} AS (SELECT id FROM ballots WHERE round_id = CAST(%(cover_round_{n})s AS bigint)"
    "   AND id < CAST(%(cover_start_{n})s AS uuid) AND id <> ALL(CAST(%(ids)s AS uuid[]))"
    "   AND CAST(%(cover_round_{n})s AS bigint) = ANY(ARRAY(SELECT id FROM open))"
    "   ORDER BY id DESC LIMIT CAST(%(cover_size_{n})s AS int) FOR UPDATE SKIP LOCKED)"
)


@functools.cache
def _batch_statement(covered_rounds: int) -> str:
    """The batch's statement with cover windows for ``covered_rounds`` rounds (usually 0 or 1)."""
    # Built from the constants above and loop indexes only; every value is a parameter.
    if not covered_rounds:
        return _OPEN + " SELECT id FROM open"  # noqa: S608
    windows = ",".join(_COVER_WINDOW.format(n=n) for n in range(covered_rounds))
    rows = " UNION ALL ".join(
        f"SELECT id FROM after_{n} UNION ALL SELECT id FROM before_{n}"  # noqa: S608
        for n in range(covered_rounds)
    )
    return (
        f"{_OPEN}, {windows}, covered AS (UPDATE ballots SET contents = contents WHERE id IN ({rows}))"  # noqa: S608
        " SELECT id FROM open"
    )


@dataclass(slots=True)
class PendingBallot:
    id: uuid.UUID
    round_id: int
    channel: str
    contents: bytes
    """Encrypted (``participation.ballot_cipher``): the database never sees an open round's ballot."""


class BallotMixer:
    """Writes ballots in batches, in transactions of their own, with cover rewrites. One per process.

    Group commit without a timer: a ballot that arrives while no batch is being written is written at
    once; those that arrive during a write wait for it to end and then go together in the next batch.
    Under load batches grow by themselves (a batch costs about the same for 1 or 200 ballots), at rest a
    voter waits for one short transaction. ``max_delay`` > 0 adds a fixed wait before each batch (bigger
    batches at low load, at the price of that latency on every ballot; kept for the benchmark).

    Each batch writes its ballots in ballot-id order (keyed hashes, so random with respect to voters; a
    fixed order also keeps concurrent writers from deadlocking) and, per round, rewrites earlier ballots
    around a random id (half on each side) until the batch touches ``anonymity`` ballots of the round: a
    ballot's ``xmin`` then names a set of at least that many ballots (those of the round, at least), never
    the few that arrived together. Under load a batch reaches the size by itself and rewrites nothing.

    A batch whose round closed meanwhile (phase or closing time) is refused with ``voting-closed``: the
    requests then roll back their participation. Give it connections of its *own* (not the casts' pool):
    the casts hold a connection while they wait for their batch.
    """

    def __init__(
        self,
        source: ConnectionSource,
        *,
        max_batch: int = 500,
        max_delay: float = 0.0,
        anonymity: int = 65,
        attempts: int = 3,
    ) -> None:
        self.source = source
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.anonymity = anonymity
        self.attempts = attempts
        self._queue: list[tuple[PendingBallot, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, ballot: PendingBallot) -> None:
        """Return once the ballot is committed; raise if its batch could not be stored."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((ballot, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        # If the caller is cancelled the ballot is still written (a ballot without participation, which
        # the voter's next attempt replaces: same id); the writer owns the future.
        await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._queue:
                if self.max_delay > 0:
                    await asyncio.sleep(self.max_delay)
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._write_batch(batch)
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[PendingBallot, asyncio.Future[None]]]) -> None:
        closed: set[int] = set()
        failure: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                closed = await self._store([ballot for ballot, _ in batch])
                failure = None
                break
            except psycopg.Error as error:
                failure = error
                if error.sqlstate not in _RETRYABLE or attempt == self.attempts:
                    break
            except Exception as error:  # never leave a voter waiting on an unresolved future
                failure = error
                break
        if failure is not None:
            logger.error("a batch of %d ballots could not be stored", len(batch), exc_info=failure)
        for ballot, waiting in batch:
            if waiting.done():
                continue
            if failure is not None:
                waiting.set_exception(BallotNotStored("the ballot could not be stored; try again"))
            elif ballot.round_id in closed:
                waiting.set_exception(VotingClosed("voting has closed"))
            else:
                waiting.set_result(None)

    async def _store(self, batch: Sequence[PendingBallot]) -> set[int]:
        """Write one batch; returns the rounds whose ballots were refused because voting closed."""
        latest = {ballot.id: ballot for ballot in batch}  # a voter's last submission in the batch wins
        rows = sorted(latest.values(), key=lambda b: b.id)
        round_ids = sorted({ballot.round_id for ballot in rows})
        parameters: dict[str, Any] = {
            "rounds": round_ids,
            "ids": [b.id for b in rows],
            "ballot_rounds": [b.round_id for b in rows],
            "channels": [b.channel for b in rows],
            "contents": [b.contents for b in rows],
        }
        covered = 0
        for round_id in round_ids:
            cover = self.anonymity - sum(1 for b in rows if b.round_id == round_id)
            if cover > 0:
                parameters[f"cover_round_{covered}"] = round_id
                parameters[f"cover_start_{covered}"] = uuid.uuid4()
                parameters[f"cover_size_{covered}"] = (cover + 1) // 2
                covered += 1
        async with self.source() as connection:
            cursor = await connection.execute(_batch_statement(covered), parameters)
            open_rounds = {row[0] for row in await cursor.fetchall()}
        return set(round_ids) - open_rounds


async def seal_ballots(session: AsyncSession, round_id: int, *, cipher: BallotCipher | None) -> int:
    """At the close: decrypt every ballot, shuffle them, and rewrite them in clear with fresh random ids,
    in one transaction. Afterwards even the server's secret cannot link a ballot to a voter (the ids are
    random), all ballots share one ``xmin`` and their physical order, like their order in the
    write-ahead log, is random.

    First waits (exclusive round lock) for every cast of the round still in flight, and keeps new ones
    out until the caller commits: they then find the round closed. Run :func:`vacuum_ballots` after the
    commit to drop the dead versions the rewrite leaves behind. Rows already in clear (imported rounds,
    the demo) are shuffled with the others; ``cipher`` may be ``None`` only where there are no others.
    """
    lock_class, lock_id = round_lock(round_id)
    await session.execute(text("SELECT pg_advisory_xact_lock(:c, :o)"), {"c": lock_class, "o": lock_id})
    stored = await session.execute(
        text("SELECT channel, projects, points, contents FROM ballots WHERE round_id = :r"), {"r": round_id}
    )
    ballots: list[tuple[str, list[int], list[int] | None]] = []
    for row in stored:
        if row.contents is not None:
            if cipher is None:
                raise BallotIntegrityError(f"round {round_id} holds encrypted ballots and no key was given")
            projects, points = cipher.open(round_id, bytes(row.contents))
        else:
            projects, points = list(row.projects), None if row.points is None else list(row.points)
        ballots.append((row.channel, projects, points))
    random.SystemRandom().shuffle(ballots)
    await session.execute(text("DELETE FROM ballots WHERE round_id = :r"), {"r": round_id})
    if ballots:
        await session.execute(
            text(
                "INSERT INTO ballots (id, round_id, channel, projects, points)"
                " SELECT u.id, :r, u.channel, u.projects, u.points FROM unnest(CAST(:ids AS uuid[]),"
                " CAST(:channels AS text[]), CAST(:projects AS jsonb[]), CAST(:points AS jsonb[]))"
                " WITH ORDINALITY AS u (id, channel, projects, points, position) ORDER BY u.position"
            ),
            {
                "r": round_id,
                "ids": [uuid.uuid4() for _ in ballots],
                "channels": [channel for channel, _, _ in ballots],
                "projects": [json.dumps(projects) for _, projects, _ in ballots],
                "points": [None if points is None else json.dumps(points) for _, _, points in ballots],
            },
        )
    return len(ballots)


async def vacuum_ballots(engine: AsyncEngine, *, full: bool | None = None) -> list[str]:
    """Remove the dead row versions that sealing (and cover rewrites) left in ``ballots``.

    Until then the pre-seal versions, with their keyed ids and batch ``xmin``, are still in the table's
    pages. A plain ``VACUUM`` makes them unreachable (not even ``pageinspect`` lists them) as soon as no
    transaction *of this database* still needs them, but their bytes can stay in the pages' free space,
    so a file-level copy could still hold them. ``VACUUM FULL`` then rewrites the table into new files;
    it must come second, because it keeps versions that any transaction of the whole cluster (another
    database's included) might still see. FULL locks the table against the casts' writers while it runs,
    so by default (``full=None``) it runs only while no round is voting (nobody writes ballots then); the
    next close with no round voting does it otherwise. VACUUM cannot run in a transaction, hence a
    connection of its own in autocommit mode. Returns the commands run.
    """
    commands = ["VACUUM (ANALYZE) ballots"]
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if full is None:
            voting = await autocommit.scalar(
                text("SELECT EXISTS (SELECT 1 FROM budget_rounds WHERE phase = 'voting')")
            )
            full = not voting
        if full:
            commands.append("VACUUM (FULL) ballots")
        for command in commands:
            await autocommit.exec_driver_sql(command)
    return commands


async def load_ballots(session: AsyncSession, round_id: int) -> list[tuple[list[int], list[int] | None]]:
    """A round's ballots in a content order (never storage order), for the tally and the export."""
    rows = await session.execute(
        text("SELECT projects, points FROM ballots WHERE round_id = :r ORDER BY projects, points"),
        {"r": round_id},
    )
    return [(list(row.projects), None if row.points is None else list(row.points)) for row in rows]
