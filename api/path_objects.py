"""Path objects: the jurisdiction of ``{jurisdiction}`` and the objects under it (``{area_id}``,
``{round_id}``, ``{consultation_id}``, ``{motion_id}``), each looked up once per request as a dependency.
A route receives the object instead of repeating the look-up, and an id of another jurisdiction is the same
404 everywhere. FastAPI caches a dependency per request, so a route and its round share one
jurisdiction look-up.

Order matters: FastAPI resolves a route's dependencies in the order of its parameters. Routes list the
caller's identity (and any role check) *before* the path object, so a caller without the role gets
401/403 before a look-up could tell them whether an id exists (the role × route matrix relies on it).
The ``…ForUpdate`` variants lock the row for routes that change it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from geo import permissions as geo_permissions
from geo import service as geo_service
from geo.queries import JurisdictionRef
from participation import budget_rounds, consultations, council_votes
from participation.models import BudgetRound, Consultation, ConsultationRound, Motion

ObjectId = Annotated[int, Path(ge=1, le=2**62)]


async def _jurisdiction(jurisdiction: str, session: AsyncSession = SessionDep) -> JurisdictionRef:
    return await geo_service.get_jurisdiction(session, jurisdiction)


PathJurisdiction = Annotated[JurisdictionRef, Depends(_jurisdiction)]


async def _area_id(
    area_id: Annotated[int, Path(ge=1)], found: PathJurisdiction, session: AsyncSession = SessionDep
) -> int:
    return await geo_permissions.require_area(session, jurisdiction_id=found.id, area_id=area_id)


PathAreaId = Annotated[int, Depends(_area_id)]
"""The id of an area of the path's jurisdiction (checked; routes read the area with SQL of their own)."""


async def _budget_round(
    round_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> BudgetRound:
    return await budget_rounds.get_round(session, jurisdiction_id=found.id, round_id=round_id)


async def _budget_round_for_update(
    round_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> BudgetRound:
    return await budget_rounds.get_round(
        session, jurisdiction_id=found.id, round_id=round_id, for_update=True
    )


PathBudgetRound = Annotated[BudgetRound, Depends(_budget_round)]
PathBudgetRoundForUpdate = Annotated[BudgetRound, Depends(_budget_round_for_update)]


async def _consultation(
    consultation_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> Consultation:
    return await consultations.get_consultation(
        session, jurisdiction_id=found.id, consultation_id=consultation_id
    )


async def _consultation_round(
    round_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> ConsultationRound:
    return await consultations.get_round(session, jurisdiction_id=found.id, round_id=round_id)


async def _consultation_round_for_update(
    round_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> ConsultationRound:
    return await consultations.get_round(session, jurisdiction_id=found.id, round_id=round_id, lock=True)


PathConsultation = Annotated[Consultation, Depends(_consultation)]
PathConsultationRound = Annotated[ConsultationRound, Depends(_consultation_round)]
PathConsultationRoundForUpdate = Annotated[ConsultationRound, Depends(_consultation_round_for_update)]


async def _motion(motion_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep) -> Motion:
    return await council_votes.get_motion(session, jurisdiction_id=found.id, motion_id=motion_id)


async def _motion_for_update(
    motion_id: ObjectId, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> Motion:
    return await council_votes.get_motion(session, jurisdiction_id=found.id, motion_id=motion_id, lock=True)


PathMotion = Annotated[Motion, Depends(_motion)]
PathMotionForUpdate = Annotated[Motion, Depends(_motion_for_update)]
