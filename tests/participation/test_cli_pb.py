"""``civicloop pb tally`` on the real pabulib files, the demo round, and .pb import/export of a round."""

from __future__ import annotations

import json

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
