"""Paper ballots over HTTP: entered by election officers, against the round's register, with an audit trail.

See ``participation/paper.py``: only an ``election_officer`` grant enters paper ballots (not field staff,
not an administrator as such); an administrator puts the round's register in; both read the audit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, ELECTION_OFFICER, ELECTION_OVERSIGHT
from api.deps import SessionDep
from api.participation_deps import Keys, Resources
from api.path_objects import ObjectId, PathBudgetRound, PathJurisdiction
from core.identity import Identity
from geo.schemas import Input
from participation import ballots, electorate, paper
from participation.schemas import BallotCast, BallotReceipt, PaperAudit, PaperBallot, PaperRegisterAdded

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["participation"])
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=128)]


class RegisterAdd(Input):
    references: list[Reference] = Field(min_length=1, max_length=5000)


@router.post(
    "/budget-rounds/{round_id}/paper-ballots",
    status_code=201,
    response_model=BallotReceipt,
    summary="Enter a paper ballot (election officer), by the letter's code or a reference on the register",
)
async def paper_ballot(
    identity: Annotated[Identity, Depends(ELECTION_OFFICER)],
    found: PathJurisdiction,
    jurisdiction: str,
    round_id: ObjectId,
    body: PaperBallot,
    resources: Resources,
    session: AsyncSession = SessionDep,
) -> BallotReceipt:
    keys = resources.keys
    credential = electorate.paper_credential(
        keys, jurisdiction_id=found.id, code=body.code, reference=body.voter_reference
    )
    async with resources.cast_connection(session) as connection:
        return await ballots.cast_ballot(
            connection,
            resources.mixer,
            keys=keys,
            jurisdiction=jurisdiction,
            round_id=round_id,
            credential=credential,
            data=BallotCast(projects=body.projects, points=body.points),
            entered_by=identity.account_id,
        )


@router.post(
    "/budget-rounds/{round_id}/paper-register",
    status_code=201,
    response_model=PaperRegisterAdded,
    summary="Add voters who may vote on paper without a code (administrator); only keyed hashes are kept",
)
async def add_to_paper_register(
    identity: Annotated[Identity, Depends(ADMIN)],
    budget_round: PathBudgetRound,
    body: RegisterAdd,
    keys: Keys,
    session: AsyncSession = SessionDep,
) -> dict[str, int]:
    return await paper.add_to_register(
        session, keys=keys, budget_round=budget_round, references=list(body.references), added_by=identity
    )


@router.get(
    "/budget-rounds/{round_id}/paper-ballots/audit",
    response_model=PaperAudit,
    summary="Who entered how many paper ballots, and when (administrators and election officers)",
)
async def paper_ballot_audit(
    _: Annotated[Identity, Depends(ELECTION_OVERSIGHT)],
    budget_round: PathBudgetRound,
    session: AsyncSession = SessionDep,
) -> PaperAudit:
    return PaperAudit.model_validate(await paper.audit(session, budget_round))
