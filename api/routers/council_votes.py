"""Council motions over HTTP: tabled and opened by the area's council (or an administrator), voted by its
members, the roll call public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL, PUBLIC, RESIDENT
from api.deps import SessionDep
from api.path_objects import PathJurisdiction, PathMotion, PathMotionForUpdate
from core.identity import Identity
from participation import council_votes
from participation.schemas import MotionCreate, MotionRead, MotionVoteCast, MotionVoteRead, StatusChange

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["council votes"])


@router.post(
    "/motions", status_code=201, response_model=MotionRead, summary="Table a motion for an area's council"
)
async def create_motion(
    identity: Annotated[Identity, Depends(COUNCIL)],
    body: MotionCreate,
    found: PathJurisdiction,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    motion = await council_votes.create_motion(session, jurisdiction_id=found.id, data=body, actor=identity)
    return await council_votes.render_motion(session, motion)


@router.get("/motions/{motion_id}", response_model=MotionRead, summary="A motion with its public roll call")
async def get_motion(
    _: Annotated[Identity | None, Depends(PUBLIC)], motion: PathMotion, session: AsyncSession = SessionDep
) -> dict[str, Any]:
    return await council_votes.render_motion(session, motion)


@router.post("/motions/{motion_id}/status", response_model=MotionRead, summary="Open or close a motion")
async def change_status(
    identity: Annotated[Identity, Depends(COUNCIL)],
    body: StatusChange,
    motion: PathMotionForUpdate,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    await council_votes.change_motion_status(session, motion=motion, to=body.to, actor=identity)
    return await council_votes.render_motion(session, motion)


@router.put(
    "/motions/{motion_id}/vote",
    response_model=MotionVoteRead,
    summary="Vote yes, no or abstain (the members of the area's council when the motion opened)",
)
async def vote(
    identity: Annotated[Identity, Depends(RESIDENT)],
    body: MotionVoteCast,
    motion: PathMotion,
    session: AsyncSession = SessionDep,
) -> MotionVoteRead:
    """The seat decides, not today's grant: the membership is fixed when the motion opens, so a member
    whose grant was revoked since still holds their seat on it (``participation.council_votes``)."""
    cast = await council_votes.cast_motion_vote(session, motion=motion, voter=identity, choice=body.choice)
    return MotionVoteRead(
        motion_id=motion.id, account_id=cast.account_id, choice=cast.choice, cast_at=cast.cast_at
    )
