"""What a neighbourhood council sees of public space in its own area."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL
from api.deps import SessionDep
from api.path_objects import PathAreaId, PathJurisdiction
from core.identity import Identity
from geo import jurisdiction_queries, permissions
from geo.schemas import AreaReportSummary
from participation import council_overview
from participation.schemas import CouncilParticipationRead, MyMotionRead

router = APIRouter(prefix="/api/v1", tags=["council"])
Council = Annotated[Identity, Depends(COUNCIL)]


@router.get(
    "/jurisdictions/{jurisdiction}/areas/{area_id}/report-summary",
    response_model=AreaReportSummary,
    summary="Reports in my area per category and status",
)
async def area_report_summary(
    identity: Council, found: PathJurisdiction, area_id: PathAreaId, session: AsyncSession = SessionDep
) -> dict[str, Any]:
    """Counts per category and status, non-public categories included (as counts only)."""
    await permissions.check_council_area(
        session,
        identity,
        jurisdiction_id=found.id,
        area_id=area_id,
        refusal="council members see the summary of their own area",
    )
    return await jurisdiction_queries.area_report_summary(session, jurisdiction_id=found.id, area_id=area_id)


@router.get(
    "/jurisdictions/{jurisdiction}/me/motions",
    response_model=list[MyMotionRead],
    summary="The motions of my council (administrators: all), with my vote",
)
async def my_motions(
    identity: Council,
    found: PathJurisdiction,
    status: Literal["draft", "open", "closed"] | None = Query(default=None),
    session: AsyncSession = SessionDep,
) -> list[dict[str, Any]]:
    return await council_overview.my_motions(
        session, jurisdiction_id=found.id, identity=identity, status=status
    )


@router.get(
    "/jurisdictions/{jurisdiction}/council/participation",
    response_model=CouncilParticipationRead,
    summary="Budget rounds and consultations in my areas, with how many took part and heard the outcome",
)
async def council_participation(
    identity: Council,
    found: PathJurisdiction,
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1, description="one of my areas (or below)"),
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    roots: list[int] | None
    if area_id is not None:
        await permissions.require_area(session, jurisdiction_id=found.id, area_id=area_id)
        await permissions.check_council_area(
            session,
            identity,
            jurisdiction_id=found.id,
            area_id=area_id,
            refusal="council members see the rounds of their own area",
        )
        roots = [area_id]
    else:
        scope = permissions.council_area_roots(identity, jurisdiction_id=found.id)
        roots = None if scope is None else list(scope)
    return await council_overview.participation_overview(session, jurisdiction_id=found.id, roots=roots)
