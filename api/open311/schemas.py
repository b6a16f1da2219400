"""Read schemas of GeoReport v2's JSON answers, and the form of a new service request (issue 13, item 4).

The answers are built as plain data in ``api.open311.service`` and written by ``api.open311.formats`` as
JSON or XML, pre-rendered; these models only describe the JSON (field names and order as the
specification has them) for the OpenAPI, and the tests check every JSON answer against them
(``tests/response_schemas.py``). The XML variant (``.xml``) carries the same data under the
specification's element names; it is documented as ``text/xml``.

``SERVICE_REQUEST_FORM`` documents the form ``POST requests`` takes; the route reads the form by hand
(``api.open311.service.submit``: the spec's names, ``attribute[CODE]`` keys, its own 400s), so the model
only describes it in the OpenAPI (``create_request_body``) for clients and Schemathesis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.open311.formats import MEDIA_TYPES

DateTime = datetime  # W3C date-times with the jurisdiction's offset, seconds precision


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: DateTime | None
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    changeset: DateTime | None = Field(description="when the last jurisdiction was added; null: none yet")
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    """A category residents can report (an active leaf category)."""

    service_code: str
    service_name: str | None
    description: str | None
    metadata: bool = Field(description="true: the service has attributes (GET services/{service_code})")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str = Field(description="comma-separated")
    group: str | None


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class RequestCreated(BaseModel):
    """The new request's id and the token to follow it by."""

    service_request_id: str
    token: str
    service_notice: str | None
    account_id: None


class RequestUpdate(BaseModel):
    updated_datetime: DateTime
    status: Literal["open", "closed"]
    detailed_status: str
    reason: str | None
    description: str | None


class ExtendedAttributes(BaseModel):
    """With ``extensions=true`` only: civicloop's own status, its reason and the status history."""

    detailed_status: str
    status_reason: str | None
    updates: list[RequestUpdate]


class ServiceRequest(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: DateTime
    updated_datetime: DateTime
    expected_datetime: DateTime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None
    extended_attributes: ExtendedAttributes | None = Field(
        default=None, description="present with extensions=true"
    )


class TokenRequest(BaseModel):
    service_request_id: str
    token: str


def _text(max_length: int, description: str = "") -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": max_length,
        **({"description": description} if description else {}),
    }


# A form has no nulls and no nesting: every field a string, lat and long decimal numbers.
SERVICE_REQUEST_FORM: dict[str, Any] = {
    "title": "ServiceRequestForm",
    "description": "A new service request, form-encoded as GeoReport v2 sends it. This server locates by"
    " `lat` and `long` only (it has no geocoder); a category's extra fields come as"
    " `attribute[CODE]=VALUE` (`attribute[CODE][]` once per value of a multi-valued list).",
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "description": "the client's key; here or in the query string"},
        "jurisdiction_id": {
            "type": "string",
            "description": "the jurisdiction's slug; without it, the key's",
        },
        "service_code": _text(64),
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84 latitude"},
        "long": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84 longitude"},
        "address_string": _text(300),
        "address_id": _text(200),
        "email": _text(320),
        "device_id": _text(200, "the same id for every request of one device of the client"),
        "first_name": _text(100),
        "last_name": _text(100),
        "phone": _text(32),
        "description": _text(5000),
        "media_url": _text(2000, "an absolute http(s) URL, shown back, never fetched"),
    },
    "required": ["service_code", "lat", "long"],
    "additionalProperties": {"type": "string", "description": "attribute[CODE] or attribute[CODE][]"},
}


def create_request_body() -> dict[str, Any]:
    """``openapi_extra`` of ``POST requests``: its form, in both encodings the route reads."""
    schema = SERVICE_REQUEST_FORM
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": schema},
            },
        }
    }


class Open311Error(BaseModel):
    code: int
    description: str


_XML = {MEDIA_TYPES["xml"].split(";")[0]: {"schema": {"type": "string"}}}
# One entry for the client errors: GeoReport v2 folds every one onto 400 (bad input), 403 (missing or
# invalid api_key) and 404 (unknown id, token or service), and a rate limit answers 429, never FastAPI's
# 422 (``Open311Route``); a range also keeps FastAPI from documenting a 422 these routes never send.
_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": list[Open311Error],
        "description": "GeoReport v2's error list: 400 bad input, 403 missing or invalid api_key,"
        " 404 unknown id, token or service, 429 too many requests (see Retry-After)",
        "content": _XML,
    }
}


def documented(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses`` of an Open311 route: the JSON model comes from ``response_model``; the XML variant
    and the specification's error list are added here."""
    return {status: {"content": _XML}, **_ERRORS}
