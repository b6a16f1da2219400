"""Malformed and hostile input: a precise 4xx as problem+json, never a 500, and nothing half-written.

Every refused write is checked against the database through the test's own session: the counts of
reports, status records, followers, outbox events, photos and idempotency keys are the same before
and after.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.idempotency import IdempotencyRecord
from core.outbox import OutboxEvent
from geo.models import Photo, Report, ReportFollower, ReportStatusChange
from tests.conftest import NORTH_SEA, UTRECHT_DOM, World, bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"
PROBLEM_JSON = "application/problem+json"
SQL = "'); DROP TABLE reports;--"
TABLES = {
    "reports": Report,
    "status_changes": ReportStatusChange,
    "followers": ReportFollower,
    "outbox": OutboxEvent,
    "photos": Photo,
    "idempotency": IdempotencyRecord,
}


def refused(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A precise 4xx, never a 500, as RFC 9457 problem+json with a stable code."""
    assert response.status_code < 500, response.text
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["code"], problem
    if code is not None:
        assert problem["code"] == code, problem
    return problem


async def counts(session: AsyncSession) -> dict[str, int]:
    return {
        name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in TABLES.items()
    }


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (120, 90, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def raw(text: str) -> bytes:
    return text.encode()


def point(*coordinates: Any) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(coordinates)}


NAN_BODY = (
    '{"category": "pothole", "location": {"type": "Point", "coordinates": [%s, 52.3731]},'
    ' "description": "gat"}'
)

