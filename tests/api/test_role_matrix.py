"""Every role × route pair: who may call what, and what everyone else gets back.

The table below is the single source of truth: one ``Case`` per route (and per visibility variant
of a route), naming the policy it must declare, how to build a valid request, and the exact answer
each caller gets. ``test_route_policies`` checks that the app's routes and this table cover each
other, so a new route without a row here fails the suite.

Each case builds what it needs through the API inside its own rolled-back transaction; the reports
are submitted with contact data, and no response outside the staff routes may ever contain it.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image

from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT, STAFF, Policy
from tests.conftest import DAM_SQUARE, World, bearer, report_body

PROBLEM_JSON = "application/problem+json"
J = "/api/v1/jurisdictions/{jurisdiction}"
CALLERS = (
    "anonymous",
    "device",
    "resident",
    "council",
    "roads_staff",
    "waste_staff",
    "admin",
    "utrecht_admin",
    "utrecht_staff",
    "utrecht_resident",
)
UTRECHT = ("utrecht_admin", "utrecht_staff", "utrecht_resident")
# The reporter's contact data: only the staff view may ever show it.
SECRET_EMAIL = "melder.geheim@example.org"
SECRET_PHONE = "+31 6 5555 0199"
CONTACT = {"email": SECRET_EMAIL, "phone": SECRET_PHONE}

Expected = int | tuple[int, str]
"""A 2xx status, or a 4xx status with its problem ``code``."""


@dataclass(frozen=True)
class Bug:
    """A cell whose right answer the app does not give yet: the test is a strict xfail."""

    expected: Expected
    reason: str


@dataclass
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    files: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


class Setup:
    """Builds the objects a case needs, through the API, as the people who would create them."""

    def __init__(self, client: httpx.AsyncClient, world: World) -> None:
        self.client = client
        self.world = world
        self.base = J.format(jurisdiction="amsterdam")

    def auth(self, who: str) -> dict[str, str]:
        return bearer(self.world.tokens[who])

    async def photo(self, who: str = "resident") -> int:
        response = await self.client.post(
            f"{self.base}/photos",
            files={"file": ("gat.jpg", small_jpeg(), "image/jpeg")},
            headers=self.auth(who),
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def report(self, category: str = "pothole", *, with_photo: bool = False) -> dict[str, Any]:
        photo_ids = [await self.photo()] if with_photo else []
        response = await self.client.post(
            f"{self.base}/reports",
            json=report_body(category, DAM_SQUARE, contact=CONTACT, photo_ids=photo_ids),
            headers=self.auth("resident"),
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def grant(self) -> int:
        response = await self.client.post(
            f"{self.base}/role-grants",
            json={
                "account_id": self.world.accounts["other_resident"],
                "role": "field_staff",
                "department_id": self.world.departments["amsterdam:Afval"],
            },
            headers=self.auth("admin"),
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


Build = Callable[[Setup], Awaitable[Call]]


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    policy: Policy
    build: Build
    expect: dict[str, Expected | Bug]
    staff_only: bool = False  # the response may carry contact data


# Expected answers per policy. ``ok`` is the success status of the route.


def everyone(ok: int) -> dict[str, Expected | Bug]:
    return dict.fromkeys(CALLERS, ok)


def residents(ok: int) -> dict[str, Expected | Bug]:
    """RESIDENT on a route under /jurisdictions/{jurisdiction}: any account of that jurisdiction."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, ok)
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    return table


def restricted(ok: int, allowed: tuple[str, ...], **special: Expected | Bug) -> dict[str, Expected | Bug]:
    """STAFF, COUNCIL or ADMIN: ``allowed`` get ``ok``, other Amsterdam accounts ``role-required``."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, (403, "role-required"))
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    table.update(dict.fromkeys(allowed, ok))
    table.update(special)
    return table


STAFF_CALLERS = ("roads_staff", "waste_staff", "admin")
# Who may see a report of the non-public category nuisance-neighbours (department Afval).
PRIVATE_VIEWERS = ("resident", "waste_staff", "admin")


def private_public_route(ok: int) -> dict[str, Expected | Bug]:
    """A PUBLIC route on a non-public report: 404 to everyone but its reporter and its staff."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, (404, "report-not-found"))
    table.update(dict.fromkeys(PRIVATE_VIEWERS, ok))
    return table


def private_resident_route(ok: int, **special: Expected | Bug) -> dict[str, Expected | Bug]:
    """A RESIDENT route on a non-public report: the policy first, then the same visibility."""
    table = private_public_route(ok)
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    table.update(special)
    return table


