"""The closing-the-loop metrics over HTTP (COUNCIL: council members and administrators). Who sees which
area and period is decided by :mod:`notifications.metrics_scope`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL
from api.deps import SessionDep
from api.routers.notifications.common import router
from core.identity import Identity
from geo import service as geo_service
from notifications import metrics
from notifications.metrics_scope import metrics_scope
from notifications.schemas import LoopMetrics, ParticipationLoopMetrics


@router.get("/loop-metrics", response_model=LoopMetrics, summary="Was the loop closed? Per area and category")
async def loop_metrics(
    jurisdiction: str,
    start: datetime | None = Query(default=None, description="default: 30 days before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    category: str | None = Query(default=None, max_length=64),
    group_by: str = Query(
        default="none",
        pattern="^(none|area|category|week|month)$",
        description="week and month: calendar periods in the municipality's time zone (2026-W07, 2026-02)",
    ),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    start, end = await metrics_scope(
        session,
        identity=identity,
        jurisdiction_id=found.id,
        start=start,
        end=end,
        area_id=area_id,
        category=category,
    )
    rows = await metrics.loop_metrics(
        session,
        jurisdiction_id=found.id,
        start=start,
        end=end,
        area_id=area_id,
        category=category,
        group_by=group_by,
    )
    return {
        "start": start,
        "end": end,
        "area_id": area_id,
        "category": category,
        "group_by": group_by,
        "rows": rows,
    }


@router.get(
    "/loop-metrics/participation",
    response_model=ParticipationLoopMetrics,
    summary="Were voters and respondents told the outcome? Per area",
)
async def participation_loop_metrics(
    jurisdiction: str,
    start: datetime | None = Query(default=None, description="default: 30 days before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    group_by: str = Query(default="none", pattern="^(none|area)$"),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> Any:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    start, end = await metrics_scope(
        session, identity=identity, jurisdiction_id=found.id, start=start, end=end, area_id=area_id
    )
    counted = await metrics.participation_loop_metrics(
        session, jurisdiction_id=found.id, start=start, end=end, area_id=area_id, group_by=group_by
    )
    return {"start": start, "end": end, "area_id": area_id, "group_by": group_by, **counted}