# (body: dict sent as JSON, or bytes sent raw as application/json), expected status, expected code
HOSTILE_REPORTS = [
    pytest.param(
        report_body(
            location={"type": "Polygon", "coordinates": [[[4.88, 52.37], [4.89, 52.37], [4.88, 52.37]]]}
        ),
        422,
        "invalid-input",
        id="polygon",
    ),
    pytest.param(report_body(location=point(4.8927, 52.3731, 3.0)), 422, "invalid-input", id="3-coordinates"),
    pytest.param(report_body(location=point(4.8927)), 422, "invalid-input", id="1-coordinate"),
    pytest.param(report_body(location=point()), 422, "invalid-input", id="no-coordinates"),
    pytest.param(
        report_body(location=point("4.8927", "52.3731")),
        422,
        "invalid-input",
        id="string-coordinates",
    ),
    pytest.param(
        report_body(location=point(True, True)),
        422,
        "invalid-input",
        id="boolean-coordinates",
    ),
    pytest.param(
        report_body(location={"type": "Point", "coordinates": "4.8927,52.3731"}),
        422,
        "invalid-input",
        id="coordinates-as-one-string",
    ),
    pytest.param(
        report_body(location={"type": "point", "coordinates": [4.89, 52.37]}), 422, None, id="type-case"
    ),
    pytest.param(report_body(location={"coordinates": [4.89, 52.37]}), 422, "invalid-input", id="no-type"),
    pytest.param(report_body(location={"type": "Point"}), 422, "invalid-input", id="no-coordinates-key"),
    pytest.param(report_body(location=None), 422, "invalid-input", id="location-null"),
    pytest.param(
        {k: v for k, v in report_body().items() if k != "location"},
        422,
        "invalid-input",
        id="location-missing",
    ),
    pytest.param(report_body(location=point(180.5, 52.37)), 422, "invalid-input", id="longitude-181"),
    pytest.param(report_body(location=point(-180.01, 52.37)), 422, "invalid-input", id="longitude--181"),
    pytest.param(report_body(location=point(4.89, 90.1)), 422, "invalid-input", id="latitude-90.1"),
    pytest.param(report_body(location=point(4.89, -91)), 422, "invalid-input", id="latitude--91"),
    pytest.param(raw(NAN_BODY % "NaN"), 422, "invalid-input", id="NaN"),
    pytest.param(raw(NAN_BODY % "Infinity"), 422, "invalid-input", id="Infinity"),
    pytest.param(raw(NAN_BODY % "-Infinity"), 422, "invalid-input", id="-Infinity"),
    pytest.param(report_body(description="x" * 1024 * 1024), 413, "payload-too-large", id="1MB-description"),
    pytest.param(report_body(address="y" * 300 * 1024), 413, "payload-too-large", id="300KB-body"),
    pytest.param(report_body(description="x" * 5001), 422, "invalid-input", id="5001-char-description"),
    pytest.param(report_body(description="   \n\t "), 422, "invalid-input", id="blank-description"),
    pytest.param(report_body(address="a" * 301), 422, "invalid-input", id="long-address"),
    pytest.param(raw('{"category": "pothole", "location": '), 400, "malformed-json", id="truncated-json"),
    pytest.param(raw("{'category': 'pothole'}"), 400, "malformed-json", id="single-quoted-json"),
    pytest.param(raw('{"category": "pothole"} trailing'), 400, "malformed-json", id="trailing-garbage"),
    pytest.param(raw("[" * 50_000), 400, None, id="deeply-nested"),
    pytest.param(raw("[]"), 422, "invalid-input", id="json-array"),
    pytest.param(raw('"a report"'), 422, "invalid-input", id="json-string"),
    pytest.param(raw("null"), 422, "invalid-input", id="json-null"),
    pytest.param(report_body(priority="urgent"), 422, "invalid-input", id="unknown-field"),
    pytest.param(
        report_body(location={**point(4.8927, 52.3731), "crs": "EPSG:28992"}),
        422,
        "invalid-input",
        id="unknown-field-in-location",
    ),
    pytest.param(report_body(contact={"fax": "020"}), 422, "invalid-input", id="unknown-field-in-contact"),
    pytest.param(report_body(contact={"email": "not an address"}), 422, "invalid-input", id="bad-email"),
    pytest.param(report_body(contact={"phone": "call me; " + SQL}), 422, "invalid-input", id="bad-phone"),
    pytest.param(report_body(category=SQL), 422, "invalid-input", id="sql-category"),
    pytest.param(report_body(category="Pothole"), 422, "invalid-input", id="uppercase-category"),
    pytest.param(report_body(category="no-such-thing"), 404, "category-not-found", id="unknown-category"),
    pytest.param(report_body(category="street"), 409, "category-not-selectable", id="group-category"),
    pytest.param(report_body(point=NORTH_SEA), 422, "location-outside-jurisdiction", id="north-sea"),
    pytest.param(report_body(point=UTRECHT_DOM), 422, "location-outside-jurisdiction", id="utrecht-dom"),
    pytest.param(report_body(extra=["pole_number"]), 422, "invalid-input", id="extra-not-an-object"),
    pytest.param(report_body(photo_ids=[1, 2, 3, 4]), 422, "invalid-input", id="four-photos"),
    pytest.param(report_body(photo_ids=[7, 7]), 422, "invalid-input", id="repeated-photo"),
    pytest.param(report_body(photo_ids=["one"]), 422, "invalid-input", id="photo-id-string"),
    pytest.param(report_body(photo_ids=[987_654_321]), 404, "photo-not-found", id="unknown-photo"),
    pytest.param(
        report_body(description="gat\x00in de weg"),
        422,
        "invalid-input",
        id="nul-in-description",
    ),
    pytest.param(report_body(address="Dam\x001"), 422, "invalid-input", id="nul-in-address"),
    pytest.param(
        report_body("street-light", extra={"pole_number": "A\x00"}),
        422,
        "invalid-input",
        id="nul-in-extra-answer",
    ),
]


async def post_report(
    client: httpx.AsyncClient, token: str, body: dict[str, Any] | bytes, **headers: str
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        f"{BASE}/reports",
        content=content,
        headers=bearer(token) | {"content-type": "application/json"} | headers,
    )


@pytest.mark.parametrize(("body", "status", "code"), HOSTILE_REPORTS)
async def test_a_hostile_report_is_refused_and_leaves_nothing(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    body: dict[str, Any] | bytes,
    status: int,
    code: str | None,
) -> None:
    before = await counts(session)
    response = await post_report(client, world.tokens["resident"], body)
    refused(response, status, code)
    assert await counts(session) == before


