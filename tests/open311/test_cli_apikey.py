"""``civicloop apikey create / list / revoke`` against the test database, through Typer's runner."""

from __future__ import annotations

import psycopg
from typer.testing import CliRunner

from api.cli_apikey import app
from api.open311.keys import hash_key
from core.db import sync_url
from tests.conftest import World


def test_create_list_and_revoke(database_url: str, world: World) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["create", "--jurisdiction", "utrecht", "--name", "CLI test app", "--database-url", database_url]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("o311_") and len(key) > 40
    with psycopg.connect(sync_url(database_url), autocommit=True) as db:
        try:
            row = db.execute(
                "SELECT id, jurisdiction_id, name, revoked_at FROM open311_api_keys WHERE key_hash = %s",
                (hash_key(key),),
            ).fetchone()
            assert row is not None and row[1:] == (world.utrecht, "CLI test app", None)
            assert db.execute(
                "SELECT count(*) FROM open311_api_keys WHERE key_hash::text LIKE %s", (f"%{key}%",)
            ).fetchone() == (0,)
            listed = runner.invoke(app, ["list", "--jurisdiction", "utrecht", "--database-url", database_url])
            assert f"{row[0]}\t{world.utrecht}\tCLI test app" in listed.stdout and "active" in listed.stdout
            assert key not in listed.stdout
            revoked = runner.invoke(app, ["revoke", str(row[0]), "--database-url", database_url])
            assert revoked.exit_code == 0 and "revoked" in revoked.stdout
            assert db.execute(
                "SELECT revoked_at IS NOT NULL FROM open311_api_keys WHERE id = %s", (row[0],)
            ).fetchone() == (True,)
        finally:
            db.execute("DELETE FROM open311_api_keys WHERE name = 'CLI test app'")


def test_unknown_jurisdiction_and_key_fail_cleanly(database_url: str, world: World) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["create", "--jurisdiction", "atlantis", "--database-url", database_url])
    assert missing.exit_code == 1 and "atlantis" in missing.stderr
    unknown = runner.invoke(app, ["revoke", "999999", "--database-url", database_url])
    assert unknown.exit_code == 1 and "no API key" in unknown.stderr
