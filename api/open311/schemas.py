"""Read schemas of GeoReport v2's JSON answers (issue 13, item 4).

The answers are built as plain data in ``api.open311.service`` and written by ``api.open311.formats`` as
JSON or XML, pre-rendered; these models only describe the JSON (field names and order as the
specification has them) for the OpenAPI, and the tests check every JSON answer against them
(``tests/response_schemas.py``). The XML variant (``.xml``) carries the same data under the
specification's element names; it is documented as ``text/xml``.
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


class Open311Error(BaseModel):
    code: int
    description: str


_XML = {MEDIA_TYPES["xml"].split(";")[0]: {"schema": {"type": "string"}}}
# One entry for the client errors: GeoReport v2 folds every one onto 400 (bad input), 403 (missing or
# invalid api_key) and 404 (unknown id, token or service), never FastAPI's 422 (``Open311Route``); a range
# also keeps FastAPI from documenting a 422 these routes never send.
_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": list[Open311Error],
        "description": "GeoReport v2's error list: 400 bad input, 403 missing or invalid api_key,"
        " 404 unknown id, token or service",
        "content": _XML,
    }
}


def documented(status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses`` of an Open311 route: the JSON model comes from ``response_model``; the XML variant
    and the specification's error list are added here."""
    return {status: {"content": _XML}, **_ERRORS}
