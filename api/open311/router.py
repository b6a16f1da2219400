"""``/open311/v2``: GeoReport v2 in XML and JSON, format chosen by the path's extension.

Errors here are not problem+json: an Open311 client expects the specification's own error list in the
format it asked for. ``Open311Route`` catches every expected failure (domain errors, including those raised
while resolving dependencies) and renders it so; the status is folded onto the three the spec names (400 bad
input, 403 missing or invalid ``api_key``, 404 unknown id or service), but for a rate limit's 429, which
keeps its status and its ``Retry-After`` (the spec names no such answer, and folded into a 400 a client
would not know to wait and retry). Most parameters are read by hand
from the query and form (the spec's own names and formats); those shared with the API (``status``) are its
dependencies from ``api.parameters``, whose errors and FastAPI validation errors this route class renders
in the spec's format too, so neither escapes as problem+json.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC
from api.deps import SessionDep, get_settings
from api.open311 import keys, queries
from api.open311 import service as open311
from api.open311.formats import FORMATS, Format, error_response, respond
from api.open311.schemas import (
    Discovery,
    RequestCreated,
    Service,
    ServiceDefinition,
    ServiceRequest,
    TokenRequest,
    create_request_body,
    documented,
)
from api.parameters import Statuses
from core import throttle
from core.errors import DomainError, TooManyRequests
from core.identity import Identity
from core.settings import Settings
from geo.errors import InvalidExtraFields


def _format_of(request: Request) -> Format:
    fmt = request.path_params.get("fmt")
    return cast(Format, fmt) if fmt in FORMATS else "json"


def _spec_status(status: int) -> int:
    if status in (401, 403):
        return 403
    if status in (404, 429):
        return status
    return 400


def _descriptions(error: DomainError) -> list[str]:
    if isinstance(error, InvalidExtraFields) and isinstance(error.extra.get("errors"), dict):
        return [f"attribute[{code}]: {message}" for code, message in sorted(error.extra["errors"].items())]
    return [error.detail]


async def _roll_back(request: Request) -> None:
    """Undo what the request wrote before it was refused. The refusal is answered here, inside FastAPI's
    function-scoped dependencies, so the unit of work would otherwise see a clean exit and commit (an
    anonymous account and device made for a report that then lies outside the jurisdiction)."""
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is not None and session.in_transaction():
        await session.rollback()


class Open311Route(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            fmt = _format_of(request)
            if "fmt" in request.path_params and request.path_params["fmt"] not in FORMATS:
                return error_response("json", 400, ["the format must be .xml or .json"])
            try:
                return await handler(request)
            except DomainError as error:
                await _roll_back(request)
                response = error_response(fmt, _spec_status(error.status), _descriptions(error))
                if isinstance(error, TooManyRequests):
                    response.headers["Retry-After"] = str(error.retry_after)  # when the window ends
                return response
            except RequestValidationError as error:
                await _roll_back(request)
                described = [
                    f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in error.errors()
                ]
                return error_response(fmt, 400, described or ["the request is malformed"])

        return guarded


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _extensions(request: Request) -> bool:
    value = request.query_params.get("extensions", "").lower()
    if value not in ("", "true", "false"):
        raise open311.Open311BadRequest("extensions must be true or false")
    return value == "true"


@router.get(
    "/discovery.{fmt}",
    response_model=Discovery,
    responses=documented(),
    summary="Where this server's GeoReport v2 endpoint lives",
)
async def discovery(
    fmt: Format, request: Request, session: AsyncSession = SessionDep, _: Identity | None = Depends(PUBLIC)
) -> Response:
    changed = await queries.last_jurisdiction_change(session)
    body: dict[str, Any] = {
        "changeset": changed,
        "contact": "The municipality's service desk.",
        "key_service": "API keys are issued per client application by the municipality's administrators.",
        "endpoints": [
            {
                "specification": open311.SPECIFICATION,
                "url": f"{_base_url(request)}/open311/v2",
                "changeset": changed,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", body)


@router.get(
    "/services.{fmt}",
    response_model=list[Service],
    responses=documented(),
    summary="Categories residents can report, as services",
)
async def list_services(
    fmt: Format, request: Request, session: AsyncSession = SessionDep, _: Identity | None = Depends(PUBLIC)
) -> Response:
    jurisdiction = await open311.resolve_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    services = await open311.list_services(session, jurisdiction)
    return respond(fmt, "services", services)


@router.get(
    "/services/{service_code}.{fmt}",
    response_model=ServiceDefinition,
    responses=documented(),
    summary="A service's extra fields, as attributes",
)
async def read_service_definition(
    service_code: str,
    fmt: Format,
    request: Request,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    jurisdiction = await open311.resolve_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    category = await open311.get_service(session, jurisdiction, service_code)
    return respond(fmt, "service_definition", open311.service_definition(category, jurisdiction))


@router.post(
    "/requests.{fmt}",
    status_code=201,
    response_model=list[RequestCreated],
    responses=documented(201),
    summary="Submit a service request (form-encoded, api_key required)",
    openapi_extra=create_request_body(),
)
async def create_request(
    fmt: Format,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise open311.Open311BadRequest("send the request as application/x-www-form-urlencoded")
    form = await request.form()
    # The key may come in the form (the spec) or, as some clients send it, in the query string.
    key_value = form.get("api_key") or request.query_params.get("api_key")
    api_key = await keys.authenticate(session, key_value if isinstance(key_value, str) else None)
    # Counted with the request: a refused one (bad input, outside the jurisdiction) is rolled back.
    await throttle.hit_per_hour(
        session,
        settings,
        key=f"open311-requests:{api_key.id}",
        limit=settings.open311_requests_per_key_per_hour,
        what="service requests with this api_key",
    )
    jurisdiction_id = form.get("jurisdiction_id") or request.query_params.get("jurisdiction_id")
    jurisdiction = await open311.resolve_jurisdiction(
        session, jurisdiction_id if isinstance(jurisdiction_id, str) else None, api_key=api_key
    )
    submitted = await open311.submit(session, jurisdiction=jurisdiction, api_key=api_key, form=form)
    answer = [
        {
            "service_request_id": str(submitted.report_id),
            "token": submitted.token,
            "service_notice": None if submitted.is_public else open311.CONFIDENTIAL_NOTICE,
            "account_id": None,
        }
    ]
    return respond(fmt, "service_requests", answer, status_code=201)


@router.get(
    "/requests.{fmt}",
    response_model=list[ServiceRequest],
    responses=documented(),
    summary="Service requests: by ids, or filtered within a 90-day window",
)
async def list_requests(
    fmt: Format,
    request: Request,
    statuses: Statuses,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    params = request.query_params
    jurisdiction = await open311.resolve_jurisdiction(session, params.get("jurisdiction_id"))
    extensions = _extensions(request)
    query = await open311.parse_request_query(
        session, jurisdiction, params, statuses=statuses, extensions=extensions
    )
    found = await open311.find_requests(
        session, jurisdiction, query, base_url=_base_url(request), extensions=extensions
    )
    return respond(fmt, "service_requests", found)


@router.get(
    "/requests/{service_request_id}.{fmt}",
    response_model=list[ServiceRequest],
    responses=documented(),
    summary="One service request (an array of one)",
)
async def read_request(
    service_request_id: str,
    fmt: Format,
    request: Request,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    jurisdiction = await open311.resolve_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    extensions = _extensions(request)
    if not service_request_id.isdigit() or not 1 <= int(service_request_id) <= 2**62:
        raise open311.ServiceRequestNotFound(f"no service request {service_request_id!r}")
    query = queries.RequestQuery(ids=(int(service_request_id),))
    found = await open311.find_requests(
        session, jurisdiction, query, base_url=_base_url(request), extensions=extensions
    )
    if not found:
        raise open311.ServiceRequestNotFound(f"no service request {service_request_id}")
    return respond(fmt, "service_requests", found)


@router.get(
    "/tokens/{token}.{fmt}",
    response_model=list[TokenRequest],
    responses=documented(),
    summary="The service request a token stands for",
)
async def read_token(
    token: str,
    fmt: Format,
    request: Request,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    jurisdiction = await open311.resolve_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    if len(token) > 64:
        raise open311.ServiceRequestNotFound("no service request for this token")
    report_id = await open311.request_for_token(session, jurisdiction, token)
    return respond(fmt, "service_requests", [{"service_request_id": str(report_id), "token": token}])
