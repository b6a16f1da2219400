"""Which database failures are the server's state (503, retry the batch) and which are the work's own."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import is_transient_database_error, make_engine, sync_url
from tests.outage import free_port


async def test_a_refused_connection_is_transient(database_url: str) -> None:
    base, _, name = database_url.rpartition("/")
    host = base.rpartition("@")[2].rpartition(":")[0]
    nowhere = make_engine(f"{base.rpartition('@')[0]}@{host}:{free_port()}/{name}", pool_size=1)
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError) as caught:
            async with nowhere.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await nowhere.dispose()
    assert is_transient_database_error(caught.value)


async def test_a_session_ended_by_the_server_is_transient(engine: AsyncEngine, database_url: str) -> None:
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert caught.value.connection_invalidated and is_transient_database_error(caught.value)
    with pytest.raises(psycopg.errors.AdminShutdown) as raw:
        with psycopg.connect(sync_url(database_url)) as plain:
            plain.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert is_transient_database_error(raw.value)


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("SET LOCAL statement_timeout = 1; SELECT pg_sleep(0.2)", psycopg.errors.QueryCanceled),
        ("SELECT 1 / 0", psycopg.errors.DivisionByZero),
        ("SELECT CAST('x' AS integer)", psycopg.errors.InvalidTextRepresentation),
    ],
)
async def test_errors_of_the_statement_itself_are_not_transient(
    engine: AsyncEngine, statement: str, error: type[Exception]
) -> None:
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
        async with engine.begin() as connection:
            for part in statement.split("; "):
                await connection.execute(text(part))
    assert isinstance(caught.value.orig, error)
    assert not is_transient_database_error(caught.value)


def test_serialization_failures_and_deadlocks_are_transient() -> None:
    for error in (psycopg.errors.SerializationFailure(), psycopg.errors.DeadlockDetected()):
        assert is_transient_database_error(error)
    assert is_transient_database_error(sqlalchemy.exc.TimeoutError("QueuePool limit reached"))
    assert not is_transient_database_error(ValueError("not a database error"))
