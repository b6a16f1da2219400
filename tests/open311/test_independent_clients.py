"""Open311 clients nobody on this team wrote, against a running server on a real port.

- ``georeport`` (PyPI, 0.3.1): lists services, reads service definitions and requests, in JSON and XML.
  It cannot submit (its README says so).
- ``civicbot`` (PyPI, 0.4.0): its ``Open311Client`` validates a submission against the live service
  definition, posts it form-encoded (``attribute[CODE]``, ``attribute[CODE][]``) and reads it back, in JSON.
  For an XML submission its own ``build_request`` builds the exact form and URL; the body is sent with the
  standard library and parsed with ``xmltodict`` (georeport's parser), because no maintained Python 3 client
  posts XML.

The server is uvicorn in a thread, with its own engine, on a throw-away jurisdiction committed for this
module (and removed afterwards, so no other test sees it), and an API key issued for it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
import xmltodict
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

from api.app import create_app
from api.open311.keys import hash_key
from api.open311.router import router as open311_router
from core.db import sync_url
from core.settings import Settings
from tests.conftest import DAM_NEIGHBOURHOOD, DAM_SQUARE

SLUG = "open311-client-test"
KEY = "o311_independent-client-test-key-not-secret"
FIELDS = [
    {"code": "pole", "label": {"nl": "Mastnummer"}, "type": "string", "required": True, "order": 1},
    {
        "code": "faults",
        "label": {"nl": "Storingen"},
        "type": "multivaluelist",
        "order": 2,
        "options": [{"key": "off", "label": {"nl": "Uit"}}, {"key": "flicker", "label": {"nl": "Knippert"}}],
    },
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def jurisdiction(database_url: str, world: object) -> Iterator[None]:
    with psycopg.connect(sync_url(database_url), autocommit=True) as db:
        j = db.execute(
            "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
            " VALUES (%s, 'Open311 test town', 'Europe/Amsterdam', 'NL', 'nl') RETURNING id",
            (SLUG,),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO areas (jurisdiction_id, level, name, geom, properties) VALUES (%s, 'municipality',"
            " 'Test town', ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)), '{}')",
            (j, json.dumps(DAM_NEIGHBOURHOOD)),
        )
        department = db.execute(
            "INSERT INTO departments (jurisdiction_id, name)"
            " VALUES (%s, 'Openbare verlichting') RETURNING id",
            (j,),
        ).fetchone()[0]
        group = db.execute(
            "INSERT INTO categories (jurisdiction_id, code, name, description, keywords, handling_days,"
            " handling_day_kind, is_public, is_active, extra_fields)"
            " VALUES (%s, 'light', '{\"nl\": \"Licht\"}', '{}', '[]', 5, 'working', true, true, '[]')"
            " RETURNING id",
            (j,),
        ).fetchone()[0]
        for code, name, fields in (("lamp", "Lantaarnpaal", FIELDS), ("sign", "Verkeersbord", [])):
            db.execute(
                "INSERT INTO categories (jurisdiction_id, parent_id, code, name, description, keywords,"
                " department_id, handling_days, handling_day_kind, is_public, is_active, extra_fields)"
                " VALUES (%s, %s, %s, %s, '{}', '[\"lamp\", \"licht\"]', %s, 3, 'working', true, true, %s)",
                (j, group, code, json.dumps({"nl": name}), department, json.dumps(fields)),
            )
        db.execute(
            "INSERT INTO open311_api_keys (jurisdiction_id, name, key_hash) VALUES (%s, 'client test', %s)",
            (j, hash_key(KEY)),
        )
        yield
        db.execute("DELETE FROM reports WHERE jurisdiction_id = %s", (j,))
        db.execute("DELETE FROM jurisdictions WHERE id = %s", (j,))


@pytest.fixture(scope="module")
def server(jurisdiction: None, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    media: Path = tmp_path_factory.mktemp("media")
    app = create_app(Settings(environment="test", database_url=database_url, media_dir=media))
    app.include_router(open311_router)
    port = _free_port()
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/open311/v2"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def _civicbot(base: str, fmt: str = "json") -> Open311Client:
    endpoint = Endpoint(id="civicloop-test", name="civicloop", base_url=base, write=True)
    return Open311Client(
        endpoint, HttpTransport(rate_limiter=RateLimiter(min_interval=0)), jurisdiction_id=SLUG, fmt=fmt
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_services_and_reads_a_definition(server: str, fmt: str) -> None:
    client = GeoReport(server, jurisdiction=SLUG, output_format=fmt)
    services = {s["service_code"]: s for s in client.get_service_list()}
    assert set(services) == {"lamp", "sign"}
    assert services["lamp"]["service_name"] == "Lantaarnpaal"
    assert services["lamp"]["group"] == "Licht"
    assert str(services["lamp"]["metadata"]).lower() == "true"
    assert str(services["sign"]["metadata"]).lower() == "false"
    definition = client.get_service_definition("lamp")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    codes = [a["code"] for a in attributes]
    assert codes == ["pole", "faults"]
    faults = attributes[1]
    values = faults["values"]["value"] if fmt == "xml" else faults["values"]
    assert [v["key"] for v in values] == ["off", "flicker"]


def test_civicbot_posts_in_json_and_both_clients_read_it_back(server: str) -> None:
    client = _civicbot(server)
    prepared = client.create_request(
        "lamp",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=KEY,
        validate_remote=True,
        lat=DAM_SQUARE[1],
        lng=DAM_SQUARE[0],
        description="Lantaarnpaal brandt niet",
        attributes={"pole": "L-42", "faults": ["off", "flicker"]},
        email="melder@example.org",
        device_id="civicbot-device",
    )
    (answer,) = prepared.response
    request_id = answer["service_request_id"]
    assert client.get_token(answer["token"]) == [{"service_request_id": request_id, "token": answer["token"]}]
    read = client.get_request(request_id)
    assert read is not None and read["service_code"] == "lamp" and read["status"] == "open"
    for fmt in ("json", "xml"):
        again = GeoReport(server, jurisdiction=SLUG, output_format=fmt).get_service_request(request_id)
        assert again["service_request_id"] == request_id
        assert again["description"] == "Lantaarnpaal brandt niet"
        assert again["agency_responsible"] == "Openbare verlichting"
        assert float(again["lat"]) == DAM_SQUARE[1] and float(again["long"]) == DAM_SQUARE[0]
        assert "melder" not in json.dumps(again)
    listed = GeoReport(server, jurisdiction=SLUG).get_service_requests(service_code="lamp", status="open")
    assert request_id in {r["service_request_id"] for r in listed}


def test_a_submission_in_xml_reads_back_in_xml(server: str) -> None:
    prepared = _civicbot(server, fmt="xml").build_request(
        "sign",
        lat=DAM_SQUARE[1],
        lng=DAM_SQUARE[0],
        description="Bord omgereden",
        api_key=KEY,
        first_name="Piet",
        last_name="Jansen",
    )
    assert prepared.url == f"{server}/requests.xml"
    body = urllib.parse.urlencode(prepared.form, doseq=True).encode()
    request = urllib.request.Request(
        prepared.url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        created = xmltodict.parse(response.read())["service_requests"]["request"]
    request_id = created["service_request_id"]
    read = GeoReport(server, jurisdiction=SLUG, output_format="xml").get_service_request(request_id)
    assert read["service_code"] == "sign" and read["status"] == "open"
    assert "Piet" not in json.dumps(read)


def test_civicbot_is_refused_without_a_valid_key(server: str) -> None:
    from civicbot.http import HttpError

    client = _civicbot(server)
    with pytest.raises(HttpError) as refused:
        client.create_request(
            "sign",
            dry_run=False,
            confirm=CONFIRM_TOKEN,
            api_key="o311_wrong",
            lat=DAM_SQUARE[1],
            lng=DAM_SQUARE[0],
            description="x",
        )
    assert refused.value.status == 403
    assert json.loads(refused.value.body)[0]["code"] == 403
