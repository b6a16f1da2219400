"""Revision 0003 is reversible: on a scratch database at head, its downgrade removes exactly its tables
(and everything of theirs), leaves the other branches' schema untouched, and its upgrade rebuilds the
very same schema (columns, constraints, indexes, triggers).

Alembic cannot walk one branch down through the merge revision (0006), so the test runs the revision's
own ``downgrade()`` / ``upgrade()`` through alembic's operations, as ``alembic downgrade`` would.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from types import ModuleType

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial operations 0003 uses)
from sqlalchemy import create_engine, pool

from core.db import sync_url
from core.settings import PROJECT_DIR

PARTICIPATION_TABLES = {
    "resident_verifications",
    "budget_rounds",
    "budget_round_phase_changes",
    "budget_proposals",
    "budget_proposal_photos",
    "budget_project_followers",
    "budget_implementation_updates",
    "budget_implementation_update_photos",
    "voting_codes",
    "voter_participations",
    "ballots",
    "council_motions",
    "council_motion_votes",
    "consultations",
    "consultation_rounds",
    "consultation_questions",
    "consultation_responses",
    "consultation_answers",
}

LAST_REVISION_WITHOUT_PARTICIPATION_CHANGES = "0008_my_reports"
SCHEMA_QUERIES = {
    "columns": "SELECT table_name, column_name, udt_name, is_nullable, coalesce(column_default, ''),"
    " is_identity, coalesce(identity_generation, '') FROM information_schema.columns"
    " WHERE table_schema = 'public'",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE connamespace = 'public'::regnamespace",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "triggers": "SELECT event_object_table, trigger_name, event_manipulation, action_statement"
    " FROM information_schema.triggers WHERE trigger_schema = 'public'",
}


def _schema(conninfo: str) -> dict[str, set[tuple[str, ...]]]:
    with psycopg.connect(conninfo) as connection:
        return {
            name: {tuple(str(v) for v in row) for row in connection.execute(query)}
            for name, query in SCHEMA_QUERIES.items()
        }


def _tables(schema: dict[str, set[tuple[str, ...]]]) -> set[str]:
    return {row[0] for row in schema["columns"]}


def _revision_0003() -> ModuleType:
    path = PROJECT_DIR / "migrations" / "versions" / "0003_participation.py"
    spec = importlib.util.spec_from_file_location("revision_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """A database of its own at head (the session's one is shared by the other tests)."""
    base, _, _ = sync_url(database_url).rpartition("/")
    name = f"civicloop_test_{os.getpid()}_m0003"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        config = Config(str(PROJECT_DIR / "alembic.ini"))
        config.attributes["url"] = f"{base}/{name}"
        # The schema 0003 and the revisions after it that leave its tables alone built (up to 0008):
        # later revisions that change a participation table (0009, encrypted ballots) would make 0003's
        # upgrade differ from head, and are checked on their own below.
        command.upgrade(config, LAST_REVISION_WITHOUT_PARTICIPATION_CHANGES)
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(conninfo: str, step: str) -> None:
    engine = create_engine(
        conninfo.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
    )
    try:
        with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
            getattr(_revision_0003(), step)()
    finally:
        engine.dispose()


def test_revision_0003_downgrades_exactly_its_own_schema_and_upgrades_back(scratch_database: str) -> None:
    at_head = _schema(scratch_database)
    assert PARTICIPATION_TABLES <= _tables(at_head)

    _run(scratch_database, "downgrade")
    downgraded = _schema(scratch_database)
    assert _tables(downgraded) == _tables(at_head) - PARTICIPATION_TABLES
    for part, rows in at_head.items():  # nothing of the other revisions changed
        assert {row for row in rows if row[0] not in PARTICIPATION_TABLES} == downgraded[part], part

    _run(scratch_database, "upgrade")
    assert _schema(scratch_database) == at_head


def test_revision_0009_encrypted_ballots_is_reversible(scratch_database: str) -> None:
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = scratch_database
    before = _schema(scratch_database)
    command.upgrade(config, "0009_encrypted_ballots")
    upgraded = _schema(scratch_database)
    assert ("ballots", "contents", "bytea", "YES", "", "NO", "") in upgraded["columns"]
    command.downgrade(config, LAST_REVISION_WITHOUT_PARTICIPATION_CHANGES)
    assert _schema(scratch_database) == before
