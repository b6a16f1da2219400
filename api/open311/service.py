"""GeoReport v2 on top of civicloop's own model: categories are services, reports are service requests.

Nothing here has rules of its own about reports: a submission is translated into a ``ReportCreate`` and goes
through ``geo.service.submit_report`` (same validation, workflow and outbox events as the app). What is
Open311-specific is the translation: form fields and ``attribute[CODE]`` in, the spec's field names out,
statuses folded to ``open``/``closed``, and the date window of ``GET requests``.

Geocoding: the spec allows ``address_string`` instead of ``lat``/``long``. civicloop places every report in
an area by its point and has no geocoder (none is reachable offline, and sending residents' addresses to a
third party is not ours to decide), so an address without coordinates is refused with a 400 that says so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.open311 import keys, queries
from api.open311.keys import Open311ApiKey, Open311Request, new_request_token, reporter_account
from api.open311.queries import MAX_RESULTS, RequestQuery
from api.parameters import check_time_range
from core.errors import InvalidInput, NotFound
from core.identity import Identity
from geo import service as geo_service
from geo.errors import CategoryNotFound, InvalidExtraFields
from geo.models import Category
from geo.queries import JurisdictionFields
from geo.schemas import ReportCreate
from geo.workflow import FINAL_STATUSES, Status

MAX_WINDOW = timedelta(days=90)
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_DATATYPE_DESCRIPTIONS = {
    "string": "A line of text, at most 500 characters.",
    "text": "Free text, at most 5000 characters.",
    "number": "A number, with a decimal point if needed.",
    "datetime": "A W3C date-time with a time zone offset, e.g. 2026-11-24T09:30:00+01:00.",
    "singlevaluelist": "One of the keys listed in values.",
    "multivaluelist": "One or more of the keys listed in values, as attribute[CODE][]=KEY.",
}
CONFIDENTIAL_NOTICE = (
    "This kind of report is handled confidentially: it will not appear in public lists or on the map."
)


class Open311BadRequest(InvalidInput):
    """Bad input as GeoReport v2 defines it: always a plain 400."""

    status = 400
    code = "open311-bad-request"
    title = "Bad request"


class ServiceNotFound(NotFound):
    code = "service-not-found"
    title = "Service not found"


class ServiceRequestNotFound(NotFound):
    code = "service-request-not-found"
    title = "Service request not found"


def _localised(texts: dict[str, str] | None, locale: str) -> str | None:
    if not texts:
        return None
    return texts.get(locale) or texts.get("nl") or next(iter(texts.values()), None)


async def resolve_jurisdiction(
    session: AsyncSession, jurisdiction_id: str | None, *, api_key: Open311ApiKey | None = None
) -> JurisdictionFields:
    """``jurisdiction_id`` is the jurisdiction's slug; without it, the key's or the only one there is."""
    if jurisdiction_id:
        jurisdiction = await geo_service.get_jurisdiction(session, jurisdiction_id)
        if api_key is not None and api_key.jurisdiction_id != jurisdiction.id:
            # A key is issued for one jurisdiction; for any other it is simply not a valid key (403).
            raise keys.InvalidApiKey(f"this api_key is not valid for jurisdiction {jurisdiction_id!r}")
        return jurisdiction
    if api_key is not None:
        return await queries.jurisdiction(session, api_key.jurisdiction_id)
    found = await queries.first_jurisdictions(session, limit=2)
    if len(found) != 1:
        raise Open311BadRequest("jurisdiction_id is required: this server serves several jurisdictions")
    return found[0]


async def list_services(session: AsyncSession, jurisdiction: JurisdictionFields) -> list[dict[str, Any]]:
    locale = jurisdiction.default_locale
    rows = await queries.services(session, jurisdiction_id=jurisdiction.id)
    return [
        {
            "service_code": row.code,
            "service_name": _localised(row.name, locale),
            "description": _localised(row.description, locale) or _localised(row.name, locale),
            "metadata": bool(row.extra_fields),
            "type": "realtime",
            "keywords": ",".join(row.keywords or []),
            "group": _localised(row.group_name, locale),
        }
        for row in rows
    ]


async def get_service(session: AsyncSession, jurisdiction: JurisdictionFields, code: str) -> Category:
    """An active leaf category; groups and retired categories are not services."""
    try:
        category = await geo_service.get_category(session, jurisdiction_id=jurisdiction.id, code=code)
    except CategoryNotFound:
        raise ServiceNotFound(f"no service with service_code {code!r}") from None
    if not category.is_active or await queries.has_subcategories(session, category_id=category.id):
        raise ServiceNotFound(f"no service with service_code {code!r}")
    return category


def service_definition(category: Category, jurisdiction: JurisdictionFields) -> dict[str, Any]:
    locale = jurisdiction.default_locale
    fields = sorted(category.extra_fields, key=lambda f: (f.get("order", 0), f["code"]))
    attributes = []
    for field in fields:
        label = _localised(field.get("label"), locale) or field["code"]
        explanation = _localised(field.get("description"), locale)
        attributes.append(
            {
                "variable": True,
                "code": field["code"],
                "datatype": field["type"],
                "required": bool(field.get("required")),
                "datatype_description": _DATATYPE_DESCRIPTIONS[field["type"]],
                "order": field.get("order", 0),
                "description": f"{label}: {explanation}" if explanation else label,
                "values": [
                    {"key": option["key"], "name": _localised(option.get("label"), locale) or option["key"]}
                    for option in field.get("options", [])
                ],
            }
        )
    return {"service_code": category.code, "attributes": attributes}


# ---------------------------------------------------------------------------------------------------------
# POST requests


@dataclass(frozen=True, slots=True)
class Submission:
    report_id: int
    token: str
    is_public: bool


def _one(form: Any, name: str, *, max_length: int | None = None) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Open311BadRequest(f"{name} must be a plain form field, not a file")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise Open311BadRequest(f"{name} may be at most {max_length} characters")
    return value or None


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311BadRequest(f"{name} must be a decimal number (WGS84 degrees)") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise Open311BadRequest(f"{name} must lie between -{limit:g} and {limit:g}")
    return value


def _attributes(form: Any, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` to typed answers for ``validate_answers``."""
    types = {f["code"]: f["type"] for f in fields}
    raw: dict[str, list[str]] = {}
    listed: set[str] = set()
    for key, value in form.multi_items():
        match = _ATTRIBUTE.match(key)
        if match is None:
            if key.startswith("attribute"):
                raise Open311BadRequest(f"{key!r} is not attribute[CODE] or attribute[CODE][]")
            continue
        if not isinstance(value, str):
            raise Open311BadRequest(f"{key} must be a plain form field, not a file")
        code = match.group(1)
        raw.setdefault(code, []).append(value.strip())
        if match.group(2):
            listed.add(code)
    answers: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for code, values in raw.items():
        kind = types.get(code)
        if kind == "multivaluelist":
            answers[code] = [v for v in values if v]
            continue
        if len(values) > 1 or code in listed:
            problems[code] = "takes a single value: send attribute[CODE]=VALUE"
            continue
        value = values[0]
        if kind == "number" and value:
            try:
                number = float(value)
            except ValueError:
                problems[code] = "must be a number"
                continue
            answers[code] = int(number) if number.is_integer() and re.fullmatch(r"-?\d+", value) else number
        else:
            answers[code] = value
    if problems:
        raise InvalidExtraFields("some attributes are invalid", errors=problems)
    return answers


