"""Taking part from the residents' app: the rounds that concern me, whether I may vote or answer before
I start, a consultation round on its own (the page a notification opens), and which round a letter's
voting code is for (the QR link). Reads only; thin: parse, authorise, call ``participation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT
from api.code_attempts import counting_code_failures
from api.deps import SessionDep, get_settings
from api.parameters import Position
from api.participation_deps import Keys
from api.path_objects import ObjectId, PathBudgetRound, PathConsultationRound, PathJurisdiction
from core.identity import Identity
from core.settings import Settings
from participation import proposals, taking_part
from participation.errors import ConsultationRoundNotFound
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


@router.get(
    "/jurisdictions/{jurisdiction}/taking-part",
    response_model=TakingPart,
    summary="Budget rounds and consultation rounds, those of my location or verified address first",
)
async def rounds_for_me(
    identity: Annotated[Identity | None, Depends(PUBLIC)],
    found: PathJurisdiction,
    keys: Keys,
    position: Position,
    session: AsyncSession = SessionDep,
) -> TakingPart:
    point = (position.longitude, position.latitude) if position is not None else None
    return await taking_part.taking_part(
        session, jurisdiction_id=found.id, point=point, identity=identity, keys=keys
    )


@router.get(
    "/jurisdictions/{jurisdiction}/budget-rounds/{round_id}/eligibility",
    response_model=VoterEligibility,
    summary="Whether my account may vote and propose here, whether I voted (never what)",
)
async def voter_eligibility(
    identity: Annotated[Identity, Depends(RESIDENT)],
    budget_round: PathBudgetRound,
    keys: Keys,
    session: AsyncSession = SessionDep,
) -> VoterEligibility:
    return await taking_part.voter_eligibility(
        session, budget_round=budget_round, identity=identity, keys=keys
    )


@router.post(
    "/voting-codes/lookup",
    response_model=CodeLookup,
    summary="The round a letter's voting code is for, and whether it was used (a read: POST keeps the code"
    " out of URLs and logs)",
)
async def lookup_code(
    body: CodeLookupRequest,
    keys: Keys,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> CodeLookup:
    async with counting_code_failures(session, request, settings, code=body.code):
        return await taking_part.lookup_code(session, keys=keys, code=body.code)


@router.get(
    "/jurisdictions/{jurisdiction}/consultation-rounds/{round_id}",
    response_model=ConsultationRoundRead,
    summary="A consultation round with its questions and, once published, what the municipality will do",
)
async def consultation_round(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    found: PathConsultationRound,
    session: AsyncSession = SessionDep,
) -> ConsultationRoundRead:
    if found.status == "draft":
        # A draft is the administrators' work in progress, read through the consultation.
        raise ConsultationRoundNotFound(f"no consultation round {found.id} in this jurisdiction")
    return await taking_part.consultation_round(session, consultation_round=found)


@router.get(
    "/jurisdictions/{jurisdiction}/consultation-rounds/{round_id}/eligibility",
    response_model=RespondentEligibility,
    summary="Whether I may answer this round, and whether I answered already",
)
async def respondent_eligibility(
    identity: Annotated[Identity, Depends(RESIDENT)],
    found: PathConsultationRound,
    session: AsyncSession = SessionDep,
) -> RespondentEligibility:
    return await taking_part.respondent_eligibility(session, consultation_round=found, identity=identity)


@router.get(
    "/jurisdictions/{jurisdiction}/budget-rounds/{round_id}/proposals/{proposal_id}/follow",
    response_model=Following,
    summary="Whether I follow this project (a request of its own, never derived from a ballot)",
)
async def following(
    identity: Annotated[Identity, Depends(RESIDENT)],
    budget_round: PathBudgetRound,
    proposal_id: ObjectId,
    session: AsyncSession = SessionDep,
) -> Following:
    proposal = await proposals.get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    return await taking_part.following(session, proposal_id=proposal.id, account_id=identity.account_id)
