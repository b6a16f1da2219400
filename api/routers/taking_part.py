"""Taking part from the residents' app: the rounds that concern me, whether I may vote or answer before
I start, a consultation round on its own (the page a notification opens), and which round a letter's
voting code is for (the QR link). Reads only; thin: parse, authorise, call ``participation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT
from api.deps import SessionDep
from api.routers.participation import participation_keys
from core.errors import InvalidInput
from core.identity import Identity
from geo import service as geo_service
from participation import budget_rounds, consultations, proposals, taking_part
from participation.electorate import ParticipationKeys
from participation.errors import ConsultationNotFound
from participation.schemas import (
    CodeLookup,
    CodeLookupRequest,
    ConsultationRoundRead,
    Following,
    RespondentEligibility,
    TakingPart,
    VoterEligibility,
)

router = APIRouter(prefix="/api/v1", tags=["taking part"])
Id = Annotated[int, Path(ge=1, le=2**62)]


async def _jurisdiction_id(session: AsyncSession, slug: str) -> int:
    return (await geo_service.get_jurisdiction(session, slug)).id


@router.get(
    "/jurisdictions/{jurisdiction}/taking-part",
    response_model=TakingPart,
    summary="Budget rounds and consultation rounds, those of my location or verified address first",
)
async def rounds_for_me(
    jurisdiction: str,
    longitude: float | None = Query(default=None, ge=-180, le=180),
    latitude: float | None = Query(default=None, ge=-90, le=90),
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    identity: Identity | None = Depends(PUBLIC),
) -> TakingPart:
    if (longitude is None) != (latitude is None):
        raise InvalidInput("give both longitude and latitude, or neither", code="incomplete-point")
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    point = (longitude, latitude) if longitude is not None and latitude is not None else None
    return await taking_part.taking_part(
        session, jurisdiction_id=jurisdiction_id, point=point, identity=identity, keys=keys
    )


@router.get(
    "/jurisdictions/{jurisdiction}/budget-rounds/{round_id}/eligibility",
    response_model=VoterEligibility,
    summary="Whether my account may vote and propose here, whether I voted (never what)",
)
async def voter_eligibility(
    jurisdiction: str,
    round_id: Id,
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    identity: Identity = Depends(RESIDENT),
) -> VoterEligibility:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    return await taking_part.voter_eligibility(session, budget_round=found, identity=identity, keys=keys)


@router.post(
    "/voting-codes/lookup",
    response_model=CodeLookup,
    summary="The round a letter's voting code is for, and whether it was used (a read: POST keeps the code"
    " out of URLs and logs)",
)
async def lookup_code(
    body: CodeLookupRequest,
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    _: Identity | None = Depends(PUBLIC),
) -> CodeLookup:
    return await taking_part.lookup_code(session, keys=keys, code=body.code)


@router.get(
    "/jurisdictions/{jurisdiction}/consultation-rounds/{round_id}",
    response_model=ConsultationRoundRead,
    summary="A consultation round with its questions and, once published, what the municipality will do",
)
async def consultation_round(
    jurisdiction: str,
    round_id: Id,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> ConsultationRoundRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    if found.status == "draft":
        # A draft is the administrators' work in progress, read through the consultation.
        raise ConsultationNotFound(
            f"no consultation round {round_id} in this jurisdiction", code="consultation-round-not-found"
        )
    return await taking_part.consultation_round(session, consultation_round=found)


@router.get(
    "/jurisdictions/{jurisdiction}/consultation-rounds/{round_id}/eligibility",
    response_model=RespondentEligibility,
    summary="Whether I may answer this round, and whether I answered already",
)
async def respondent_eligibility(
    jurisdiction: str,
    round_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> RespondentEligibility:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    return await taking_part.respondent_eligibility(session, consultation_round=found, identity=identity)


@router.get(
    "/jurisdictions/{jurisdiction}/budget-rounds/{round_id}/proposals/{proposal_id}/follow",
    response_model=Following,
    summary="Whether I follow this project (a request of its own, never derived from a ballot)",
)
async def following(
    jurisdiction: str,
    round_id: Id,
    proposal_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Following:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    proposal = await proposals.get_proposal(session, budget_round=found, proposal_id=proposal_id)
    return await taking_part.following(session, proposal_id=proposal.id, account_id=identity.account_id)
