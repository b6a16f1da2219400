"""Every role × route pair: who may call what, and what everyone else gets back.

The tables are the single source of truth: one ``Case`` per route (and per visibility or jurisdiction
variant of a route), naming the policy it must declare, how to build a valid request, and the exact answer
each caller gets. This file holds the report routes (the machinery is in ``role_matrix.py``, the runner
fixture ``matrix_run`` in ``conftest.py``); the Open311, map and participation routes have their tables in
``test_role_matrix_open311.py``, ``test_role_matrix_map.py`` and ``test_role_matrix_participation.py``.
``test_route_policies`` checks that the app's routes and the union of the tables cover each other, so a new
route without a row fails the suite.

Speed without shared state: a module runs on one connection inside one transaction that is rolled back at
the end. A row's setup is built once, through the API (or a service, where no route exists), inside a
savepoint of its own; each caller's request then runs in a nested savepoint that is rolled back right after
the answer, so every cell sees exactly the row's setup and nothing another cell did. The row's savepoint is
rolled back before the next row is built.

The reports are submitted with contact data, and no response to a caller outside the staff may ever
contain it; nor may any response name a ballot's id, a voter key, or pair them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
)

from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT, STAFF
from core.account_links import link_token
from core.settings import PLACEHOLDER_SECRET
from tests.api.role_matrix import (
    CALLERS,
    CONTACT,
    HIDDEN,
    SECRET_EMAIL,
    SECRET_PHONE,
    STAFF_CALLERS,
    Build,
    Call,
    Case,
    J,
    MatrixRun,
    Setup,
    cells,
    everyone,
    on_utrecht_path,
    private_public_route,
    private_resident_route,
    residents,
    restricted,
    run_cell,
    small_jpeg,
)
from tests.conftest import DAM_SQUARE, World, bearer, report_body

# Builders of valid requests.


async def nothing(setup: Setup) -> Call:
    return Call()


async def new_device(setup: Setup) -> Call:
    return Call(json={"jurisdiction": "amsterdam", "locale": "en"})


async def new_account(setup: Setup) -> Call:
    email = f"nieuw-{uuid.uuid4().hex[:12]}@example.org"
    return Call(json={"jurisdiction": "amsterdam", "email": email, "password": "een lang wachtwoord"})


async def _link(setup: Setup, email: str, purpose: str) -> str:
    async with setup.sessionmaker() as session:
        link_id = await session.scalar(
            text("SELECT max(id) FROM account_links WHERE email = :e AND purpose = :p"),
            {"e": email, "p": purpose},
        )
    return link_token(PLACEHOLDER_SECRET, purpose, int(link_id))


async def sign_up_link(setup: Setup) -> Call:
    email = f"link-{uuid.uuid4().hex[:12]}@example.org"
    body = {"jurisdiction": "amsterdam", "email": email, "password": "een lang wachtwoord"}
    assert (await setup.client.post("/api/v1/auth/accounts", json=body)).status_code == 202
    return Call(json={"token": await _link(setup, email, "sign-up")})


async def account_password(setup: Setup) -> Call:
    return Call(json={"password": "correct horse battery"})


async def retention_periods(setup: Setup) -> Call:
    return Call(json={"contact_retention_days": 30, "photo_retention_months": 6})


async def password_change(setup: Setup) -> Call:
    return Call(json={"current_password": "correct horse battery", "new_password": "een nieuw wachtwoord"})


async def reset_request(setup: Setup) -> Call:
    return Call(json={"jurisdiction": "amsterdam", "email": "resident@example.org"})


async def reset_link(setup: Setup) -> Call:
    body = {"jurisdiction": "amsterdam", "email": "resident@example.org"}
    assert (await setup.client.post("/api/v1/auth/password-resets", json=body)).status_code == 202
    return Call(
        json={
            "token": await _link(setup, "resident@example.org", "password-reset"),
            "password": "nieuw en lang",
        }
    )


async def sign_in(setup: Setup) -> Call:
    return Call(
        json={
            "jurisdiction": "amsterdam",
            "email": "resident@example.org",
            "password": "correct horse battery",
        }
    )


async def dam_area(setup: Setup) -> Call:
    return Call(path={"area_id": setup.world.areas["Dam"]})


async def new_category(setup: Setup) -> Call:
    code = f"matrix-{uuid.uuid4().hex[:8]}"
    return Call(json={"code": code, "parent": "street", "name": {"nl": "Proef"}, "handling_days": 3})


async def change_pothole(setup: Setup) -> Call:
    return Call(path={"code": "pothole"}, json={"handling_days": 7})


async def new_department(setup: Setup) -> Call:
    return Call(json={"name": f"Dienst {uuid.uuid4().hex[:8]}"})


async def new_grant(setup: Setup) -> Call:
    return Call(
        json={
            "account_id": setup.world.accounts["other_resident"],
            "role": "council_member",
            "area_id": setup.world.areas["Zuid"],
        }
    )


async def existing_grant(setup: Setup) -> Call:
    return Call(path={"grant_id": await setup.grant()})


async def photo_upload(setup: Setup) -> Call:
    return Call(files={"file": ("gat.jpg", small_jpeg(), "image/jpeg")})


async def after_photo_upload(setup: Setup) -> Call:
    return Call(files={"file": ("klaar.jpg", small_jpeg(), "image/jpeg")}, data={"kind": "after"})


async def new_report(setup: Setup) -> Call:
    return Call(json=report_body("pothole", DAM_SQUARE, contact=CONTACT))


async def report_list(setup: Setup) -> Call:
    await setup.report()
    return Call(params={"category": "street", "near": f"{DAM_SQUARE[0]},{DAM_SQUARE[1]}"})


async def duplicates(setup: Setup) -> Call:
    await setup.report()
    return Call(params={"category": "pothole", "longitude": DAM_SQUARE[0], "latitude": DAM_SQUARE[1]})


def on_report(category: str) -> Build:
    async def build(setup: Setup) -> Call:
        report = await setup.report(category)
        return Call(path={"report_id": report["id"]})

    return build


def lists_own_report(response: httpx.Response, call: Call, caller: str) -> None:
    """Only the reporter finds the report among "my reports" (the others made or follow none)."""
    ids = [item["id"] for item in response.json()["items"]]
    assert (call.path["report_id"] in ids) == (caller == "resident"), (caller, ids)


def on_photo(category: str) -> Build:
    async def build(setup: Setup) -> Call:
        report = await setup.report(category, with_photo=True)
        [photo] = report["photos"]
        return Call(path={"report_id": report["id"], "photo_id": photo["id"]})

    return build


async def accept_pothole(setup: Setup) -> Call:
    report = await setup.report()
    return Call(path={"report_id": report["id"]}, json={"status": "accepted"}, headers={"If-Match": '"v1"'})


async def merge_potholes(setup: Setup) -> Call:
    duplicate, master = await setup.report(), await setup.report()
    return Call(
        path={"report_id": duplicate["id"]},
        json={"into_report_id": master["id"], "public_message": "Al gemeld"},
        headers={"If-Match": '"v1"'},
    )


def under_utrecht(build: Build) -> Build:
    """The same request, under /jurisdictions/utrecht: an Amsterdam object looked for in Utrecht."""

    async def moved(setup: Setup) -> Call:
        call = await build(setup)
        call.jurisdiction = "utrecht"
        return call

    return moved


def summary_of(district: str) -> Build:
    async def build(setup: Setup) -> Call:
        await setup.report()
        await setup.report("nuisance-neighbours")
        return Call(path={"area_id": setup.world.areas[district]})

    return build


MATRIX: dict[str, Case] = {
    "register device": Case("POST", "/api/v1/auth/devices", PUBLIC, new_device, everyone(201)),
    "register account": Case("POST", "/api/v1/auth/accounts", PUBLIC, new_account, everyone(202)),
    "confirm account": Case(
        "POST", "/api/v1/auth/accounts/confirmations", PUBLIC, sign_up_link, everyone(201)
    ),
    "sign in": Case("POST", "/api/v1/auth/tokens", PUBLIC, sign_in, everyone(201)),
    "sign out": Case(
        "DELETE",
        "/api/v1/auth/tokens/current",
        RESIDENT,
        nothing,
        dict.fromkeys(CALLERS, 204) | {"anonymous": (401, "not-authenticated")},
    ),
    "sign out everywhere": Case(
        "DELETE",
        "/api/v1/auth/tokens",
        RESIDENT,
        nothing,
        dict.fromkeys(CALLERS, 204) | {"anonymous": (401, "not-authenticated")},
    ),
    "change password": Case(
        "PUT",
        "/api/v1/auth/password",
        RESIDENT,
        password_change,
        dict.fromkeys(CALLERS, 200)
        | {"anonymous": (401, "not-authenticated"), "device": (403, "no-password")},
    ),
    "download my data": Case(
        "GET",
        "/api/v1/me/data",
        RESIDENT,
        nothing,
        dict.fromkeys(CALLERS, 200) | {"anonymous": (401, "not-authenticated")},
    ),
    "delete my account": Case(
        "DELETE",
        "/api/v1/me",
        RESIDENT,
        account_password,
        dict.fromkeys(CALLERS, (409, "account-has-roles"))
        | {"anonymous": (401, "not-authenticated"), "device": 204, "resident": 204, "utrecht_resident": 204},
    ),
    "read retention": Case("GET", f"{J}/retention", ADMIN, nothing, restricted(200, ("admin",))),
    "set retention": Case(
        "PUT",
        f"{J}/retention",
        ADMIN,
        retention_periods,
        restricted(200, ("admin",)),
    ),
    "ask for a password reset": Case(
        "POST", "/api/v1/auth/password-resets", PUBLIC, reset_request, everyone(202)
    ),
    "reset password": Case(
        "POST", "/api/v1/auth/password-resets/confirmations", PUBLIC, reset_link, everyone(201)
    ),
    "me": Case(
        "GET",
        "/api/v1/me",
        RESIDENT,
        nothing,
        dict.fromkeys(CALLERS, 200) | {"anonymous": (401, "not-authenticated")},
    ),
    "list jurisdictions": Case("GET", "/api/v1/jurisdictions", PUBLIC, nothing, everyone(200)),
    "read jurisdiction": Case("GET", J, PUBLIC, nothing, everyone(200)),
    "list areas": Case("GET", f"{J}/areas", PUBLIC, nothing, everyone(200)),
    "read area": Case("GET", f"{J}/areas/{{area_id}}", PUBLIC, dam_area, everyone(200)),
    "list categories": Case("GET", f"{J}/categories", PUBLIC, nothing, everyone(200)),
    "create category": Case("POST", f"{J}/categories", ADMIN, new_category, restricted(201, ("admin",))),
    "update category": Case(
        "PATCH", f"{J}/categories/{{code}}", ADMIN, change_pothole, restricted(200, ("admin",))
    ),
    "list departments": Case("GET", f"{J}/departments", ADMIN, nothing, restricted(200, ("admin",))),
    "create department": Case("POST", f"{J}/departments", ADMIN, new_department, restricted(201, ("admin",))),
    "grant role": Case("POST", f"{J}/role-grants", ADMIN, new_grant, restricted(201, ("admin",))),
    "revoke role": Case(
        "DELETE", f"{J}/role-grants/{{grant_id}}", ADMIN, existing_grant, restricted(204, ("admin",))
    ),
    "upload photo": Case("POST", f"{J}/photos", RESIDENT, photo_upload, residents(201)),
    "upload after photo": Case(
        "POST",
        f"{J}/photos",
        RESIDENT,
        after_photo_upload,
        residents(201) | dict.fromkeys(("device", "resident", "council", "officer"), (403, "role-required")),
    ),
    "submit report": Case("POST", f"{J}/reports", RESIDENT, new_report, residents(201)),
    "list reports": Case("GET", f"{J}/reports", PUBLIC, report_list, everyone(200)),
    "duplicates": Case("GET", f"{J}/reports/duplicates", PUBLIC, duplicates, everyone(200)),
    "read report": Case("GET", f"{J}/reports/{{report_id}}", PUBLIC, on_report("pothole"), everyone(200)),
    "read non-public report": Case(
        "GET",
        f"{J}/reports/{{report_id}}",
        PUBLIC,
        on_report("nuisance-neighbours"),
        private_public_route(200),
    ),
    "read photo": Case(
        "GET", f"{J}/reports/{{report_id}}/photos/{{photo_id}}", PUBLIC, on_photo("pothole"), everyone(200)
    ),
    "read photo of non-public report": Case(
        "GET",
        f"{J}/reports/{{report_id}}/photos/{{photo_id}}",
        PUBLIC,
        on_photo("nuisance-neighbours"),
        private_public_route(200),
    ),
    "read thumbnail": Case(
        "GET",
        f"{J}/reports/{{report_id}}/photos/{{photo_id}}/thumbnail",
        PUBLIC,
        on_photo("pothole"),
        everyone(200),
    ),
    "read thumbnail of non-public report": Case(
        "GET",
        f"{J}/reports/{{report_id}}/photos/{{photo_id}}/thumbnail",
        PUBLIC,
        on_photo("nuisance-neighbours"),
        private_public_route(200),
    ),
    "support report": Case(
        "POST", f"{J}/reports/{{report_id}}/supporters", RESIDENT, on_report("pothole"), residents(201)
    ),
    "support non-public report": Case(
        "POST",
        f"{J}/reports/{{report_id}}/supporters",
        RESIDENT,
        on_report("nuisance-neighbours"),
        private_resident_route(201),
    ),
    "follow report": Case(
        "PUT", f"{J}/reports/{{report_id}}/followers/me", RESIDENT, on_report("pothole"), residents(204)
    ),
    "follow non-public report": Case(
        "PUT",
        f"{J}/reports/{{report_id}}/followers/me",
        RESIDENT,
        on_report("nuisance-neighbours"),
        private_resident_route(204),
    ),
    "unfollow report": Case(
        "DELETE", f"{J}/reports/{{report_id}}/followers/me", RESIDENT, on_report("pothole"), residents(204)
    ),
    "unfollow non-public report": Case(
        "DELETE",
        f"{J}/reports/{{report_id}}/followers/me",
        RESIDENT,
        on_report("nuisance-neighbours"),
        private_resident_route(204, device=HIDDEN, council=HIDDEN, roads_staff=HIDDEN),
    ),
    "my reports": Case(
        "GET", f"{J}/me/reports", RESIDENT, on_report("pothole"), residents(200), check=lists_own_report
    ),
    "my non-public reports": Case(
        "GET",
        f"{J}/me/reports",
        RESIDENT,
        on_report("nuisance-neighbours"),
        residents(200),
        check=lists_own_report,
    ),
    "worklist": Case("GET", f"{J}/worklist", STAFF, nothing, restricted(200, STAFF_CALLERS)),
    "staff view": Case(
        "GET",
        f"{J}/reports/{{report_id}}/staff-view",
        STAFF,
        on_report("pothole"),
        restricted(200, ("roads_staff", "admin"), waste_staff=(403, "not-your-department")),
        staff_only=True,
    ),
    "transition": Case(
        "POST",
        f"{J}/reports/{{report_id}}/transitions",
        STAFF,
        accept_pothole,
        restricted(200, ("roads_staff", "admin"), waste_staff=(403, "forbidden")),
        staff_only=True,
    ),
    "merge": Case(
        "POST",
        f"{J}/reports/{{report_id}}/merge",
        STAFF,
        merge_potholes,
        restricted(200, ("roads_staff", "admin"), waste_staff=(403, "forbidden")),
        staff_only=True,
    ),
    "summary of own district": Case(
        "GET",
        f"{J}/areas/{{area_id}}/report-summary",
        COUNCIL,
        summary_of("Centrum"),
        restricted(200, ("council", "admin")),
    ),
    "summary of another district": Case(
        "GET",
        f"{J}/areas/{{area_id}}/report-summary",
        COUNCIL,
        summary_of("Zuid"),
        restricted(200, ("admin",), council=(403, "not-your-area")),
    ),
    "summary of a neighbourhood in own district": Case(
        "GET",
        f"{J}/areas/{{area_id}}/report-summary",
        COUNCIL,
        summary_of("Dam"),
        restricted(200, ("council", "admin")),
    ),
    "read report under another jurisdiction": Case(
        "GET", f"{J}/reports/{{report_id}}", PUBLIC, under_utrecht(on_report("pothole")), everyone(HIDDEN)
    ),
    "staff view under another jurisdiction": Case(
        "GET",
        f"{J}/reports/{{report_id}}/staff-view",
        STAFF,
        under_utrecht(on_report("pothole")),
        on_utrecht_path(("utrecht_staff", "utrecht_admin"), HIDDEN),
        staff_only=True,
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)


async def test_cells_and_rows_leave_nothing_behind(matrix_run: MatrixRun) -> None:
    """Guard the runner: every cell starts from its row's setup alone, and a row's setup goes with it."""
    email = f"eenmalig-{uuid.uuid4().hex[:12]}@example.org"
    marker = f"Rij {email}"

    async def one_address(setup: Setup) -> Call:
        await setup.report(description=marker)
        return Call(json={"jurisdiction": "amsterdam", "email": email, "password": "een lang wachtwoord"})

    # Had the first registration's link stayed, the count below would be 2.
    guard = {"register": Case("POST", "/api/v1/auth/accounts", PUBLIC, one_address, everyone(202))}
    for caller in ("anonymous", "resident"):
        await run_cell(matrix_run, guard, "register", caller)
    left = text(
        "SELECT (SELECT count(*) FROM account_links WHERE email = :email),"
        " (SELECT count(*) FROM reports WHERE description = :marker)"
    )
    params = {"email": email, "marker": marker}
    assert tuple((await matrix_run.connection.execute(left, params)).one()) == (0, 1)
    await matrix_run.leave_row()
    assert tuple((await matrix_run.connection.execute(left, params)).one()) == (0, 0)


async def test_contact_data_appears_in_no_public_view(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every public JSON view of a report, as every caller, without the reporter's e-mail or phone."""
    setup = Setup(client, world, sessionmaker)
    base = setup.base
    submitted = await client.post(
        f"{base}/reports",
        json=report_body(contact=CONTACT, address="Dam 1"),
        headers=setup.auth("resident"),
    )
    assert submitted.status_code == 201
    report_id = submitted.json()["id"]
    supported = await client.post(
        f"{base}/reports/{report_id}/supporters", headers=setup.auth("other_resident")
    )
    assert supported.status_code == 201
    texts = [submitted.text, supported.text]
    for caller in CALLERS:
        headers = {} if caller == "anonymous" else bearer(world.tokens[caller])
        queries: tuple[tuple[str, dict[str, str | int | float] | None], ...] = (
            (f"{base}/reports/{report_id}", None),
            (f"{base}/reports", {"limit": 500}),
            (f"{base}/reports/duplicates", {"category": "pothole", "longitude": 4.8927, "latitude": 52.3731}),
        )
        for path, params in queries:
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            assert str(report_id) in response.text
            texts.append(response.text)
    for body in texts:
        assert SECRET_EMAIL not in body.lower() and SECRET_PHONE not in body
        assert "melder.geheim" not in body.lower()
    # The staff view does carry it: the check above is not vacuous.
    staff = await client.get(f"{base}/reports/{report_id}/staff-view", headers=setup.auth("roads_staff"))
    assert staff.json()["contact"] == {"email": SECRET_EMAIL, "phone": SECRET_PHONE}


async def test_a_non_public_report_is_listed_for_no_one(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = Setup(client, world, sessionmaker)
    hidden = await setup.report("nuisance-neighbours")
    shown = await setup.report("pothole")
    for caller in CALLERS:
        headers = {} if caller == "anonymous" else bearer(world.tokens[caller])
        listed = await client.get(f"{setup.base}/reports", params={"limit": 500}, headers=headers)
        ids = {item["id"] for item in listed.json()["items"]}
        assert shown["id"] in ids and hidden["id"] not in ids, caller