async def test_the_hostile_cases_differ_from_a_valid_report_only_in_their_flaw(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    """The baseline the cases above start from is accepted, so each refusal is about its own flaw."""
    before = await counts(session)
    response = await post_report(client, world.tokens["resident"], report_body())
    assert response.status_code == 201, response.text
    after = await counts(session)
    assert after["reports"] == before["reports"] + 1 and after["outbox"] == before["outbox"] + 1


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "text/html; charset=utf-8", "application/yaml", None]
)
async def test_a_body_of_another_type_is_415(
    client: httpx.AsyncClient, world: World, session: AsyncSession, content_type: str | None
) -> None:
    before = await counts(session)
    headers = bearer(world.tokens["resident"])
    if content_type is not None:
        headers["content-type"] = content_type
    response = await client.post(
        f"{BASE}/reports", content=json.dumps(report_body()).encode(), headers=headers
    )
    refused(response, 415, "unsupported-media-type")
    assert await counts(session) == before


async def test_an_oversized_chunked_body_is_413(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    async def chunks() -> Any:
        for _ in range(30):
            yield b" " * 10_000

    before = await counts(session)
    response = await client.post(
        f"{BASE}/reports",
        content=chunks(),
        headers=bearer(world.tokens["resident"]) | {"content-type": "application/json"},
    )
    refused(response, 413, "payload-too-large")
    assert await counts(session) == before


@pytest.mark.parametrize(
    ("extra", "offending"),
    [
        pytest.param({}, {"pole_number"}, id="required-missing"),
        pytest.param(
            {"pole_number": "  "},
            {"pole_number"},
            id="required-blank",
        ),
        pytest.param({"pole_number": 12}, {"pole_number"}, id="not-a-string"),
        pytest.param({"pole_number": "A-1", "kind": "explodes"}, {"kind"}, id="unknown-option"),
        pytest.param({"pole_number": "A-1", "colour": "red"}, {"colour"}, id="unknown-field"),
        pytest.param({"pole_number": "x" * 501}, {"pole_number"}, id="too-long"),
        pytest.param({"kind": ["off"], SQL: 1}, {"pole_number", "kind", SQL}, id="all-at-once"),
    ],
)
async def test_invalid_extra_fields_name_each_offending_field(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    extra: dict[str, Any],
    offending: set[str],
) -> None:
    before = await counts(session)
    response = await post_report(client, world.tokens["resident"], report_body("street-light", extra=extra))
    problem = refused(response, 422, "invalid-extra-fields")
    assert set(problem["errors"]) == offending
    assert all(isinstance(message, str) and message for message in problem["errors"].values())
    assert await counts(session) == before


async def test_another_residents_photo_cannot_be_attached(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    upload = await client.post(
        f"{BASE}/photos",
        files={"file": ("foto.jpg", jpeg(), "image/jpeg")},
        headers=bearer(world.tokens["other_resident"]),
    )
    assert upload.status_code == 201, upload.text
    photo_id = upload.json()["id"]
    before = await counts(session)
    response = await post_report(client, world.tokens["resident"], report_body(photo_ids=[photo_id]))
    assert refused(response, 404, "photo-not-found")["photo_ids"] == [photo_id]
    assert await counts(session) == before
    assert await session.scalar(select(Photo.report_id).where(Photo.id == photo_id)) is None


async def test_an_attached_photo_cannot_be_attached_again(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    token = world.tokens["resident"]
    upload = await client.post(
        f"{BASE}/photos", files={"file": ("foto.jpg", jpeg(), "image/jpeg")}, headers=bearer(token)
    )
    photo_id = upload.json()["id"]
    first = await post_report(client, token, report_body(photo_ids=[photo_id]))
    assert first.status_code == 201, first.text
    before = await counts(session)
    refused(await post_report(client, token, report_body(photo_ids=[photo_id])), 404, "photo-not-found")
    assert await counts(session) == before
    assert await session.scalar(select(Photo.report_id).where(Photo.id == photo_id)) == first.json()["id"]


async def test_sql_looking_text_is_stored_verbatim_and_never_executed(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    token = world.tokens["resident"]
    before = await counts(session)
    description = f"Robert{SQL} \"; DELETE FROM reports WHERE '1'='1"
    created = await post_report(client, token, report_body(description=description, address=SQL))
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]
    read = await client.get(f"{BASE}/reports/{report_id}")
    assert read.json()["description"] == description and read.json()["address"] == SQL
    # In query parameters and path segments: refused as unknown, never run.
    refused(await client.get(f"{BASE}/reports", params={"category": SQL}), 422, "unknown-category")
    refused(await client.get(f"{BASE}/reports", params={"status": f"submitted{SQL}"}), 422, "unknown-status")
    refused(
        await client.get(
            f"{BASE}/reports/duplicates", params={"category": SQL, "longitude": 4.9, "latitude": 52.4}
        ),
        404,
        "category-not-found",
    )
    refused(await client.get(f"/api/v1/jurisdictions/{SQL}/reports"), 404, "jurisdiction-not-found")
    refused(
        await client.patch(
            f"{BASE}/categories/{SQL}", json={"handling_days": 1}, headers=bearer(world.tokens["admin"])
        ),
        404,
        "category-not-found",
    )
    # The table is still there and still works.
    listed = await client.get(f"{BASE}/reports", params={"limit": 500})
    assert report_id in {item["id"] for item in listed.json()["items"]}
    after = await counts(session)
    assert after["reports"] == before["reports"] + 1
    assert await session.scalar(select(Report.description).where(Report.id == report_id)) == description


LIST_PARAMS = [
    ({"bbox": "a,b,c,d"}, "invalid-bbox"),
    ({"bbox": "4.8,52.3,4.9"}, "invalid-bbox"),
    ({"bbox": "4.8,52.3,4.9,52.4,5"}, "invalid-bbox"),
    ({"bbox": "4.9,52.4,4.8,52.3"}, "invalid-bbox"),
    ({"bbox": "4.8,52.4,4.9,52.3"}, "invalid-bbox"),
    ({"bbox": "-200,52.3,4.9,52.4"}, "invalid-bbox"),
    ({"bbox": "4.8,-95,4.9,52.4"}, "invalid-bbox"),
    ({"bbox": "nan,52.3,4.9,52.4"}, "invalid-bbox"),
    ({"bbox": "4.8,52.3,inf,52.4"}, "invalid-bbox"),
    ({"bbox": ",,,"}, "invalid-bbox"),
    ({"bbox": "1," * 101}, "invalid-input"),
    ({"near": "200,52"}, "invalid-near"),
    ({"near": "4.9"}, "invalid-near"),
    ({"near": "4.9,52.3,7"}, "invalid-near"),
    ({"near": "4.9,-inf"}, "invalid-near"),
    ({"near": "4.9,52.3", "radius": "0"}, "invalid-radius"),
    ({"near": "4.9,52.3", "radius": "-5"}, "invalid-radius"),
    ({"near": "4.9,52.3", "radius": "100000"}, "invalid-radius"),
    ({"near": "4.9,52.3", "radius": "nan"}, "invalid-radius"),
    ({"status": "bogus"}, "unknown-status"),
    ({"status": "submitted,SUBMITTED"}, "unknown-status"),
    ({"category": "nope"}, "unknown-category"),
    ({"cursor": "!!!!"}, "invalid-cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"no separator").decode()}, "invalid-cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"2024-01-01T00:00:00|1").decode()}, "invalid-cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"2024-01-01T00:00:00+00:00|x").decode()}, "invalid-cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"\xff\xfe|1").decode()}, "invalid-cursor"),
    ({"cursor": "x" * 201}, "invalid-input"),
    ({"limit": "0"}, "invalid-input"),
    ({"limit": "-1"}, "invalid-input"),
    ({"limit": "10000"}, "invalid-input"),
    ({"limit": "ten"}, "invalid-input"),
    (
        {"created_after": "2025-02-01T00:00:00Z", "created_before": "2025-01-01T00:00:00Z"},
        "invalid-time-range",
    ),
    (
        {"created_after": "2025-01-01T00:00:00Z", "created_before": "2025-01-01T00:00:00Z"},
        "invalid-time-range",
    ),
    ({"created_after": "2025-01-01T00:00:00"}, "invalid-input"),
    ({"created_before": "yesterday"}, "invalid-input"),
    ({"area_id": "0"}, "invalid-input"),
    ({"area_id": "Centrum"}, "invalid-input"),
]


