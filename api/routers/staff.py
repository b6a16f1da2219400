"""Field staff and administrators: the work list, the staff view, status changes, merges.

Updates are guarded by the report's version: send it as ``If-Match: "v<version>"`` (the ETag of the
staff view) or as ``expected_version`` in the body. A stale one gets 412, a missing one 428.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import STAFF
from api.deps import SessionDep
from api.errors import InvalidIfMatch, NotYourDepartment
from api.idempotency import idempotent
from api.parameters import Position, Statuses
from core.errors import PreconditionRequired
from core.identity import Identity
from geo import queries, service
from geo.queries import JurisdictionRef
from geo.schemas import MergeCandidate, MergeCreate, ReportStaff, TransitionCreate, WorkItem, WorkSummary
from geo.views import point_geojson, render_report

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["field staff"])
ReportId = Annotated[int, Path(ge=1, le=2**62)]
_IF_MATCH = re.compile(r'^(W/)?"v(\d{1,9})"$')


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version(request: Request, body_version: int | None) -> int:
    header = request.headers.get("if-match")
    header_version = None
    if header is not None:
        match = _IF_MATCH.match(header.strip())
        if match is None:
            raise InvalidIfMatch('If-Match must be an ETag of this API, like "v3"')
        header_version = int(match.group(2))
    if header_version is not None and body_version is not None and header_version != body_version:
        raise InvalidIfMatch("If-Match and expected_version disagree")
    version = header_version if header_version is not None else body_version
    if version is None:
        raise PreconditionRequired(
            "send the version you read (If-Match header or expected_version) so no update is lost"
        )
    return version


async def _departments(
    session: AsyncSession, found: JurisdictionRef, identity: Identity, department_id: int | None
) -> list[int]:
    """The departments whose reports the caller works on: one they name, else all of theirs (an
    administrator without departments of their own: every department)."""
    if department_id is not None:
        if not identity.is_staff_of(found.id, department_id):
            raise NotYourDepartment("that is not one of your departments")
        return [department_id]
    if identity.is_admin_of(found.id) and not identity.department_ids:
        return await service.department_ids(session, jurisdiction_id=found.id)
    return sorted(identity.department_ids)


async def _category_filter(
    session: AsyncSession, found: JurisdictionRef, category: str | None
) -> tuple[int, ...] | None:
    """Comma-separated category codes (a group stands for its categories), or None for all."""
    return await service.category_ids_for_codes(session, jurisdiction_id=found.id, raw=category)


CategoryQuery = Query(
    default=None,
    max_length=2000,
    pattern=r"^[a-z0-9][a-z0-9_-]{0,63}(,[a-z0-9][a-z0-9_-]{0,63})*$",
    description="comma-separated category codes; a group stands for its categories",
)


@router.get(
    "/worklist", response_model=list[WorkItem], summary="Open reports of my departments, nearest first"
)
async def worklist(
    jurisdiction: str,
    position: Position,
    statuses: Statuses,
    category: str | None = CategoryQuery,
    department_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=100, ge=1, le=500),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> list[dict[str, Any]]:
    found = await service.get_jurisdiction(session, jurisdiction)
    departments = await _departments(session, found, identity, department_id)
    category_ids = await _category_filter(session, found, category)
    return await queries.worklist(
        session,
        jurisdiction_id=found.id,
        department_ids=departments,
        statuses=list(statuses) if statuses is not None else queries.OPEN_STATUS_LIST,
        longitude=position.longitude if position else None,
        latitude=position.latitude if position else None,
        limit=limit,
        category_ids=category_ids,
    )


@router.get(
    "/worklist/summary",
    response_model=WorkSummary,
    summary="How many open reports my departments have, per status, and how many are overdue",
)
async def worklist_summary(
    jurisdiction: str,
    category: str | None = CategoryQuery,
    department_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> dict[str, Any]:
    found = await service.get_jurisdiction(session, jurisdiction)
    departments = await _departments(session, found, identity, department_id)
    return await queries.worklist_summary(
        session,
        jurisdiction_id=found.id,
        department_ids=departments,
        category_ids=await _category_filter(session, found, category),
    )


async def _staff_report(session: AsyncSession, jurisdiction: str, report_id: int, identity: Identity) -> Any:
    found = await service.get_jurisdiction(session, jurisdiction)
    report = await service.get_report(session, jurisdiction_id=found.id, report_id=report_id)
    if not identity.is_staff_of(found.id, report.department_id):
        raise NotYourDepartment("this report belongs to another department")
    return found, report


@router.get(
    "/reports/{report_id}/staff-view",
    response_model=ReportStaff,
    summary="One report with contact data and internal notes",
)
async def staff_view(
    jurisdiction: str,
    report_id: ReportId,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> JSONResponse:
    _, report = await _staff_report(session, jurisdiction, report_id, identity)
    view = await render_report(session, report, staff=True)
    return JSONResponse(
        ReportStaff.model_validate(view).model_dump(mode="json"),
        headers={"ETag": etag(report.version), "Cache-Control": "private, no-store"},
    )


@router.post("/reports/{report_id}/transitions", response_model=ReportStaff, summary="Change the status")
async def transition(
    jurisdiction: str,
    report_id: ReportId,
    body: TransitionCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    version = expected_version(request, body.expected_version)

    async def produce() -> tuple[int, object, dict[str, str]]:
        report = await service.transition_report(
            session,
            jurisdiction_id=found.id,
            report_id=report_id,
            actor=identity,
            data=body,
            expected_version=version,
        )
        view = ReportStaff.model_validate(await render_report(session, report, staff=True))
        return 200, view, {"ETag": etag(report.version)}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.post(
    "/reports/{report_id}/merge",
    response_model=ReportStaff,
    summary="Close this report as a duplicate of another; followers carry over",
)
async def merge(
    jurisdiction: str,
    report_id: ReportId,
    body: MergeCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    version = expected_version(request, body.expected_version)

    async def produce() -> tuple[int, object, dict[str, str]]:
        report = await service.merge_reports(
            session,
            jurisdiction_id=found.id,
            report_id=report_id,
            actor=identity,
            data=body,
            expected_version=version,
        )
        view = ReportStaff.model_validate(await render_report(session, report, staff=True))
        return 200, view, {"ETag": etag(report.version)}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get(
    "/reports/{report_id}/merge-candidates",
    response_model=list[MergeCandidate],
    summary="Open reports nearby this one could be merged into (same category first, then nearest)",
)
async def merge_candidates(
    jurisdiction: str,
    report_id: ReportId,
    radius: float = Query(default=250, ge=1, le=2000, allow_inf_nan=False, description="metres"),
    limit: int = Query(default=20, ge=1, le=100),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> list[dict[str, Any]]:
    found, report = await _staff_report(session, jurisdiction, report_id, identity)
    longitude, latitude = point_geojson(report.location)["coordinates"]
    return await queries.merge_candidates(
        session,
        jurisdiction_id=found.id,
        report_id=report.id,
        category_id=report.category_id,
        longitude=longitude,
        latitude=latitude,
        radius=radius,
        # Merging needs staff rights on both reports: offer only those.
        department_ids=None if identity.is_admin_of(found.id) else sorted(identity.department_ids),
        limit=limit,
    )
