"""Database outages on demand, without stopping the PostgreSQL that the other test processes share.

``TcpProxy`` relays TCP between the code under test and the real PostgreSQL. ``stop()`` is what a
restarting server looks like from the client: every open connection is cut and new ones are refused;
``start()`` brings the same port back. ``ScratchDatabase`` is a freshly migrated database of its own,
for tests whose work really commits (a running worker, the API on its own engine) and must not leave
rows in the shared test database.

The database-restart drill in ``bench/notifications/drills.py`` restarts the real server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from alembic import command
from alembic.config import Config

from core.db import sync_url
from core.local_postgres import ensure_local_cluster
from core.settings import PROJECT_DIR


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class TcpProxy:
    target_host: str
    target_port: int
    port: int = field(default_factory=free_port)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        """Refuse new connections and cut every open one (both directions)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def url(self, url: str) -> str:
        """``url`` (any driver prefix) with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)


@dataclass
class ScratchDatabase:
    url: str  # postgresql+psycopg://…
    admin_conninfo: str
    name: str

    @property
    def conninfo(self) -> str:
        return sync_url(self.url)

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 5432

    def execute(
        self, sql: str, params: tuple[object, ...] | dict[str, object] = ()
    ) -> list[tuple[Any, ...]]:  # the rows of whatever ``sql`` selects
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def terminate_other_backends(self) -> int:
        """What a fast shutdown does to each session of this database: FATAL 57P01, the socket closes."""
        with psycopg.connect(self.admin_conninfo, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            ).fetchall()
        return len(rows)

    def listening(self) -> set[str]:
        """The channels sessions of this database LISTEN on (their last statement was the LISTEN)."""
        with psycopg.connect(self.admin_conninfo, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'LISTEN %%'",
                (self.name,),
            ).fetchall()
        return {str(row[0]).split()[1] for row in rows}


@contextlib.contextmanager
def scratch_database() -> Iterator[ScratchDatabase]:
    given = os.environ.get("CIVICLOOP_TEST_DATABASE_URL")
    if given:
        base = given.rpartition("/")[0]
        admin_url, template = f"{base}/postgres", base + "/{db}"
    else:
        cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
        admin_url, template = cluster.url("postgres"), cluster.url("{db}")
    name = f"civicloop_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sync_url(admin_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = template.replace("{db}", name)
    try:
        config = Config(str(PROJECT_DIR / "alembic.ini"))
        config.attributes["url"] = url
        command.upgrade(config, "heads")
        yield ScratchDatabase(url=url, admin_conninfo=admin, name=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
