"""Every role × route pair: who may call what, and what everyone else gets back.

The tables are the single source of truth: one ``Case`` per route (and per visibility or jurisdiction
variant of a route), naming the policy it must declare, how to build a valid request, and the exact answer
each caller gets. This file holds the report routes and the machinery; the Open311, map and participation
routes have their tables in ``test_role_matrix_open311.py``, ``test_role_matrix_map.py`` and
``test_role_matrix_participation.py``. ``test_route_policies`` checks that the app's routes and the union
of the tables cover each other, so a new route without a row fails the suite.

Speed without shared state: a module runs on one connection inside one transaction that is rolled back at
the end. A row's setup is built once, through the API (or a service, where no route exists), inside a
savepoint of its own; each caller's request then runs in a nested savepoint that is rolled back right after
the answer, so every cell sees exactly the row's setup and nothing another cell did. The row's savepoint is
rolled back before the next row is built.

The reports are submitted with contact data, and no response to a caller outside the staff may ever
contain it; nor may any response name a ballot's id, a voter key, or pair them.
"""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncTransaction,
    async_sessionmaker,
)

from api.app import create_app
from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT, STAFF, Policy
from core.account_links import link_token
from core.settings import PLACEHOLDER_SECRET, Settings
from tests.conftest import DAM_SQUARE, World, bearer, report_body
from tests.response_schemas import response_hooks

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
    "officer",
    "utrecht_admin",
    "utrecht_staff",
    "utrecht_resident",
)
AMSTERDAM_ACCOUNTS = ("device", "resident", "council", "roads_staff", "waste_staff", "admin", "officer")
UTRECHT = ("utrecht_admin", "utrecht_staff", "utrecht_resident")
# Callers who may see a reporter's contact data, on the rows marked ``staff_only``.
CONTACT_VIEWERS = ("roads_staff", "waste_staff", "admin")
# The reporter's contact data: only the staff view may ever show it.
SECRET_EMAIL = "melder.geheim@example.org"
SECRET_PHONE = "+31 6 5555 0199"
CONTACT = {"email": SECRET_EMAIL, "phone": SECRET_PHONE}
# JSON keys that would pair a voter with a ballot; no response carries them.
LINK_KEYS = frozenset({"voter_key", "ballot_id", "ballot_ids", "ballot_key"})


@dataclass(frozen=True)
class Open311Error:
    """An error in GeoReport v2's own format (never problem+json): ``[{code, description}]`` in JSON,
    ``<errors><error><code/><description/></error></errors>`` in XML, the status repeated as ``code``."""

    status: int
    says: str
    fmt: str = "json"


Expected = int | tuple[int, str] | Open311Error
"""A 2xx status; a 4xx status with its problem ``code``; or an Open311 error."""


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
    data: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None
    jurisdiction: str = "amsterdam"
    absent: tuple[str, ...] = ()  # text no caller may see in the answer (e.g. a non-public report's)
    facts: dict[str, Any] = field(default_factory=dict)  # what a row's ``check`` needs to know


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


