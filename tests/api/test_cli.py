"""The ``civicloop`` command line, run through Typer's runner against a throw-away database.

The database is created for this module on the test server, migrated, and dropped afterwards, so
commands that commit (imports, the demo) never touch the shared test database.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import app, migrate_database
from core.db import sync_url
from tests.conftest import DISTRICTS_FILE

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_database(database_url: str) -> Iterator[str]:
    base, _, _ = database_url.rpartition("/")
    name = f"civicloop_cli_{os.getpid()}"
    admin = sync_url(f"{base}/postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    migrate_database(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def invoke(url: str, *arguments: str):
    return runner.invoke(app, list(arguments), env={"DATABASE_URL": url})


def count(url: str, query: str) -> int:
    with psycopg.connect(sync_url(url)) as connection:
        row = connection.execute(query).fetchone()
        assert row is not None
        return int(row[0])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_file_is_one_line_and_exit_2(cli_database: str, tmp_path: Path) -> None:
    result = invoke(
        cli_database,
        "areas", "import", str(tmp_path / "nope.geojson"),
        "--jurisdiction", "amsterdam", "--level", "district", "--name-property", "Stadsdeel",
    )  # fmt: skip
    assert_one_line_error(result, "nope.geojson", "no such file")


def test_unknown_property_and_jurisdiction_are_exit_2(cli_database: str) -> None:
    common = ["areas", "import", str(DISTRICTS_FILE), "--level", "district"]
    result = invoke(cli_database, *common, "--jurisdiction", "atlantis", "--name-property", "Naam")
    assert_one_line_error(result, "'Naam'", "Stadsdeel")
    result = invoke(cli_database, *common, "--jurisdiction", "atlantis", "--name-property", "Stadsdeel")
    assert_one_line_error(result, "atlantis", "--create-jurisdiction")
    result = invoke(
        cli_database, *common, "--jurisdiction", "x", "--name-property", "Stadsdeel", "--filter", "oops"
    )
    assert_one_line_error(result, "PROPERTY=VALUE")


def test_import_creates_then_updates(cli_database: str) -> None:
    arguments = [
        "areas", "import", str(DISTRICTS_FILE), "--jurisdiction", "cli-ams", "--level", "district",
        "--name-property", "Stadsdeel", "--code-property", "Stadsdeelcode",
        "--create-jurisdiction", "CLI Amsterdam",
    ]  # fmt: skip
    first = invoke(cli_database, *arguments)
    assert first.exit_code == 0, first.output
    assert "9 inserted, 0 updated, 0 repaired, 0 skipped" in first.output
    second = invoke(cli_database, *arguments)
    assert second.exit_code == 0, second.output
    assert "0 inserted, 9 updated" in second.output
    assert count(cli_database, "SELECT count(*) FROM areas a JOIN jurisdictions j ON j.id = a.jurisdiction_id"
                 " WHERE j.slug = 'cli-ams'") == 9  # fmt: skip


def test_skips_fail_the_import_unless_allowed(cli_database: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    square = [[[4.90, 52.30], [4.91, 52.30], [4.91, 52.31], [4.90, 52.31], [4.90, 52.30]]]
    bow_tie = [[[4.92, 52.30], [4.93, 52.31], [4.93, 52.30], [4.92, 52.31], [4.92, 52.30]]]
    features = [
        ("Vierkant", {"type": "Polygon", "coordinates": square}),
        ("Strik", {"type": "Polygon", "coordinates": bow_tie}),
        ("Paal", {"type": "Point", "coordinates": [4.9, 52.3]}),
    ]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"n": n}, "geometry": g} for n, g in features],
            }
        )
    )
    arguments = [
        "areas", "import", str(path), "--jurisdiction", "cli-skips", "--level", "neighbourhood",
        "--name-property", "n", "--create-jurisdiction", "Skips",
    ]  # fmt: skip
    refused = invoke(cli_database, *arguments)
    assert refused.exit_code == 1
    assert "feature #3 (Paal)" in refused.stderr and "--allow-skips" in refused.stderr
    assert count(cli_database, "SELECT count(*) FROM jurisdictions WHERE slug = 'cli-skips'") == 0
    allowed = invoke(cli_database, *arguments, "--allow-skips")
    assert allowed.exit_code == 0, allowed.output
    assert "repaired 1 invalid geometries" in allowed.output
    assert "feature #2 (Strik): Self-intersection" in allowed.output
    assert "2 inserted, 0 updated, 1 repaired, 1 skipped" in allowed.output


def test_demo_load_is_idempotent(cli_database: str) -> None:
    tables = ("jurisdictions", "areas", "accounts", "role_grants", "categories", "reports",
              "report_status_changes", "outbox_events", "budget_rounds", "budget_proposals", "voting_codes",
              "resident_verifications", "consultations", "consultation_rounds", "consultation_responses",
              "notification_deliveries")  # fmt: skip
    first = invoke(cli_database, "demo", "load")
    assert first.exit_code == 0, first.output
    assert "400 reports" in first.output and "admin@demo.example.org" in first.output
    # What a newcomer takes part in: a round in its voting phase with letters, an open consultation.
    letters = re.findall(r"/vote\?code=([0-9A-Z-]{19})", first.output)
    assert len(letters) == 5, first.output
    assert count(cli_database, "SELECT count(*) FROM voting_codes") == 5
    assert (
        count(
            cli_database,
            "SELECT count(*) FROM budget_rounds r JOIN budget_proposals p ON p.round_id = r.id"
            " WHERE r.phase = 'voting' AND r.ballot_type = 'knapsack' AND p.status = 'feasible'",
        )
        == 6  # fmt: skip
    )
    assert (
        count(
            cli_database,
            "SELECT count(DISTINCT q.kind) FROM consultation_rounds r"
            " JOIN consultation_questions q ON q.round_id = r.id WHERE r.status = 'open'",
        )
        == 6  # fmt: skip
    )
    assert (
        count(
            cli_database,
            "SELECT count(*) FROM consultation_responses s JOIN consultation_rounds r ON r.id = s.round_id"
            " WHERE r.status = 'closed' AND r.you_said_we_did IS NOT NULL",
        )
        == 24  # fmt: skip
    )
    # The demo's history went out before anyone looked: nothing waits to be mailed.
    assert count(cli_database, "SELECT count(*) FROM notification_deliveries WHERE status = 'pending'") == 0
    counts = {table: count(cli_database, f"SELECT count(*) FROM {table}") for table in tables}
    assert count(cli_database, "SELECT count(*) FROM reports WHERE status <> 'submitted'") > 200
    assert count(cli_database, "SELECT count(DISTINCT area_id) FROM reports") == 9
    assert (
        count(
            cli_database,
            "SELECT count(*) FROM areas a JOIN jurisdictions j ON j.id = a.jurisdiction_id"
            " WHERE j.slug = 'amsterdam' AND a.level = 'district' AND a.parent_id IS NOT NULL",
        )
        == 9  # fmt: skip
    )

    second = invoke(cli_database, "demo", "load")
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert re.findall(r"/vote\?code=([0-9A-Z-]{19})", second.output) == letters
    assert {table: count(cli_database, f"SELECT count(*) FROM {table}") for table in tables} == counts


def test_db_url_prints_the_url_in_use(cli_database: str) -> None:
    result = invoke(cli_database, "db-url")
    assert result.exit_code == 0 and result.output.strip() == cli_database
    plain = invoke(cli_database, "db-url", "--plain")
    assert plain.output.strip() == sync_url(cli_database)
