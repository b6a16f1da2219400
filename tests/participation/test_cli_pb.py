"""``civicloop pb tally`` on the real pabulib files, the demo round, and .pb import/export of a round."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from api.cli_participation import pb_app
from participation import pabulib_io
from participation.demo import load_demo_round
from participation.tally import parse_pabulib_text
from tests.conftest import SHARED, World
from tests.participation.support_rounds import BASE

PABULIB = SHARED / "pabulib"


def test_pb_tally_prints_the_selected_projects_as_json() -> None:
    result = CliRunner().invoke(
        pb_app,
        [
            "tally",
            str(PABULIB / "Netherlands_Assen_2024.pb"),
            "--rule",
            "mes",
            "--completion",
            "add1",
            "--add1-stop",
            "exhaustive",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["selected"] and data["matches_official"] is True


def test_pb_tally_refuses_a_malformed_file(tmp_path) -> None:
    broken = tmp_path / "broken.pb"
    broken.write_text("META\nkey;value\nbudget;abc\n")
    result = CliRunner().invoke(pb_app, ["tally", str(broken), "--rule", "greedy", "--json"])
    assert result.exit_code == 2 and "error:" in result.output


async def test_the_demo_round_reaches_implementation(
    session: AsyncSession,
    world: World,
    pclient: httpx.AsyncClient,
) -> None:
    demo = await load_demo_round(session, world.amsterdam, world.areas["Dam"])
    await session.commit()
    assert demo.phase == "implementation"
    results = (await pclient.get(f"{BASE}/budget-rounds/{demo.id}/results")).json()
    assert results["num_ballots"] == 120 and results["selected"]
    exported = await pclient.get(f"{BASE}/budget-rounds/{demo.id}/export.pb")
    assert exported.status_code == 200
    election = parse_pabulib_text(exported.text)
    assert len(election.ballots) == 120
    assert [b.voter_id for b in election.ballots] == [str(i) for i in range(1, 121)]
    reimported = await pabulib_io.import_round(
        session, jurisdiction_id=world.amsterdam, area_id=world.areas["Dam"], text_content=exported.text
    )
    titles = {p["id"]: p["title"] for p in results["projects"]}
    again = {p.id: p.title for p in await pabulib_io.load_projects(session, reimported.id)}
    assert sorted(again[int(p)] for p in reimported.result["selected"]) == sorted(
        titles[p] for p in results["selected"]
    )


async def test_importing_a_malformed_pb_stores_nothing(session: AsyncSession, world: World) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        await pabulib_io.import_round(
            session,
            jurisdiction_id=world.amsterdam,
            area_id=world.areas["Dam"],
            text_content="META\nkey;value\n",
        )
    assert caught.value.code == "malformed-pabulib"


ENTRY = """
import json, sys
from api.cli_entry import main
sys.argv = ["civicloop", *json.loads(sys.argv[1])]
try:
    main()
finally:
    heavy = ["fastapi", "sqlalchemy", "alembic", "psycopg", "numba"]
    sys.stderr.write("LOADED " + json.dumps([name for name in heavy if name in sys.modules]) + "\\n")
"""


def _through_the_console_entry(*arguments: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``civicloop ARGUMENTS`` as the console script runs it, and which heavy packages it imported."""
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, json.dumps(arguments)], capture_output=True, text=True, timeout=120
    )
    [loaded] = [line for line in done.stderr.splitlines() if line.startswith("LOADED ")]
    return done, json.loads(loaded.removeprefix("LOADED "))


def test_the_console_entry_tallies_as_the_full_command_line_does() -> None:
    """``civicloop pb tally`` skips the rest of the command line (no web app, no database layer) and
    answers exactly what the mounted command answers; numba loads only for a rule that runs MES."""
    arguments = ["tally", str(PABULIB / "Netherlands_Assen_2024.pb"), "--rule", "mes", "--completion", "add1"]
    done, loaded = _through_the_console_entry("pb", *arguments, "--json")
    assert done.returncode == 0, done.stderr
    mounted = CliRunner().invoke(pb_app, [*arguments, "--json"])
    assert json.loads(done.stdout) == json.loads(mounted.stdout)
    assert loaded == ["numba"]
    done, loaded = _through_the_console_entry("pb", "tally", arguments[1], "--rule", "greedy")
    assert done.returncode == 0 and done.stdout.startswith("selected ("), done.stderr
    assert loaded == []


def test_the_console_entry_reports_a_malformed_file_in_one_line(tmp_path) -> None:
    broken = tmp_path / "broken.pb"
    broken.write_text("META\nkey;value\nbudget;abc\n")
    done, _ = _through_the_console_entry("pb", "tally", str(broken), "--rule", "greedy")
    assert done.returncode == 2 and f"error: {broken}: " in done.stderr