def _media_url(raw: str | None) -> str | None:
    """Kept as a reference and shown back; never fetched (that would let clients make us call anything)."""
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Open311BadRequest("media_url must be an absolute http or https URL")
    return raw


async def submit(
    session: AsyncSession, *, jurisdiction: JurisdictionFields, api_key: Open311ApiKey, form: Any
) -> Submission:
    service_code = _one(form, "service_code", max_length=64)
    if service_code is None:
        raise Open311BadRequest("service_code is required")
    category = await get_service(session, jurisdiction, service_code)
    lat, lon = _one(form, "lat", max_length=40), _one(form, "long", max_length=40)
    address = _one(form, "address_string", max_length=300)
    if lat is None and lon is None:
        if address or _one(form, "address_id", max_length=200):
            raise Open311BadRequest(
                "this server cannot locate an address (no geocoding): send lat and long (WGS84) as well"
            )
        raise Open311BadRequest("a location is required: send lat and long (WGS84)")
    if lat is None or lon is None:
        raise Open311BadRequest("lat and long must be sent together")
    latitude, longitude = _coordinate(lat, "lat", 90), _coordinate(lon, "long", 180)
    answers = _attributes(form, category.extra_fields)
    first, last = _one(form, "first_name", max_length=100), _one(form, "last_name", max_length=100)
    media_url = _media_url(_one(form, "media_url", max_length=2000))
    email, phone = _one(form, "email", max_length=320), _one(form, "phone", max_length=32)
    try:
        data = ReportCreate.model_validate(
            {
                "category": category.code,
                "location": {"type": "Point", "coordinates": [longitude, latitude]},
                "description": _one(form, "description", max_length=5000) or "",
                "address": address,
                "extra": answers,
                "contact": {"email": email, "phone": phone} if email or phone else None,
            }
        )
    except ValidationError as error:
        messages = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"] if part not in ("contact",))
            name = {"location.coordinates": "lat/long", "extra": "attribute"}.get(where, where)
            messages.append(f"{name}: {problem['msg']}")
        raise Open311BadRequest("; ".join(messages)) from None
    account_id = await reporter_account(
        session,
        api_key=api_key,
        device_id=_one(form, "device_id", max_length=200),
        display_name=" ".join(part for part in (first, last) if part) or None,
        locale=jurisdiction.default_locale,
    )
    reporter = Identity(account_id=account_id, jurisdiction_id=jurisdiction.id, is_anonymous=True)
    report = await geo_service.submit_report(session, jurisdiction=jurisdiction, data=data, reporter=reporter)
    token = new_request_token()
    session.add(Open311Request(report_id=report.id, api_key_id=api_key.id, token=token, media_url=media_url))
    await session.flush()
    return Submission(report_id=report.id, token=token, is_public=report.is_public)


