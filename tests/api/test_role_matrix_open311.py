"""The role × route matrix of Open311 GeoReport v2 (``/open311/v2``).

Every route is PUBLIC: a bearer token changes nothing, and a client proves itself on ``POST requests`` with
the ``api_key`` an administrator issued for one jurisdiction. Errors are Open311's own (``[{code,
description}]`` or ``<errors>``), never problem+json: 400 bad input, 403 missing or invalid ``api_key``,
404 unknown service or request. Keys are issued with the service ``civicloop apikey create`` uses, inside the
row's savepoint. No answer may show the reporter's contact data or name, nor a confidential request.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.auth import PUBLIC
from api.open311 import keys
from tests.api.role_matrix import (
    CONTACT,
    Call,
    Case,
    MatrixRun,
    Open311Error,
    Setup,
    cells,
    everyone,
    run_cell,
)
from tests.conftest import DAM_SQUARE

OPEN311 = "/open311/v2"
REPORTER_NAME = ("Geheime", "Melderdottir")


async def issue_key(setup: Setup, jurisdiction: str = "amsterdam", *, revoked: bool = False) -> str:
    jurisdiction_id = setup.world.amsterdam if jurisdiction == "amsterdam" else setup.world.utrecht
    async with setup.sessionmaker() as session:
        issued = await keys.create_key(
            session, jurisdiction_id=jurisdiction_id, name=f"Matrix {jurisdiction}"
        )
        if revoked:
            await keys.revoke_key(session, key_id=issued.id)
        await session.commit()
    return issued.key


def request_form(api_key: str | None, service_code: str = "pothole", **extra: str) -> dict[str, str]:
    form = {
        "jurisdiction_id": "amsterdam",
        "service_code": service_code,
        "lat": str(DAM_SQUARE[1]),
        "long": str(DAM_SQUARE[0]),
        "description": "Losliggende stoeptegel",
        "email": CONTACT["email"],
        "phone": CONTACT["phone"],
        "first_name": REPORTER_NAME[0],
        "last_name": REPORTER_NAME[1],
        "device_id": "matrix-device-1",
        **extra,
    }
    if api_key is not None:
        form["api_key"] = api_key
    return form


async def submitted(setup: Setup, service_code: str = "pothole", **extra: str) -> dict[str, Any]:
    """A service request brought in by a client, with the reporter's name and contact data."""
    key = await issue_key(setup)
    response = await setup.client.post(
        f"{OPEN311}/requests.json", data=request_form(key, service_code, **extra)
    )
    assert response.status_code == 201, response.text
    [answer] = response.json()
    return dict(answer)


def private_marker() -> str:
    return f"Overlast-{uuid.uuid4().hex[:12]}"


async def with_confidential(setup: Setup) -> str:
    """A confidential request (a non-public category) whose description no list may show."""
    marker = private_marker()
    await submitted(setup, "nuisance-neighbours", description=marker)
    return marker


# Builders of valid requests.


def in_format(fmt: str, **path: Any) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(path={"fmt": fmt, **path})

    return build


async def services(setup: Setup) -> Call:
    return Call(path={"fmt": "json"}, params={"jurisdiction_id": "amsterdam"})


async def services_without_jurisdiction(setup: Setup) -> Call:
    return Call(path={"fmt": "json"})


def definition_of(code: str) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(path={"fmt": "json", "service_code": code}, params={"jurisdiction_id": "amsterdam"})

    return build


def submission(fmt: str, key: str) -> Any:
    """A valid submission carrying the given kind of key: live, none, unknown, revoked or Utrecht's."""

    async def build(setup: Setup) -> Call:
        api_key = {
            "live": lambda: issue_key(setup),
            "revoked": lambda: issue_key(setup, revoked=True),
            "utrecht": lambda: issue_key(setup, "utrecht"),
        }
        value: str | None = None
        if key in api_key:
            value = await api_key[key]()
        elif key == "unknown":
            value = "o311_" + uuid.uuid4().hex
        return Call(path={"fmt": fmt}, data=request_form(value))

    return build


def request_list(*, extensions: bool) -> Any:
    async def build(setup: Setup) -> Call:
        shown = await submitted(setup)
        marker = await with_confidential(setup)
        params = {"jurisdiction_id": "amsterdam"} | ({"extensions": "true"} if extensions else {})
        return Call(
            path={"fmt": "json"},
            params=params,
            absent=(marker, *REPORTER_NAME),
            facts={"shown": shown["service_request_id"]},
        )

    return build


def shows_the_public_request(response: Any, call: Call, caller: str) -> None:
    assert call.facts["shown"] in {item["service_request_id"] for item in response.json()}, caller


async def one_request(setup: Setup) -> Call:
    shown = await submitted(setup)
    return Call(
        path={"fmt": "json", "service_request_id": shown["service_request_id"]},
        params={"jurisdiction_id": "amsterdam"},
        absent=REPORTER_NAME,
    )