# Builders of valid requests.


async def nothing(setup: Setup) -> Call:
    return Call()


async def new_device(setup: Setup) -> Call:
    return Call(json={"jurisdiction": "amsterdam", "locale": "en"})


async def new_account(setup: Setup) -> Call:
    email = f"nieuw-{uuid.uuid4().hex[:12]}@example.org"
    return Call(json={"jurisdiction": "amsterdam", "email": email, "password": "een lang wachtwoord"})


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


def summary_of(district: str) -> Build:
    async def build(setup: Setup) -> Call:
        await setup.report()
        await setup.report("nuisance-neighbours")
        return Call(path={"area_id": setup.world.areas[district]})

    return build


HIDDEN = (404, "report-not-found")

MATRIX: dict[str, Case] = {
    "register device": Case("POST", "/api/v1/auth/devices", PUBLIC, new_device, everyone(201)),
    "register account": Case("POST", "/api/v1/auth/accounts", PUBLIC, new_account, everyone(201)),
    "sign in": Case("POST", "/api/v1/auth/tokens", PUBLIC, sign_in, everyone(201)),
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
        residents(201) | dict.fromkeys(("device", "resident", "council"), (403, "role-required")),
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
}


def _cells() -> list[Any]:
    cells = []
    for name, case in MATRIX.items():
        assert set(case.expect) == set(CALLERS), name
        for caller in CALLERS:
            expected = case.expect[caller]
            marks = []
            if isinstance(expected, Bug):
                marks.append(pytest.mark.xfail(strict=True, reason=expected.reason))
            cells.append(pytest.param(name, caller, id=f"{name}-{caller}", marks=marks))
    return cells


def assert_answer(response: httpx.Response, expected: Expected) -> None:
    """The exact status; on a 4xx, problem+json with the exact stable code."""
    status, code = (expected, None) if isinstance(expected, int) else expected
    assert response.status_code == status, response.text
    if code is not None:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
        problem = response.json()
        assert problem["code"] == code, problem
        assert problem["status"] == status, problem


@pytest.mark.parametrize(("name", "caller"), _cells())
async def test_role_matrix(client: httpx.AsyncClient, world: World, name: str, caller: str) -> None:
    case = MATRIX[name]
    call = await case.build(Setup(client, world))
    headers = {} if caller == "anonymous" else bearer(world.tokens[caller])
    response = await client.request(
        case.method,
        case.route.format(jurisdiction="amsterdam", **call.path),
        headers=headers | call.headers,
        json=call.json,
        files=call.files,
        data=call.data,
        params=call.params,
    )
    expected = case.expect[caller]
    assert_answer(response, expected.expected if isinstance(expected, Bug) else expected)
    if not case.staff_only:
        assert SECRET_EMAIL not in response.text and SECRET_PHONE not in response.text


async def test_contact_data_appears_in_no_public_view(client: httpx.AsyncClient, world: World) -> None:
    """Every public JSON view of a report, as every caller, without the reporter's e-mail or phone."""
    setup = Setup(client, world)
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
        for path, params in (
            (f"{base}/reports/{report_id}", None),
            (f"{base}/reports", {"limit": 500}),
            (f"{base}/reports/duplicates", {"category": "pothole", "longitude": 4.8927, "latitude": 52.3731}),
        ):
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            assert str(report_id) in response.text
            texts.append(response.text)
    for text in texts:
        assert SECRET_EMAIL not in text.lower() and SECRET_PHONE not in text
        assert "melder.geheim" not in text.lower()
    # The staff view does carry it: the check above is not vacuous.
    staff = await client.get(f"{base}/reports/{report_id}/staff-view", headers=setup.auth("roads_staff"))
    assert staff.json()["contact"] == {"email": SECRET_EMAIL, "phone": SECRET_PHONE}


async def test_a_non_public_report_is_listed_for_no_one(client: httpx.AsyncClient, world: World) -> None:
    setup = Setup(client, world)
    hidden = await setup.report("nuisance-neighbours")
    shown = await setup.report("pothole")
    for caller in CALLERS:
        headers = {} if caller == "anonymous" else bearer(world.tokens[caller])
        listed = await client.get(f"{setup.base}/reports", params={"limit": 500}, headers=headers)
        ids = {item["id"] for item in listed.json()["items"]}
        assert shown["id"] in ids and hidden["id"] not in ids, caller
