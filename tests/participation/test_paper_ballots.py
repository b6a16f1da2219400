"""Paper ballots cannot be stuffed: only election officers enter them, a reference must be on the round's
register (put in by an administrator), every entry is recorded (who, when, how), and the results say how
many ballots came on paper (issue 12, item 6)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World, bearer
from tests.participation.support_rounds import BASE, KEYS, admin, codes_for, round_with_projects, set_phase


def _paper(round_id: int) -> str:
    return f"{BASE}/budget-rounds/{round_id}/paper-ballots"


async def test_field_staff_and_administrators_cannot_enter_paper_ballots(
    pclient: httpx.AsyncClient, world: World
) -> None:
    round_id, ids = await round_with_projects(pclient, world)
    for who in ("roads_staff", "waste_staff", "admin", "resident"):
        response = await pclient.post(
            _paper(round_id),
            headers=bearer(world.tokens[who]),
            json={"voter_reference": f"Invented {who}", "projects": [ids[0]]},
        )
        assert (response.status_code, response.json()["code"]) == (403, "role-required"), who


async def test_an_invented_reference_is_refused_and_a_registered_one_counts_once(
    pclient: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    round_id, ids = await round_with_projects(pclient, world)
    officer = bearer(world.tokens["officer"])
    invented = await pclient.post(
        _paper(round_id), headers=officer, json={"voter_reference": "BSN 999999990", "projects": [ids[0]]}
    )
    assert (invented.status_code, invented.json()["code"]) == (403, "not-on-register")

    # The officer cannot put voters on the register; an administrator can (keyed hashes only).
    body = {"references": ["BSN 123456782", "bsn  123456782", "BSN 111222333"]}
    refused = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/paper-register", headers=officer, json=body
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "role-required")
    added = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/paper-register", headers=admin(world), json=body
    )
    assert added.status_code == 201 and added.json() == {"added": 2, "total": 2}
    stored = set(
        await session.scalars(
            text("SELECT voter_key FROM paper_register_entries WHERE round_id = :r"), {"r": round_id}
        )
    )
    assert stored == {
        KEYS.reference_voter_key(world.amsterdam, r) for r in ("BSN 123456782", "BSN 111222333")
    }

    entered = await pclient.post(
        _paper(round_id), headers=officer, json={"voter_reference": "Bsn 123456782", "projects": [ids[1]]}
    )
    assert entered.status_code == 201 and entered.json()["channel"] == "paper"
    again = await pclient.post(
        _paper(round_id), headers=officer, json={"voter_reference": "BSN 123456782", "projects": [ids[0]]}
    )
    assert (again.status_code, again.json()["code"]) == (409, "already-voted")
    [code] = await codes_for(pclient, world, round_id, 1)
    by_code = await pclient.post(_paper(round_id), headers=officer, json={"code": code, "projects": [ids[0]]})
    assert by_code.status_code == 201

    audit = await pclient.get(f"{BASE}/budget-rounds/{round_id}/paper-ballots/audit", headers=admin(world))
    assert audit.status_code == 200
    trail = audit.json()
    assert (trail["total"], trail["paper_voters"], trail["register_size"]) == (2, 2, 2)
    assert [(e["entered_by"], e["via"]) for e in trail["entries"]] == [
        (world.accounts["officer"], "register"),
        (world.accounts["officer"], "code"),
    ]
    assert trail["by_officer"][0]["account_id"] == world.accounts["officer"]
    assert trail["by_officer"][0]["count"] == 2 and trail["by_officer"][0]["first_entered_at"]
    staff_audit = await pclient.get(
        f"{BASE}/budget-rounds/{round_id}/paper-ballots/audit", headers=bearer(world.tokens["roads_staff"])
    )
    assert staff_audit.status_code == 403

    online = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/ballots",
        headers=bearer(world.tokens["resident"]),
        json={"projects": [ids[2]]},
    )
    assert online.status_code == 201
    await set_phase(pclient, world, round_id, "results")
    result = (await pclient.get(f"{BASE}/budget-rounds/{round_id}/results")).json()
    assert result["num_paper_ballots"] == 2
    assert result["participations_by_channel"] == {"online": 1, "paper": 2}
    assert result["num_ballots"] == result["num_participations"] == 3
    late = await pclient.post(
        f"{BASE}/budget-rounds/{round_id}/paper-register",
        headers=admin(world),
        json={"references": ["BSN 5"]},
    )
    assert (late.status_code, late.json()["code"]) == (409, "voting-closed")