async def confidential_request(setup: Setup) -> Call:
    hidden = await submitted(setup, "nuisance-neighbours", description=private_marker())
    return Call(
        path={"fmt": "json", "service_request_id": hidden["service_request_id"]},
        params={"jurisdiction_id": "amsterdam"},
    )


async def token_of_request(setup: Setup) -> Call:
    shown = await submitted(setup)
    return Call(
        path={"fmt": "json", "token": shown["token"]},
        params={"jurisdiction_id": "amsterdam"},
        absent=REPORTER_NAME,
    )


async def token_under_utrecht(setup: Setup) -> Call:
    shown = await submitted(setup)
    return Call(path={"fmt": "json", "token": shown["token"]}, params={"jurisdiction_id": "utrecht"})


NO_KEY = "api_key is required"
BAD_KEY = "unknown or revoked"

MATRIX: dict[str, Case] = {
    "discovery": Case("GET", f"{OPEN311}/discovery.{{fmt}}", PUBLIC, in_format("json"), everyone(200)),
    "discovery as XML": Case("GET", f"{OPEN311}/discovery.{{fmt}}", PUBLIC, in_format("xml"), everyone(200)),
    "discovery in an unknown format": Case(
        "GET",
        f"{OPEN311}/discovery.{{fmt}}",
        PUBLIC,
        in_format("html"),
        everyone(Open311Error(400, "the format must be .xml or .json")),
    ),
    "services": Case("GET", f"{OPEN311}/services.{{fmt}}", PUBLIC, services, everyone(200)),
    "services without a jurisdiction": Case(
        "GET",
        f"{OPEN311}/services.{{fmt}}",
        PUBLIC,
        services_without_jurisdiction,
        everyone(Open311Error(400, "jurisdiction_id is required")),
    ),
    "service definition": Case(
        "GET",
        f"{OPEN311}/services/{{service_code}}.{{fmt}}",
        PUBLIC,
        definition_of("street-light"),
        everyone(200),
    ),
    "definition of an unknown service": Case(
        "GET",
        f"{OPEN311}/services/{{service_code}}.{{fmt}}",
        PUBLIC,
        definition_of("no-such-service"),
        everyone(Open311Error(404, "no service")),
    ),
    "definition of a service group": Case(
        "GET",
        f"{OPEN311}/services/{{service_code}}.{{fmt}}",
        PUBLIC,
        definition_of("street"),
        everyone(Open311Error(404, "no service")),
    ),
    "submit request": Case(
        "POST", f"{OPEN311}/requests.{{fmt}}", PUBLIC, submission("json", "live"), everyone(201)
    ),
    "submit request as XML": Case(
        "POST", f"{OPEN311}/requests.{{fmt}}", PUBLIC, submission("xml", "live"), everyone(201)
    ),
    "submit request without api_key": Case(
        "POST",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        submission("json", "none"),
        everyone(Open311Error(403, NO_KEY)),
    ),
    "submit request without api_key, XML": Case(
        "POST",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        submission("xml", "none"),
        everyone(Open311Error(403, NO_KEY, fmt="xml")),
    ),
    "submit request with an unknown api_key": Case(
        "POST",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        submission("json", "unknown"),
        everyone(Open311Error(403, BAD_KEY)),
    ),
    "submit request with a revoked api_key": Case(
        "POST",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        submission("json", "revoked"),
        everyone(Open311Error(403, BAD_KEY)),
    ),
    "submit request with another jurisdiction's api_key": Case(
        "POST",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        submission("json", "utrecht"),
        everyone(Open311Error(403, "api_key")),
    ),
    "list requests": Case(
        "GET",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        request_list(extensions=False),
        everyone(200),
        check=shows_the_public_request,
    ),
    "list requests with extensions": Case(
        "GET",
        f"{OPEN311}/requests.{{fmt}}",
        PUBLIC,
        request_list(extensions=True),
        everyone(200),
        check=shows_the_public_request,
    ),
    "read request": Case(
        "GET", f"{OPEN311}/requests/{{service_request_id}}.{{fmt}}", PUBLIC, one_request, everyone(200)
    ),
    "read confidential request": Case(
        "GET",
        f"{OPEN311}/requests/{{service_request_id}}.{{fmt}}",
        PUBLIC,
        confidential_request,
        everyone(Open311Error(404, "no service request")),
    ),
    "read token": Case("GET", f"{OPEN311}/tokens/{{token}}.{{fmt}}", PUBLIC, token_of_request, everyone(200)),
    "read token under another jurisdiction": Case(
        "GET",
        f"{OPEN311}/tokens/{{token}}.{{fmt}}",
        PUBLIC,
        token_under_utrecht,
        everyone(Open311Error(404, "no service request")),
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_open311_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)
