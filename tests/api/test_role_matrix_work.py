"""The role × route matrix of what the app's field staff and council screens added: the work list's
summary, merge candidates, public message templates, "my motions" and the council's participation view.

Staff see their own departments' work only (an administrator: all); templates are read by staff and
written by administrators; a council member sees their own council's motions and the rounds of their own
areas. Callers of another jurisdiction are turned away by the policy; an Amsterdam object asked for under
the Utrecht path is Utrecht's 404.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.auth import ADMIN, COUNCIL, STAFF
from tests.api.role_matrix import (
    STAFF_CALLERS,
    Call,
    Case,
    J,
    MatrixRun,
    Setup,
    cells,
    on_utrecht_path,
    restricted,
    run_cell,
)
from tests.conftest import DAM_SQUARE

COUNCIL_SIDE = ("council", "admin")
TEMPLATES = f"{J}/message-templates"
TEMPLATE = f"{TEMPLATES}/{{template_id}}"
BASE = "/api/v1/jurisdictions/amsterdam"
NOT_YOUR_DEPARTMENT = (403, "not-your-department")
NOT_YOUR_AREA = (403, "not-your-area")


def template_body(**changes: Any) -> dict[str, Any]:
    return {
        "status": "resolved",
        "category": "pothole",
        "title": {"nl": "Gat gedicht", "en": "Hole filled"},
        "text": {"nl": "We hebben het gat gedicht.", "en": "We filled the hole."},
    } | changes


async def template(setup: Setup) -> int:
    created = await setup.ok("POST", f"{BASE}/message-templates", "admin", 201, json=template_body())
    return int(created["id"])


# Builders of valid requests.


async def nothing(setup: Setup) -> Call:
    return Call()


def summary_for(department: str) -> Any:
    async def build(setup: Setup) -> Call:
        await setup.report()
        return Call(params={"department_id": setup.world.departments[f"amsterdam:{department}"]})

    return build


async def pothole_with_neighbour(setup: Setup) -> Call:
    report = await setup.report()
    neighbour = await setup.report(point=(DAM_SQUARE[0] + 0.0002, DAM_SQUARE[1]))
    return Call(path={"report_id": report["id"]}, facts={"neighbour": neighbour["id"]})


def offers_the_neighbour_not_itself(response: httpx.Response, call: Call, caller: str) -> None:
    ids = [candidate["id"] for candidate in response.json()]
    assert call.facts["neighbour"] in ids and call.path["report_id"] not in ids, ids


def under_utrecht(build: Any) -> Any:
    async def moved(setup: Setup) -> Call:
        call = await build(setup)
        call.jurisdiction = "utrecht"
        return call

    return moved


async def templates_for_resolving_potholes(setup: Setup) -> Call:
    await template(setup)
    return Call(params={"status": "resolved", "category": "pothole"})


def lists_the_template(response: httpx.Response, call: Call, caller: str) -> None:
    assert [t["title"]["nl"] for t in response.json()] == ["Gat gedicht"], response.text


async def new_template(setup: Setup) -> Call:
    return Call(json=template_body())


async def existing_template(setup: Setup) -> Call:
    return Call(path={"template_id": await template(setup)}, json={"title": {"nl": "Klaar"}})


async def existing_template_to_delete(setup: Setup) -> Call:
    return Call(path={"template_id": await template(setup)})


async def centrum_motion(setup: Setup) -> Call:
    created = await setup.ok(
        "POST",
        f"{BASE}/motions",
        "admin",
        201,
        json={"area_id": setup.world.areas["Centrum"], "title": "Meer fietsenrekken"},
    )
    return Call(facts={"motion": created["id"]})


def shows_the_centrum_motion(response: httpx.Response, call: Call, caller: str) -> None:
    found = {m["id"]: m for m in response.json()}
    assert call.facts["motion"] in found, response.text
    motion = found[call.facts["motion"]]
    assert motion["may_manage"] is True and motion["may_vote"] is False  # a draft: nobody votes yet


def participation_in(area: str) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(params={"area_id": setup.world.areas[area]})

    return build


MATRIX: dict[str, Case] = {
    "worklist summary": Case("GET", f"{J}/worklist/summary", STAFF, nothing, restricted(200, STAFF_CALLERS)),
    "worklist summary of the waste department": Case(
        "GET",
        f"{J}/worklist/summary",
        STAFF,
        summary_for("Afval"),
        restricted(200, STAFF_CALLERS, roads_staff=NOT_YOUR_DEPARTMENT),
    ),
    "merge candidates": Case(
        "GET",
        f"{J}/reports/{{report_id}}/merge-candidates",
        STAFF,
        pothole_with_neighbour,
        restricted(200, ("roads_staff", "admin"), waste_staff=NOT_YOUR_DEPARTMENT),
        check=offers_the_neighbour_not_itself,
    ),
    "merge candidates under utrecht": Case(
        "GET",
        f"{J}/reports/{{report_id}}/merge-candidates",
        STAFF,
        under_utrecht(pothole_with_neighbour),
        on_utrecht_path(("utrecht_admin", "utrecht_staff"), (404, "report-not-found")),
    ),
    "message templates": Case(
        "GET",
        TEMPLATES,
        STAFF,
        templates_for_resolving_potholes,
        restricted(200, STAFF_CALLERS),
        check=lists_the_template,
    ),
    "create message template": Case("POST", TEMPLATES, ADMIN, new_template, restricted(201, ("admin",))),
    "update message template": Case("PATCH", TEMPLATE, ADMIN, existing_template, restricted(200, ("admin",))),
    "update message template under utrecht": Case(
        "PATCH",
        TEMPLATE,
        ADMIN,
        under_utrecht(existing_template),
        on_utrecht_path(("utrecht_admin",), (404, "message-template-not-found")),
    ),
    "delete message template": Case(
        "DELETE", TEMPLATE, ADMIN, existing_template_to_delete, restricted(204, ("admin",))
    ),
    "my motions": Case(
        "GET",
        f"{J}/me/motions",
        COUNCIL,
        centrum_motion,
        restricted(200, COUNCIL_SIDE),
        check=shows_the_centrum_motion,
    ),
    "council participation": Case(
        "GET", f"{J}/council/participation", COUNCIL, nothing, restricted(200, COUNCIL_SIDE)
    ),
    "council participation of a neighbourhood in own district": Case(
        "GET", f"{J}/council/participation", COUNCIL, participation_in("Dam"), restricted(200, COUNCIL_SIDE)
    ),
    "council participation of another district": Case(
        "GET",
        f"{J}/council/participation",
        COUNCIL,
        participation_in("Zuid"),
        restricted(200, ("admin",), council=NOT_YOUR_AREA),
    ),
    "council participation of another jurisdiction's area": Case(
        "GET",
        f"{J}/council/participation",
        COUNCIL,
        participation_in("Utrecht"),
        restricted((404, "area-not-found"), COUNCIL_SIDE),
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_work_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)