@pytest.mark.parametrize(
    ("params", "code"), [pytest.param(p, c, id=json.dumps(p)[:60]) for p, c in LIST_PARAMS]
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, str], code: str
) -> None:
    refused(await client.get(f"{BASE}/reports", params=params), 422, code)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"longitude": "4.9", "latitude": "52.3"}, "invalid-input"),
        ({"category": "pothole", "longitude": "181", "latitude": "52.3"}, "invalid-position"),
        ({"category": "pothole", "longitude": "4.9", "latitude": "-90.5"}, "invalid-position"),
        ({"category": "pothole", "longitude": "nan", "latitude": "52.3"}, "invalid-position"),
        ({"category": "pothole", "longitude": "4.9", "latitude": "52.3", "radius": "5000"}, "invalid-radius"),
        ({"category": "pothole", "longitude": "east", "latitude": "52.3"}, "invalid-input"),
    ],
)
async def test_bad_duplicate_parameters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, str], code: str
) -> None:
    refused(await client.get(f"{BASE}/reports/duplicates", params=params), 422, code)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("k" * 256, "too long"),
        ("", "empty"),
        ("with space", "space"),
        (b"ctrl\x01char", "control character"),
        (b"tab\tchar", "tab"),
        (b"del\x7f", "DEL"),
        ("sleutel-é".encode("latin-1"), "not ASCII"),
    ],
)
async def test_a_bad_idempotency_key_is_422(
    client: httpx.AsyncClient, world: World, session: AsyncSession, key: str | bytes, reason: str
) -> None:
    before = await counts(session)
    response = await client.post(
        f"{BASE}/reports",
        json=report_body(),
        # All bytes: httpx sends a bytes value as is (a str one it encodes as ASCII, as here).
        headers={
            b"Authorization": f"Bearer {world.tokens['resident']}".encode("ascii"),
            b"Idempotency-Key": key if isinstance(key, bytes) else key.encode("ascii"),
        },
    )
    refused(response, 422, "invalid-idempotency-key")
    assert await counts(session) == before


