"""Voting over HTTP: casting a ballot online, whether I voted, the letters' voting codes and the address
checks that make a resident a voter. Thin: parse, authorise, call ``participation``. Paper ballots are
in ``api.routers.paper_ballots``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, PUBLIC, RESIDENT
from api.code_attempts import counting_code_failures
from api.deps import SessionDep, get_settings
from api.participation_deps import Keys, Resources, StaffOfJurisdiction
from api.path_objects import ObjectId, PathBudgetRound, PathJurisdiction
from core.identity import Identity
from core.settings import Settings
from participation import ballots, electorate
from participation.schemas import (
    BallotCast,
    BallotReceipt,
    CodesGenerate,
    ParticipationStatus,
    VerificationCreate,
    VerificationRead,
)

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["budget rounds"])


@router.post(
    "/budget-rounds/{round_id}/ballots",
    status_code=201,
    response_model=BallotReceipt,
    summary="Cast or change your ballot (verified account, or the code from your letter)",
)
async def cast_ballot(
    jurisdiction: str,
    round_id: ObjectId,
    body: BallotCast,
    resources: Resources,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    identity: Identity | None = Depends(PUBLIC),
) -> BallotReceipt:
    # The hot path: the jurisdiction, round, code or address are all read by the cast's one query, so
    # no path object here.
    keys = resources.keys
    credential = electorate.online_credential(keys, identity=identity, code=body.code)
    async with (
        resources.cast_connection(session) as connection,
        counting_code_failures(session, request, settings, code=body.code, checked_on=connection),
    ):
        return await ballots.cast_ballot(
            connection,
            resources.mixer,
            keys=keys,
            jurisdiction=jurisdiction,
            round_id=round_id,
            credential=credential,
            data=body,
        )


@router.get(
    "/budget-rounds/{round_id}/participation",
    response_model=ParticipationStatus,
    summary="Whether you have voted (never what)",
)
async def my_participation(
    identity: Annotated[Identity, Depends(RESIDENT)],
    budget_round: PathBudgetRound,
    keys: Keys,
    session: AsyncSession = SessionDep,
) -> ParticipationStatus:
    return await electorate.participation_status(
        session, keys=keys, budget_round=budget_round, account_id=identity.account_id
    )


@router.post(
    "/budget-rounds/{round_id}/codes",
    status_code=201,
    summary="Generate voting codes for letters (CSV)",
    response_class=PlainTextResponse,
)
async def generate_codes(
    _: Annotated[Identity, Depends(ADMIN)],
    budget_round: PathBudgetRound,
    body: CodesGenerate,
    keys: Keys,
    session: AsyncSession = SessionDep,
) -> PlainTextResponse:
    codes = await electorate.generate_codes(
        session, keys=keys, budget_round=budget_round, area_id=body.area_id, count=body.count
    )
    lines = ["code,round_id,area_id", *[f"{c},{budget_round.id},{body.area_id}" for c in codes]]
    return PlainTextResponse("\n".join(lines) + "\n", status_code=201, media_type="text/csv")


@router.post(
    "/participation/verifications",
    status_code=201,
    response_model=VerificationRead,
    summary="Record a checked address (staff)",
)
async def verify_resident(
    identity: StaffOfJurisdiction,
    found: PathJurisdiction,
    body: VerificationCreate,
    session: AsyncSession = SessionDep,
) -> VerificationRead:
    verification = await electorate.verify_resident(
        session, jurisdiction_id=found.id, data=body, staff=identity
    )
    return VerificationRead(
        account_id=verification.account_id,
        verified_at=verification.verified_at,
        age_verified=verification.birth_date is not None,
    )
