"""Council motions over HTTP: tabled and opened by the area's council (or an administrator), voted by its
members, the roll call public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL, PUBLIC, RESIDENT
from api.deps import SessionDep
from core.identity import Identity
from geo import service as geo_service
from participation import council_votes
from participation.schemas import MotionCreate, MotionVoteCast, StatusChange

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["council votes"])
MotionId = Annotated[int, Path(ge=1, le=2**62)]


@router.post("/motions", status_code=201, summary="Table a motion for an area's council")
async def create_motion(
    jurisdiction: str,
    body: MotionCreate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> dict[str, Any]:
    jurisdiction_id = (await geo_service.get_jurisdiction(session, jurisdiction)).id
    motion = await council_votes.create_motion(
        session, jurisdiction_id=jurisdiction_id, data=body, actor=identity
    )
    return await council_votes.render_motion(session, motion)


@router.get("/motions/{motion_id}", summary="A motion with its public roll call")
async def get_motion(
    jurisdiction: str,
    motion_id: MotionId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    jurisdiction_id = (await geo_service.get_jurisdiction(session, jurisdiction)).id
    motion = await council_votes.get_motion(session, jurisdiction_id=jurisdiction_id, motion_id=motion_id)
    return await council_votes.render_motion(session, motion)


@router.post("/motions/{motion_id}/status", summary="Open or close a motion")
async def change_status(
    jurisdiction: str,
    motion_id: MotionId,
    body: StatusChange,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> dict[str, Any]:
    jurisdiction_id = (await geo_service.get_jurisdiction(session, jurisdiction)).id
    motion = await council_votes.get_motion(
        session, jurisdiction_id=jurisdiction_id, motion_id=motion_id, lock=True
    )
    await council_votes.change_motion_status(session, motion=motion, to=body.to, actor=identity)
    return await council_votes.render_motion(session, motion)


@router.put(
    "/motions/{motion_id}/vote",
    summary="Vote yes, no or abstain (the members of the area's council when the motion opened)",
)
async def vote(
    jurisdiction: str,
    motion_id: MotionId,
    body: MotionVoteCast,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> dict[str, Any]:
    """The seat decides, not today's grant: the membership is fixed when the motion opens, so a member
    whose grant was revoked since still holds their seat on it (``participation.council_votes``)."""
    jurisdiction_id = (await geo_service.get_jurisdiction(session, jurisdiction)).id
    motion = await council_votes.get_motion(session, jurisdiction_id=jurisdiction_id, motion_id=motion_id)
    cast = await council_votes.cast_motion_vote(session, motion=motion, voter=identity, choice=body.choice)
    return {
        "motion_id": motion.id,
        "account_id": cast.account_id,
        "choice": cast.choice,
        "cast_at": cast.cast_at,
    }
