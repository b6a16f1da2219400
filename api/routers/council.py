"""What a neighbourhood council sees of public space in its own area."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL
from api.deps import SessionDep
from core.errors import NotYourArea
from core.identity import Identity
from geo import queries, service
from geo.errors import AreaNotFound
from geo.schemas import AreaReportSummary
from participation import council_overview
from participation.schemas import CouncilParticipationRead, MyMotionRead

router = APIRouter(prefix="/api/v1", tags=["council"])

SUMMARY_SQL = text("""
SELECT c.code AS category, r.status, count(*) AS reports,
       count(*) FILTER (WHERE r.due_at < coalesce(r.resolved_at, now())) AS overdue
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE r.jurisdiction_id = :j
  AND ST_Intersects(r.location, (SELECT geom FROM areas WHERE id = :area_id))
  AND r.merged_into_id IS NULL
GROUP BY c.code, r.status
ORDER BY c.code, r.status
""")


@router.get(
    "/jurisdictions/{jurisdiction}/areas/{area_id}/report-summary",
    response_model=AreaReportSummary,
    summary="Reports in my area per category and status",
)
async def area_report_summary(
    jurisdiction: str,
    area_id: int = Path(ge=1),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> dict[str, Any]:
    """Counts per category and status, non-public categories included (as counts only)."""
    found = await service.get_jurisdiction(session, jurisdiction)
    exists = await session.scalar(
        text("SELECT id FROM areas WHERE id = :id AND jurisdiction_id = :j"), {"id": area_id, "j": found.id}
    )
    if exists is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    if not identity.is_admin_of(found.id) and not await queries.area_within(
        session, area_id=area_id, ancestors=identity.council_area_ids
    ):
        raise NotYourArea("council members see the summary of their own area")
    rows = (await session.execute(SUMMARY_SQL, {"j": found.id, "area_id": area_id})).all()
    return {
        "area_id": area_id,
        "rows": [dict(row._mapping) for row in rows],
        "total": sum(row.reports for row in rows),
    }


@router.get(
    "/jurisdictions/{jurisdiction}/me/motions",
    response_model=list[MyMotionRead],
    summary="The motions of my council (administrators: all), with my vote",
)
async def my_motions(
    jurisdiction: str,
    status: Literal["draft", "open", "closed"] | None = Query(default=None),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> list[dict[str, Any]]:
    found = await service.get_jurisdiction(session, jurisdiction)
    return await council_overview.my_motions(
        session, jurisdiction_id=found.id, identity=identity, status=status
    )


@router.get(
    "/jurisdictions/{jurisdiction}/council/participation",
    response_model=CouncilParticipationRead,
    summary="Budget rounds and consultations in my areas, with how many took part and heard the outcome",
)
async def council_participation(
    jurisdiction: str,
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1, description="one of my areas (or below)"),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> dict[str, Any]:
    found = await service.get_jurisdiction(session, jurisdiction)
    if area_id is not None:
        exists = await session.scalar(
            text("SELECT id FROM areas WHERE id = :id AND jurisdiction_id = :j"),
            {"id": area_id, "j": found.id},
        )
        if exists is None:
            raise AreaNotFound(f"no area {area_id} in this jurisdiction")
        if not identity.is_admin_of(found.id) and not await queries.area_within(
            session, area_id=area_id, ancestors=identity.council_area_ids
        ):
            raise NotYourArea("council members see the rounds of their own area")
        roots: list[int] | None = [area_id]
    else:
        roots = None if identity.is_admin_of(found.id) else sorted(identity.council_area_ids)
    return await council_overview.participation_overview(session, jurisdiction_id=found.id, roots=roots)
