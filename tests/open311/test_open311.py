"""GeoReport v2 through the ASGI app: every endpoint, both formats, and every bad parameter's error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.open311 import keys
from tests.conftest import DAM_SQUARE, NORTH_SEA, World, bearer, report_body
from tests.open311.conftest import BASE, form

J = {"jurisdiction_id": "amsterdam"}


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
    return ElementTree.fromstring(response.content)


def assert_error(response: httpx.Response, status: int, fmt: str, contains: str) -> None:
    assert response.status_code == status, response.text
    if fmt == "json":
        assert response.headers["content-type"] == "application/json"
        errors = response.json()
        assert isinstance(errors, list) and errors[0]["code"] == status
        assert contains in " ".join(e["description"] for e in errors), errors
    else:
        root = xml(response)
        assert root.tag == "errors"
        error = root.find("error")
        assert error is not None and error.findtext("code") == str(status)
        assert contains in " ".join(e.findtext("description") or "" for e in root.iter("error"))


async def test_discovery_names_the_endpoint_in_both_formats(open311_client: httpx.AsyncClient) -> None:
    body = (await open311_client.get(f"{BASE}/discovery.json")).json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://civicloop.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(await open311_client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


async def test_services_are_the_leaf_categories_with_their_group(open311_client: httpx.AsyncClient) -> None:
    response = await open311_client.get(f"{BASE}/services.json", params=J)
    assert response.status_code == 200
    services = {s["service_code"]: s for s in response.json()}
    assert set(services) == {"pothole", "street-light", "dumped-waste", "nuisance-neighbours"}
    assert services["street-light"] == {
        "service_code": "street-light",
        "service_name": "Straatverlichting",
        "description": "Straatverlichting",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "Straat",
    }
    assert services["pothole"]["metadata"] is False
    root = xml(await open311_client.get(f"{BASE}/services.xml", params=J))
    assert root.tag == "services"
    codes = [s.findtext("service_code") or "" for s in root.findall("service")]
    assert sorted(codes) == sorted(services)
    light = next(s for s in root.findall("service") if s.findtext("service_code") == "street-light")
    assert light.findtext("metadata") == "true" and light.findtext("group") == "Straat"


async def test_service_definition_lists_attributes(open311_client: httpx.AsyncClient) -> None:
    body = (await open311_client.get(f"{BASE}/services/street-light.json", params=J)).json()
    assert body["service_code"] == "street-light"
    pole, kind = body["attributes"]
    assert pole["code"] == "pole_number" and pole["datatype"] == "string" and pole["required"] is True
    assert pole["variable"] is True and pole["order"] == 1 and pole["description"] == "Mastnummer"
    assert kind["datatype"] == "singlevaluelist" and kind["required"] is False
    assert kind["values"] == [{"key": "off", "name": "Brandt niet"}, {"key": "flicker", "name": "Knippert"}]
    root = xml(await open311_client.get(f"{BASE}/services/street-light.xml", params=J))
    assert root.tag == "service_definition"
    attributes = root.find("attributes")
    assert attributes is not None
    values = [v.findtext("key") for v in attributes.iter("value")]
    assert values == ["off", "flicker"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["no-such-service", "street", "pothole%20x"])
async def test_unknown_services_and_groups_are_404(
    open311_client: httpx.AsyncClient, fmt: str, code: str
) -> None:
    response = await open311_client.get(f"{BASE}/services/{code}.{fmt}", params=J)
    assert_error(response, 404, fmt, "no service")


async def test_jurisdiction_is_required_when_there_are_several(open311_client: httpx.AsyncClient) -> None:
    assert_error(
        await open311_client.get(f"{BASE}/services.json"), 400, "json", "jurisdiction_id is required"
    )
    response = await open311_client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "atlantis"})
    assert_error(response, 404, "xml", "atlantis")


async def test_an_unknown_format_is_400(open311_client: httpx.AsyncClient) -> None:
    assert_error(await open311_client.get(f"{BASE}/services.yaml", params=J), 400, "json", ".xml or .json")


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_creates_an_ordinary_report(
    open311_client: httpx.AsyncClient, session: AsyncSession, api_key: str, fmt: str
) -> None:
    response = await open311_client.post(
        f"{BASE}/requests.{fmt}",
        data=form(
            api_key,
            service_code="street-light",
            **{"attribute[pole_number]": "A-17", "attribute[kind]": "flicker"},
            email="Melder@Example.org",
            phone="+31 6 1234 5678",
            first_name="Anna",
            last_name="de Vries",
            device_id="phone-1",
            media_url="https://example.org/photo.jpg",
            address_string="Dam 1",
        ),
    )
    assert response.status_code == 201, response.text
    if fmt == "json":
        answer = response.json()[0]
    else:
        request = xml(response).find("request")
        assert request is not None
        answer = {child.tag: child.text for child in request}
    report_id = int(answer["service_request_id"])
    assert answer["token"]
    row = (
        await session.execute(
            text(
                "SELECT r.status, r.extra, r.address, r.reporter_email, r.reporter_phone, a.is_anonymous,"
                " a.display_name, o.media_url, ar.name AS area FROM reports r"
                " JOIN accounts a ON a.id = r.reporter_account_id JOIN areas ar ON ar.id = r.area_id"
                " JOIN open311_requests o ON o.report_id = r.id WHERE r.id = :id"
            ),
            {"id": report_id},
        )
    ).one()
    assert row.status == "submitted" and row.extra == {"pole_number": "A-17", "kind": "flicker"}
    assert row.address == "Dam 1" and row.area == "Dam"
    assert (row.reporter_email, row.reporter_phone) == ("melder@example.org", "+31 6 1234 5678")
    assert row.is_anonymous and row.display_name == "Anna de Vries"
    assert row.media_url == "https://example.org/photo.jpg"
    topics = (
        await session.execute(
            text("SELECT topic FROM outbox_events WHERE aggregate_id = :id AND aggregate_type = 'report'"),
            {"id": report_id},
        )
    ).scalars()
    assert list(topics) == ["report.submitted"]

    read = await open311_client.get(f"{BASE}/requests/{report_id}.json", params=J)
    assert read.status_code == 200
    (item,) = read.json()
    assert item["service_request_id"] == str(report_id) and item["status"] == "open"
    assert item["service_code"] == "street-light" and item["agency_responsible"] == "Verlichting"
    assert item["media_url"] == "https://example.org/photo.jpg"
    assert (item["lat"], item["long"]) == (DAM_SQUARE[1], DAM_SQUARE[0])
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert requested.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert datetime.fromisoformat(item["expected_datetime"]) > requested
    assert "melder" not in read.text.lower() and "1234" not in read.text and "Anna" not in read.text


async def test_one_device_keeps_one_account(
    open311_client: httpx.AsyncClient, session: AsyncSession, api_key: str
) -> None:
    ids = []
    for _ in range(2):
        response = await open311_client.post(f"{BASE}/requests.json", data=form(api_key, device_id="dev-9"))
        ids.append(int(response.json()[0]["service_request_id"]))
    other = await open311_client.post(f"{BASE}/requests.json", data=form(api_key))
    ids.append(int(other.json()[0]["service_request_id"]))
    accounts = (
        await session.execute(
            text("SELECT reporter_account_id FROM reports WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}
        )
    ).scalars()
    first, second, third = list(accounts)
    assert first == second != third


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_api_key_is_required_valid_and_not_revoked(
    open311_client: httpx.AsyncClient, session: AsyncSession, world: World, fmt: str
) -> None:
    url = f"{BASE}/requests.{fmt}"
    assert_error(await open311_client.post(url, data=form(None)), 403, fmt, "api_key is required")
    assert_error(await open311_client.post(url, data=form("o311_wrong")), 403, fmt, "unknown or revoked")
    issued = await keys.create_key(session, jurisdiction_id=world.amsterdam, name="old app")
    await keys.revoke_key(session, key_id=issued.id)
    await session.commit()
    assert_error(await open311_client.post(url, data=form(issued.key)), 403, fmt, "unknown or revoked")


async def test_a_key_serves_only_its_own_jurisdiction(
    open311_client: httpx.AsyncClient, utrecht_key: str
) -> None:
    response = await open311_client.post(f"{BASE}/requests.json", data=form(utrecht_key))
    assert_error(response, 403, "json", "not valid for jurisdiction")


@pytest.mark.parametrize(
    ("fields", "contains"),
    [
        ({"lat": "", "long": "", "address_string": "Dam 1"}, "no geocoding"),
        ({"lat": "", "long": ""}, "a location is required"),
        ({"long": ""}, "together"),
        ({"lat": "north"}, "lat must be a decimal number"),
        ({"lat": "91"}, "lat must lie between"),
        ({"long": "nan"}, "long must lie between"),
        ({"lat": str(NORTH_SEA[1]), "long": str(NORTH_SEA[0])}, "outside Amsterdam"),
        ({"service_code": ""}, "service_code is required"),
        ({"description": ""}, "description"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"media_url": "file:///etc/passwd"}, "media_url"),
        ({"service_code": "street-light"}, "attribute[pole_number]: this field is required"),
        ({"service_code": "street-light", "attribute[pole_number]": "1", "attribute[kind]": "loud"}, "kind"),
        ({"attribute[colour]": "red"}, "attribute[colour]: unknown field"),
        ({"attribute[": "x"}, "attribute[CODE]"),
    ],
)
async def test_bad_submissions_are_400(
    open311_client: httpx.AsyncClient, api_key: str, fields: dict[str, str], contains: str
) -> None:
    response = await open311_client.post(f"{BASE}/requests.xml", data=form(api_key, **fields))
    assert_error(response, 400, "xml", contains)


async def test_a_refused_post_leaves_no_device_or_account_behind(
    open311_client: httpx.AsyncClient, session: AsyncSession, api_key: str
) -> None:
    """The device's anonymous account is made before the report is placed; a refusal after that (the
    location lies outside the jurisdiction) rolls it back instead of committing half a request."""
    accounts = "SELECT count(*) FROM accounts"
    before = await session.scalar(text(accounts))
    outside = form(api_key, device_id="lost-at-sea", lat=str(NORTH_SEA[1]), long=str(NORTH_SEA[0]))
    assert_error(await open311_client.post(f"{BASE}/requests.json", data=outside), 400, "json", "outside")
    devices = "SELECT count(*) FROM open311_devices WHERE device_id = 'lost-at-sea'"
    assert (await session.scalar(text(devices)), await session.scalar(text(accounts))) == (0, before)


async def test_post_of_an_unknown_service_is_404(open311_client: httpx.AsyncClient, api_key: str) -> None:
    response = await open311_client.post(f"{BASE}/requests.json", data=form(api_key, service_code="ghost"))
    assert_error(response, 404, "json", "ghost")


async def test_multivalue_attributes_are_lists(
    open311_client: httpx.AsyncClient, session: AsyncSession, api_key: str, world: World
) -> None:
    await session.execute(
        text(
            "UPDATE categories SET extra_fields = CAST(:fields AS jsonb)"
            " WHERE code = 'pothole' AND jurisdiction_id = :j"
        ),
        {
            "j": world.amsterdam,
            "fields": json.dumps(
                [
                    {
                        "code": "sides",
                        "label": {"nl": "Kant"},
                        "type": "multivaluelist",
                        "options": [
                            {"key": "left", "label": {"nl": "Links"}},
                            {"key": "right", "label": {"nl": "Rechts"}},
                        ],
                    },
                    {"code": "depth_cm", "label": {"nl": "Diepte"}, "type": "number"},
                ]
            ),
        },
    )
    await session.commit()
    response = await open311_client.post(
        f"{BASE}/requests.json",
        data={**form(api_key), "attribute[sides][]": ["left", "right"], "attribute[depth_cm]": "12"},
    )
    assert response.status_code == 201, response.text
    extra = await session.scalar(
        text("SELECT extra FROM reports WHERE id = :id"),
        {"id": int(response.json()[0]["service_request_id"])},
    )
    assert extra == {"sides": ["left", "right"], "depth_cm": 12}
    bad = await open311_client.post(
        f"{BASE}/requests.json", data={**form(api_key), "attribute[depth_cm]": "deep"}
    )
    assert_error(bad, 400, "json", "attribute[depth_cm]: must be a number")


async def test_confidential_service_gets_a_notice_and_stays_out_of_lists(
    open311_client: httpx.AsyncClient, api_key: str
) -> None:
    response = await open311_client.post(
        f"{BASE}/requests.json", data=form(api_key, service_code="nuisance-neighbours")
    )
    answer = response.json()[0]
    assert "confidentially" in answer["service_notice"]
    report_id = answer["service_request_id"]
    assert_error(
        await open311_client.get(f"{BASE}/requests/{report_id}.json", params=J), 404, "json", report_id
    )
    listed = await open311_client.get(f"{BASE}/requests.json", params={**J, "service_request_id": report_id})
    assert listed.json() == []


async def _submit(client: httpx.AsyncClient, api_key: str, **fields: str) -> str:
    response = await client.post(f"{BASE}/requests.json", data=form(api_key, **fields))
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


async def test_list_filters_and_ids(open311_client: httpx.AsyncClient, api_key: str) -> None:
    pothole = await _submit(open311_client, api_key)
    waste = await _submit(open311_client, api_key, service_code="dumped-waste")
    listed = (await open311_client.get(f"{BASE}/requests.json", params=J)).json()
    assert [r["service_request_id"] for r in listed][:2] == [waste, pothole]
    only = await open311_client.get(f"{BASE}/requests.json", params={**J, "service_code": "dumped-waste"})
    assert {r["service_code"] for r in only.json()} == {"dumped-waste"}
    closed = await open311_client.get(f"{BASE}/requests.json", params={**J, "status": "closed"})
    assert all(r["status"] == "closed" for r in closed.json())
    assert waste not in {r["service_request_id"] for r in closed.json()}
    by_ids = await open311_client.get(
        f"{BASE}/requests.xml", params={**J, "service_request_id": f"{pothole},{waste}", "status": "closed"}
    )
    root = xml(by_ids)
    assert root.tag == "service_requests"
    assert {r.findtext("service_request_id") for r in root.findall("request")} == {pothole, waste}
    window = {
        "start_date": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    dated = await open311_client.get(f"{BASE}/requests.json", params={**J, **window})
    assert {pothole, waste} <= {r["service_request_id"] for r in dated.json()}
    old = await open311_client.get(
        f"{BASE}/requests.json", params={**J, "start_date": "2020-01-01", "end_date": "2020-02-01T00:00:00Z"}
    )
    assert old.json() == []


@pytest.mark.parametrize(
    ("params", "status", "contains"),
    [
        (
            {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
            400,
            "start_date must lie before end_date",
        ),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400, "90 days"),
        ({"start_date": "yesterday"}, 400, "W3C"),
        ({"end_date": "2026-01-01T10:00:00"}, 400, "time zone"),
        ({"status": "pending"}, 400, "status 'pending'"),
        ({"status": "open,onhold"}, 400, "status 'onhold'"),
        ({"service_code": "ghost"}, 404, "ghost"),
        ({"service_request_id": "1,abc"}, 400, "service_request_id"),
        ({"service_request_id": "0"}, 400, "service_request_id"),
        ({"extensions": "yes"}, 400, "extensions"),
        ({"extensions": "true", "page": "0"}, 400, "page"),
        ({"extensions": "true", "page_size": "1001"}, 400, "page_size"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_list_parameters(
    open311_client: httpx.AsyncClient, params: dict[str, str], status: int, contains: str, fmt: str
) -> None:
    response = await open311_client.get(f"{BASE}/requests.{fmt}", params={**J, **params})
    assert_error(response, status, fmt, contains)


@pytest.mark.parametrize("request_id", ["999999999", "abc", "0", "99999999999999999999999"])
async def test_unknown_request_is_404(open311_client: httpx.AsyncClient, request_id: str) -> None:
    assert_error(
        await open311_client.get(f"{BASE}/requests/{request_id}.xml", params=J), 404, "xml", "no service"
    )


async def test_tokens_resolve_to_their_request(open311_client: httpx.AsyncClient, api_key: str) -> None:
    response = await open311_client.post(f"{BASE}/requests.json", data=form(api_key))
    answer = response.json()[0]
    resolved = await open311_client.get(f"{BASE}/tokens/{answer['token']}.json", params=J)
    assert resolved.json() == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    root = xml(await open311_client.get(f"{BASE}/tokens/{answer['token']}.xml", params=J))
    assert root.findtext("request/service_request_id") == answer["service_request_id"]
    assert_error(await open311_client.get(f"{BASE}/tokens/nope.json", params=J), 404, "json", "token")
    other = await open311_client.get(
        f"{BASE}/tokens/{answer['token']}.json", params={"jurisdiction_id": "utrecht"}
    )
    assert other.status_code == 404


async def test_extensions_page_and_show_history(
    open311_client: httpx.AsyncClient, client: httpx.AsyncClient, api_key: str, world: World
) -> None:
    first = await _submit(open311_client, api_key)
    second = await _submit(open311_client, api_key)
    moved = await client.post(
        f"/api/v1/jurisdictions/amsterdam/reports/{first}/transitions",
        json={"status": "accepted", "public_message": "We komen eraan", "expected_version": 1},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert moved.status_code in (200, 201), moved.text
    plain = (await open311_client.get(f"{BASE}/requests/{first}.json", params=J)).json()[0]
    assert plain["status"] == "open" and plain["status_notes"] == "We komen eraan"
    assert "extended_attributes" not in plain
    extended = (
        await open311_client.get(f"{BASE}/requests/{first}.json", params={**J, "extensions": "true"})
    ).json()[0]
    attributes = extended["extended_attributes"]
    assert attributes["detailed_status"] == "accepted"
    assert [u["detailed_status"] for u in attributes["updates"]] == ["submitted", "accepted"]
    assert attributes["updates"][1]["description"] == "We komen eraan"
    page1 = await open311_client.get(
        f"{BASE}/requests.json", params={**J, "extensions": "true", "page_size": "1", "page": "1"}
    )
    page2 = await open311_client.get(
        f"{BASE}/requests.json", params={**J, "extensions": "true", "page_size": "1", "page": "2"}
    )
    assert [r["service_request_id"] for r in page1.json() + page2.json()] == [second, first]
    root = xml(await open311_client.get(f"{BASE}/requests/{first}.xml", params={**J, "extensions": "true"}))
    assert [u.findtext("detailed_status") for u in root.iter("update")] == ["submitted", "accepted"]


async def test_reports_from_the_app_are_listed_too(
    open311_client: httpx.AsyncClient, client: httpx.AsyncClient, world: World
) -> None:
    created = await client.post(
        "/api/v1/jurisdictions/amsterdam/reports",
        json=report_body(contact={"email": "geheim@example.org"}),
        headers=bearer(world.tokens["resident"]),
    )
    report_id = str(created.json()["id"])
    listed = await open311_client.get(f"{BASE}/requests/{report_id}.json", params=J)
    assert listed.json()[0]["service_request_id"] == report_id
    assert "geheim" not in listed.text


async def test_post_requests_documents_the_form_it_reads(open311_client: httpx.AsyncClient) -> None:
    """The form is read by hand (the spec's names and ``attribute[CODE]`` keys); the OpenAPI still
    describes it, in both encodings the route takes, so clients and Schemathesis can send one."""
    paths = (await open311_client.get("/openapi.json")).json()["paths"]
    operation = paths[f"{BASE}/requests.{{fmt}}"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    schema = content["application/x-www-form-urlencoded"]["schema"]
    sent = form("o311_key", device_id="phone-1", email="a@example.org", first_name="Anna")
    assert set(schema["required"]) <= set(sent) <= set(schema["properties"])
    assert schema["additionalProperties"]["type"] == "string"  # attribute[CODE]=VALUE