# ---------------------------------------------------------------------------------------------------------
# GET requests


def parse_w3c(raw: str, name: str, timezone: str) -> datetime:
    """A W3C date-time with offset (``Z`` or ``±hh:mm``); a bare date means midnight where the city is."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=ZoneInfo(timezone))
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Open311BadRequest(f"{name} must be a W3C date-time, e.g. 2026-01-31T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise Open311BadRequest(f"{name} needs a time zone: end it with Z or an offset such as +01:00")
    return parsed


def _int(raw: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,19}", raw) or not low <= int(raw) <= high:
        raise Open311BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


async def parse_request_query(
    session: AsyncSession,
    jurisdiction: JurisdictionFields,
    params: Any,
    *,
    statuses: tuple[str, ...] | None,
    extensions: bool,
) -> RequestQuery:
    """``status`` comes parsed by ``api.parameters`` (the API's vocabulary: ``open``, ``closed`` and the
    detailed statuses); the dates follow its time-range rule: ``start_date <= requested < end_date``."""
    raw_ids = params.get("service_request_id")
    if raw_ids:
        parts = [p.strip() for p in raw_ids.split(",") if p.strip()]
        if not parts or len(parts) > MAX_RESULTS:
            raise Open311BadRequest(f"service_request_id takes 1 to {MAX_RESULTS} comma-separated ids")
        return RequestQuery(ids=tuple(_int(p, "service_request_id", 1, 2**62) for p in parts))
    category_ids = None
    if codes := params.get("service_code"):
        category_ids = tuple(
            [(await get_service(session, jurisdiction, c.strip())).id for c in codes.split(",")]
        )
    start = (
        parse_w3c(params["start_date"], "start_date", jurisdiction.timezone)
        if params.get("start_date")
        else None
    )
    end = parse_w3c(params["end_date"], "end_date", jurisdiction.timezone) if params.get("end_date") else None
    if start is None and end is None:
        end = datetime.now(UTC)
        start = end - MAX_WINDOW
    elif start is None:
        assert end is not None
        start = end - MAX_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    check_time_range(start, end, names=("start_date", "end_date"))
    if end - start > MAX_WINDOW:
        raise Open311BadRequest("start_date and end_date may span at most 90 days")
    limit, offset = MAX_RESULTS, 0
    if extensions:
        page_size = _int(params["page_size"], "page_size", 1, MAX_RESULTS) if params.get("page_size") else 100
        page = _int(params["page"], "page", 1, 1_000_000) if params.get("page") else 1
        limit, offset = page_size, (page - 1) * page_size
    return RequestQuery(
        category_ids=category_ids, statuses=statuses, start=start, end=end, limit=limit, offset=offset
    )


async def find_requests(
    session: AsyncSession,
    jurisdiction: JurisdictionFields,
    query: RequestQuery,
    *,
    base_url: str,
    extensions: bool,
) -> list[dict[str, Any]]:
    rows = await queries.service_requests(session, jurisdiction_id=jurisdiction.id, query=query)
    zone = ZoneInfo(jurisdiction.timezone)
    history: dict[int, list[dict[str, Any]]] = {}
    if extensions and rows:
        for change in await queries.status_history(session, report_ids=[row.id for row in rows]):
            history.setdefault(change.report_id, []).append(
                {
                    "updated_datetime": change.created_at.astimezone(zone),
                    "status": "closed" if Status(change.to_status) in FINAL_STATUSES else "open",
                    "detailed_status": change.to_status,
                    "reason": change.reason,
                    "description": change.public_message,
                }
            )
    locale = jurisdiction.default_locale
    found = []
    for row in rows:
        media_url = row.media_url
        if media_url is None and row.photo_id is not None:
            media_url = (
                f"{base_url}/api/v1/jurisdictions/{jurisdiction.slug}/reports/{row.id}/photos/{row.photo_id}"
            )
        item: dict[str, Any] = {
            "service_request_id": str(row.id),
            "status": "closed" if Status(row.status) in FINAL_STATUSES else "open",
            "status_notes": row.status_notes,
            "service_name": _localised(row.category_name, locale),
            "service_code": row.code,
            "description": row.description,
            "agency_responsible": row.department,
            "service_notice": None,
            "requested_datetime": row.created_at.astimezone(zone),
            "updated_datetime": row.updated_at.astimezone(zone),
            "expected_datetime": row.due_at.astimezone(zone) if row.due_at else None,
            "address": row.address,
            "address_id": None,
            "zipcode": None,
            "lat": round(row.latitude, 7),
            "long": round(row.longitude, 7),
            "media_url": media_url,
        }
        if extensions:
            item["extended_attributes"] = {
                "detailed_status": row.status,
                "status_reason": row.status_reason,
                "updates": history.get(row.id, []),
            }
        found.append(item)
    return found


async def request_for_token(session: AsyncSession, jurisdiction: JurisdictionFields, token: str) -> int:
    report_id = await queries.report_for_token(session, jurisdiction_id=jurisdiction.id, token=token)
    if report_id is None:
        raise ServiceRequestNotFound(f"no service request for token {token!r}")
    return report_id