class Setup:
    """Builds the objects a case needs, through the API as the people who would create them, or through
    a service (committed into the row's savepoint) where no route exists."""

    def __init__(
        self, client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.client = client
        self.world = world
        self.sessionmaker = sessionmaker
        self.base = J.format(jurisdiction="amsterdam")

    def auth(self, who: str) -> dict[str, str]:
        return bearer(self.world.tokens[who])

    async def ok(self, method: str, path: str, who: str, status: int, **kwargs: Any) -> Any:
        """One request that must succeed with ``status``; its JSON (or the response, if not JSON)."""
        response = await self.client.request(method, path, headers=self.auth(who), **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response

    async def photo(self, who: str = "resident") -> int:
        response = await self.client.post(
            f"{self.base}/photos",
            files={"file": ("gat.jpg", small_jpeg(), "image/jpeg")},
            headers=self.auth(who),
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def report(
        self,
        category: str = "pothole",
        *,
        with_photo: bool = False,
        point: tuple[float, float] = DAM_SQUARE,
        description: str = "Diep gat in het fietspad",
    ) -> dict[str, Any]:
        photo_ids = [await self.photo()] if with_photo else []
        response = await self.client.post(
            f"{self.base}/reports",
            json=report_body(category, point, contact=CONTACT, photo_ids=photo_ids, description=description),
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
Check = Callable[[httpx.Response, Call, str], None]


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    policy: Policy
    build: Build
    expect: dict[str, Expected | Bug]
    staff_only: bool = False  # the response may carry contact data, to the staff
    check: Check | None = None  # more to assert on a 2xx answer (e.g. what a list must leave out)


# Expected answers per policy. ``ok`` is the success status of the route.


def everyone(ok: Expected | Bug) -> dict[str, Expected | Bug]:
    return dict.fromkeys(CALLERS, ok)


def residents(ok: Expected | Bug, **special: Expected | Bug) -> dict[str, Expected | Bug]:
    """RESIDENT on a route under /jurisdictions/{jurisdiction}: any account of that jurisdiction."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, ok)
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    table.update(special)
    return table


def restricted(
    ok: Expected | Bug, allowed: tuple[str, ...], **special: Expected | Bug
) -> dict[str, Expected | Bug]:
    """STAFF, COUNCIL or ADMIN: ``allowed`` get ``ok``, other Amsterdam accounts ``role-required``."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, (403, "role-required"))
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    table.update(dict.fromkeys(allowed, ok))
    table.update(special)
    return table


def on_utrecht_path(allowed: tuple[str, ...], answer: Expected | Bug) -> dict[str, Expected | Bug]:
    """A restricted route called under /jurisdictions/utrecht with an Amsterdam object's id: Amsterdam
    accounts are turned away by jurisdiction, Utrecht's ``allowed`` get ``answer`` (the object's 404)."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, (403, "wrong-jurisdiction"))
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "role-required")))
    table.update(dict.fromkeys(allowed, answer))
    return table


STAFF_CALLERS = ("roads_staff", "waste_staff", "admin")
# Who may see a report of the non-public category nuisance-neighbours (department Afval).
PRIVATE_VIEWERS = ("resident", "waste_staff", "admin")
HIDDEN = (404, "report-not-found")


def private_public_route(ok: int) -> dict[str, Expected | Bug]:
    """A PUBLIC route on a non-public report: 404 to everyone but its reporter and its staff."""
    table: dict[str, Expected | Bug] = dict.fromkeys(CALLERS, HIDDEN)
    table.update(dict.fromkeys(PRIVATE_VIEWERS, ok))
    return table


def private_resident_route(ok: int, **special: Expected | Bug) -> dict[str, Expected | Bug]:
    """A RESIDENT route on a non-public report: the policy first, then the same visibility."""
    table = private_public_route(ok)
    table["anonymous"] = (401, "not-authenticated")
    table.update(dict.fromkeys(UTRECHT, (403, "wrong-jurisdiction")))
    table.update(special)
    return table


# The runner: one connection, one app and one transaction per module; a savepoint per row, one per cell.


@dataclass
class MatrixRun:
    connection: AsyncConnection
    sessionmaker: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    world: World
    row: tuple[int, str] | None = None
    row_savepoint: AsyncTransaction | None = None
    built: Call | BaseException | None = None

    async def call_for(self, matrix: dict[str, Case], name: str) -> Call:
        """The row's request, its setup built once into the row's savepoint."""
        key = (id(matrix), name)
        if self.row != key:
            await self.leave_row()
            self.row = key
            self.row_savepoint = await self.connection.begin_nested()
            try:
                self.built = await matrix[name].build(Setup(self.client, self.world, self.sessionmaker))
            except Exception as error:  # every cell of the row reports it
                self.built = error
        if isinstance(self.built, BaseException):
            raise AssertionError(f"the setup of {name!r} failed: {self.built!r}") from self.built
        assert self.built is not None
        return self.built

    async def leave_row(self) -> None:
        if self.row_savepoint is not None and self.row_savepoint.is_active:
            await self.row_savepoint.rollback()
        self.row, self.row_savepoint, self.built = None, None, None

    async def ballot_links(self) -> list[str]:
        """Every ballot id and voter key there is right now, as text a response could leak them as."""
        rows = await self.connection.execute(
            text(
                "SELECT id::text FROM ballots UNION ALL SELECT replace(id::text, '-', '') FROM ballots"
                " UNION ALL SELECT encode(voter_key, 'hex') FROM voter_participations"
                " UNION ALL SELECT encode(voter_key, 'base64') FROM voter_participations"
            )
        )
        return [row[0] for row in rows]


@pytest.fixture(scope="module")
async def matrix_run(
    engine: AsyncEngine, world: World, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MatrixRun]:
    media: Path = tmp_path_factory.mktemp("matrix-media")
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        settings = Settings(environment="test", database_url=database_url, media_dir=media, rate_limits=False)
        app = create_app(settings, sessionmaker=sessionmaker)
        app.state.ballot_sessionmaker = sessionmaker  # the mixer writes inside the transaction too
        app.state.map_refresh_checked_at = math.inf  # no background refresh of the map cells
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
        ) as client:
            run = MatrixRun(connection, sessionmaker, client, world)
            yield run
            await run.leave_row()
        await transaction.rollback()


def cells(matrix: dict[str, Case]) -> list[Any]:
    """One test per (row, caller); a ``Bug`` cell is a strict xfail that only an assertion may satisfy."""
    params = []
    for name, case in matrix.items():
        assert set(case.expect) == set(CALLERS), name
        for caller in CALLERS:
            expected = case.expect[caller]
            marks = []
            if isinstance(expected, Bug):
                marks.append(pytest.mark.xfail(strict=True, reason=expected.reason, raises=AssertionError))
            params.append(pytest.param(name, caller, id=f"{name}-{caller}", marks=marks))
    return params


def assert_answer(response: httpx.Response, expected: Expected) -> None:
    """The exact status; on a 4xx, problem+json with the exact stable code (or Open311's own errors)."""
    if isinstance(expected, Open311Error):
        assert_open311_error(response, expected)
        return
    status, code = (expected, None) if isinstance(expected, int) else expected
    assert response.status_code == status, response.text
    if code is not None:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
        problem = response.json()
        assert problem["code"] == code, problem
        assert problem["status"] == status, problem


def assert_open311_error(response: httpx.Response, expected: Open311Error) -> None:
    assert response.status_code == expected.status, response.text
    content_type = response.headers["content-type"]
    if expected.fmt == "json":
        assert content_type.startswith("application/json"), content_type
        errors = [(str(e["code"]), e["description"]) for e in response.json()]
    else:
        assert content_type.startswith("text/xml"), content_type
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors", response.text
        errors = [(e.findtext("code"), e.findtext("description") or "") for e in root.findall("error")]
    assert errors, response.text
    assert all(code == str(expected.status) for code, _ in errors), errors
    assert any(expected.says in description for _, description in errors), errors


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


def assert_nothing_private(response: httpx.Response, links: list[str], *, contact_allowed: bool) -> None:
    """No contact data (unless the caller is staff on a staff route), no ballot id or voter key."""
    body = response.text
    if not contact_allowed:
        assert SECRET_EMAIL not in body.lower() and SECRET_PHONE not in body, body
        assert "melder.geheim" not in body.lower(), body
    for secret in links:
        assert secret not in body, f"a ballot id or voter key in the answer: {body}"
    if response.headers.get("content-type", "").startswith(("application/json", PROBLEM_JSON)):
        assert not _keys(json.loads(body or "null")) & LINK_KEYS, body


async def run_cell(run: MatrixRun, matrix: dict[str, Case], name: str, caller: str) -> None:
    case = matrix[name]
    call = await run.call_for(matrix, name)
    headers = {} if caller == "anonymous" else bearer(run.world.tokens[caller])
    cell = await run.connection.begin_nested()
    try:
        response = await run.client.request(
            case.method,
            case.route.format(jurisdiction=call.jurisdiction, **call.path),
            headers=headers | call.headers,
            json=call.json,
            files=call.files,
            data=call.data,
            params=call.params,
        )
        links = await run.ballot_links()
    finally:
        await cell.rollback()
    expected = case.expect[caller]
    assert_answer(response, expected.expected if isinstance(expected, Bug) else expected)
    assert_nothing_private(response, links, contact_allowed=case.staff_only and caller in CONTACT_VIEWERS)
    for hidden in call.absent:
        assert hidden not in response.text, f"{hidden!r} shown to {caller}"
    if case.check is not None and 200 <= response.status_code < 300:
        case.check(response, call, caller)


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
        for path, params in (
            (f"{base}/reports/{report_id}", None),
            (f"{base}/reports", {"limit": 500}),
            (f"{base}/reports/duplicates", {"category": "pothole", "longitude": 4.8927, "latitude": 52.3731}),
        ):
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