async def test_an_idempotency_key_reused_with_another_body_is_422(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    headers = {"Idempotency-Key": "hostile-reuse"}
    token = world.tokens["resident"]
    before = await counts(session)
    first = await post_report(client, token, report_body(), **headers)
    assert first.status_code == 201, first.text
    middle = await counts(session)
    other = await post_report(client, token, report_body(description="iets anders"), **headers)
    refused(other, 422, "idempotency-key-reused")
    assert await counts(session) == middle
    assert middle["reports"] == before["reports"] + 1


async def test_a_retry_with_the_same_key_replays_and_creates_exactly_one_report(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    token = world.tokens["device"]
    before = await counts(session)
    answers = [
        await post_report(client, token, report_body(), **{"Idempotency-Key": "hostile-retry"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert "idempotent-replayed" not in answers[0].headers
    assert answers[1].headers["idempotent-replayed"] == answers[2].headers["idempotent-replayed"] == "true"
    after = await counts(session)
    for table in ("reports", "status_changes", "followers", "outbox", "idempotency"):
        assert after[table] == before[table] + 1, table


@pytest.mark.parametrize(
    ("files", "data", "status", "code"),
    [
        pytest.param(
            {"file": ("gat.jpg", b"this is not an image", "image/jpeg")},
            None,
            415,
            "photo-unsupported-type",
            id="text-as-jpeg",
        ),
        pytest.param(
            {"file": ("gat.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")},
            None,
            415,
            "photo-unsupported-type",
            id="svg",
        ),
        pytest.param(
            {"file": ("gat.pdf", b"%PDF-1.4\n%\xe2\xe3", "application/pdf")},
            None,
            415,
            "photo-unsupported-type",
            id="pdf",
        ),
        pytest.param({"file": ("gat.jpg", b"", "image/jpeg")}, None, 422, "photo-unreadable", id="empty"),
        pytest.param(
            {"file": ("gat.jpg", jpeg()[:40], "image/jpeg")}, None, 422, "photo-unreadable", id="truncated"
        ),
        pytest.param(
            {"other": ("gat.jpg", jpeg(), "image/jpeg")}, None, 422, "invalid-input", id="no-file-field"
        ),
        pytest.param(
            {"file": ("gat.jpg", jpeg(), "image/jpeg")},
            {"kind": "bogus"},
            422,
            "invalid-input",
            id="bad-kind",
        ),
    ],
)
async def test_a_bad_upload_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    files: dict[str, Any],
    data: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    before = await counts(session)
    response = await client.post(
        f"{BASE}/photos", files=files, data=data, headers=bearer(world.tokens["resident"])
    )
    refused(response, status, code)
    assert await counts(session) == before


async def test_a_json_body_to_the_upload_route_is_refused(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    before = await counts(session)
    response = await client.post(
        f"{BASE}/photos", json={"file": "aGVsbG8="}, headers=bearer(world.tokens["resident"])
    )
    refused(response, 422, "invalid-input")
    assert await counts(session) == before


async def test_a_photo_upload_with_an_idempotency_key_is_stored_once(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    before = await counts(session)
    headers = bearer(world.tokens["resident"]) | {"Idempotency-Key": "photo-once"}
    answers = [
        await client.post(
            f"{BASE}/photos", files={"file": ("gat.jpg", jpeg(), "image/jpeg")}, headers=headers
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[0].text
    assert answers[0].json() == answers[1].json()
    assert (await counts(session))["photos"] == before["photos"] + 1


async def test_staff_updates_need_a_well_formed_current_version(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    created = await post_report(client, world.tokens["resident"], report_body())
    url = f"{BASE}/reports/{created.json()['id']}/transitions"
    staff = bearer(world.tokens["roads_staff"])
    before = await counts(session)
    body = {"status": "accepted"}
    refused(await client.post(url, json=body, headers=staff), 428, "precondition-required")
    refused(await client.post(url, json=body, headers=staff | {"If-Match": "v1"}), 422, "invalid-if-match")
    refused(
        await client.post(url, json=body, headers=staff | {"If-Match": f'"v{SQL}"'}), 422, "invalid-if-match"
    )
    refused(await client.post(url, json=body, headers=staff | {"If-Match": '"v99"'}), 412, "stale-version")
    refused(
        await client.post(url, json=body | {"expected_version": 2}, headers=staff | {"If-Match": '"v1"'}),
        422,
        "invalid-if-match",
    )
    refused(
        await client.post(url, json={"status": "closed"}, headers=staff | {"If-Match": '"v1"'}),
        422,
        "reason-required",
    )
    refused(
        await client.post(url, json={"status": "resolved"}, headers=staff | {"If-Match": '"v1"'}),
        409,
        "illegal-transition",
    )
    refused(
        await client.post(url, json={"status": "gone"}, headers=staff | {"If-Match": '"v1"'}),
        422,
        "invalid-input",
    )
    assert await counts(session) == before


# Input that reaches PostgreSQL unchecked today. Each is a 500 now; each should be a precise 4xx.


async def _report_id(client: httpx.AsyncClient, world: World) -> int:
    response = await post_report(client, world.tokens["resident"], report_body())
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


UNCHECKED = [
    pytest.param(
        "POST",
        f"{BASE}/reports",
        "resident",
        report_body(photo_ids=[2**63]),
        (404, 422),
        id="photo-id-beyond-bigint",
    ),
    pytest.param("GET", "/api/v1/jurisdictions/ams%00terdam", None, None, (400,), id="nul-in-slug"),
    pytest.param(
        "GET",
        "/api/v1/jurisdictions/ams%00terdam/reports",
        None,
        None,
        (400,),
        id="nul-in-slug-list",
    ),
    pytest.param(
        "GET",
        f"{BASE}/reports/duplicates?category=pot%00hole&longitude=4.9&latitude=52.4",
        None,
        None,
        (400,),
        id="nul-in-duplicates-category",
    ),
    pytest.param(
        "POST",
        "/api/v1/auth/devices",
        None,
        {"jurisdiction": "amsterdam\x00"},
        (404, 422),
        id="nul-in-device-jurisdiction",
    ),
    pytest.param(
        "POST",
        "/api/v1/auth/accounts",
        None,
        {
            "jurisdiction": "amsterdam",
            "email": "nul@example.org",
            "password": "een lang wachtwoord",
            "display_name": "A\x00",
        },
        (422,),
        id="nul-in-display-name",
    ),
    pytest.param(
        "POST",
        f"{BASE}/departments",
        "admin",
        {"name": "Dienst\x00"},
        (422,),
        id="nul-in-department",
    ),
    pytest.param(
        "PATCH",
        f"{BASE}/categories/pot%00hole",
        "admin",
        {"handling_days": 3},
        (400,),
        id="nul-in-category-path",
    ),
    pytest.param(
        "POST",
        f"{BASE}/reports/{{report}}/transitions",
        "roads_staff",
        {"status": "accepted", "public_message": "klaar\x00", "expected_version": 1},
        (422,),
        id="nul-in-public-message",
    ),
    pytest.param(
        "POST",
        f"{BASE}/role-grants",
        "admin",
        {"account_id": 2**63, "role": "admin"},
        (404, 422),
        id="grant-account-beyond-bigint",
    ),
    pytest.param(
        "DELETE",
        f"{BASE}/role-grants/{2**63}",
        "admin",
        None,
        (404, 422),
        id="revoke-beyond-bigint",
    ),
    pytest.param(
        "GET",
        f"{BASE}/reports/{{report}}/photos/{2**63}",
        None,
        None,
        (404, 422),
        id="photo-beyond-bigint",
    ),
    pytest.param(
        "GET",
        f"{BASE}/reports/{{report}}/photos/{2**63}/thumbnail",
        None,
        None,
        (404, 422),
        id="thumbnail-beyond-bigint",
    ),
    pytest.param(
        "POST",
        f"{BASE}/reports/{{report}}/merge",
        "roads_staff",
        {"into_report_id": 2**63, "expected_version": 1},
        (404, 422),
        id="merge-into-beyond-bigint",
    ),
    pytest.param(
        "POST",
        f"{BASE}/reports/{{report}}/transitions",
        "roads_staff",
        {"status": "accepted", "photo_id": 2**63, "expected_version": 1},
        (404, 422),
        id="transition-photo-beyond-bigint",
    ),
    pytest.param(
        "POST",
        f"{BASE}/categories",
        "admin",
        {"code": "overflow", "name": {"nl": "X"}, "department_id": 2**31},
        (404, 422),
        id="category-department-beyond-int",
    ),
    pytest.param(
        "PATCH",
        f"{BASE}/categories/pothole",
        "admin",
        {"department_id": 2**31},
        (404, 422),
        id="update-department-beyond-int",
    ),
]
UNCHECKED += [
    pytest.param(
        "PATCH",
        f"{BASE}/categories/pothole",
        "admin",
        {field: None},
        (422,),
        id=f"null-{field}",
    )
    for field in (
        "name",
        "is_public",
        "is_active",
        "handling_days",
        "handling_day_kind",
        "keywords",
        "extra_fields",
    )
]


@pytest.mark.parametrize(("method", "path", "caller", "body", "statuses"), UNCHECKED)
async def test_unchecked_input_never_reaches_the_database(
    client: httpx.AsyncClient,
    world: World,
    session: AsyncSession,
    method: str,
    path: str,
    caller: str | None,
    body: dict[str, Any] | None,
    statuses: tuple[int, ...],
) -> None:
    if "{report}" in path:
        path = path.replace("{report}", str(await _report_id(client, world)))
    before = await counts(session)
    headers = bearer(world.tokens[caller]) if caller else {}
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code in statuses, response.text
    refused(response, response.status_code)
    assert await counts(session) == before
