"""The role × route matrix's machinery, shared by every ``tests/api/test_role_matrix*.py``.

What a row is (:class:`Case`), how a valid request is built for it (:class:`Setup`), the expected answers
per policy (:func:`everyone`, :func:`residents`, :func:`restricted`, ...), and the runner that plays one cell
(:func:`run_cell`) inside the module's transaction (the ``matrix_run`` fixture, in ``conftest.py``). A
helper module rather than a test module, so the tables import it without importing each other's tests; the
tables themselves, each the single source of truth for its routes, stay in the test files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    AsyncTransaction,
    async_sessionmaker,
)

from api.auth import Policy
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
    expect: Mapping[str, Expected | Bug]
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
        errors = [(e.findtext("code") or "", e.findtext("description") or "") for e in root.findall("error")]
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
