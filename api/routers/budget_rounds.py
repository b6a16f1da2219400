"""Budget rounds over HTTP: create and change a round, move it through its phases, its results and its
pabulib export. Thin: parse, authorise, call ``participation``. Proposals are in
``api.routers.proposals``, ballots, codes and verifications in ``api.routers.voting``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, PUBLIC
from api.deps import SessionDep
from api.idempotency import idempotent
from api.participation_deps import AppEngine, Keys
from api.path_objects import PathBudgetRound, PathBudgetRoundForUpdate, PathJurisdiction
from core.identity import Identity
from participation import budget_rounds, pabulib_io
from participation.ballot_store import vacuum_ballots
from participation.schemas import PhaseChange, RoundCreate, RoundRead, RoundResults, RoundUpdate

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["budget rounds"])


@router.post("/budget-rounds", status_code=201, response_model=RoundRead, summary="Create a budget round")
async def create_round(
    identity: Annotated[Identity, Depends(ADMIN)],
    body: RoundCreate,
    request: Request,
    found: PathJurisdiction,
    session: AsyncSession = SessionDep,
) -> Response:
    async def produce() -> tuple[int, object, dict[str, str]]:
        created = await budget_rounds.create_round(session, jurisdiction_id=found.id, data=body)
        return 201, RoundRead.model_validate(created), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get("/budget-rounds", response_model=list[RoundRead], summary="List budget rounds")
async def list_rounds(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    found: PathJurisdiction,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
) -> list[RoundRead]:
    listed = await budget_rounds.list_rounds(session, jurisdiction_id=found.id, area_id=area_id)
    return [RoundRead.model_validate(r) for r in listed]


@router.get("/budget-rounds/{round_id}", response_model=RoundRead, summary="A budget round")
async def get_round(
    _: Annotated[Identity | None, Depends(PUBLIC)], budget_round: PathBudgetRound
) -> RoundRead:
    return RoundRead.model_validate(budget_round)


@router.patch(
    "/budget-rounds/{round_id}",
    response_model=RoundRead,
    summary="Change a round; ballot rules are locked once voting opens (409)",
)
async def update_round(
    _: Annotated[Identity, Depends(ADMIN)],
    body: RoundUpdate,
    budget_round: PathBudgetRoundForUpdate,
    session: AsyncSession = SessionDep,
) -> RoundRead:
    updated = await budget_rounds.update_round(session, budget_round, data=body)
    return RoundRead.model_validate(updated)


@router.post(
    "/budget-rounds/{round_id}/phase", response_model=RoundRead, summary="Move a round to another phase"
)
async def change_phase(
    identity: Annotated[Identity, Depends(ADMIN)],
    body: PhaseChange,
    background: BackgroundTasks,
    budget_round: PathBudgetRoundForUpdate,
    keys: Keys,
    engine: AppEngine,
    session: AsyncSession = SessionDep,
) -> RoundRead:
    await budget_rounds.change_phase(session, budget_round, to=body.to, actor=identity, cipher=keys.cipher)
    if budget_round.phase == "results" and engine is not None:
        # After the commit (which precedes the response) and outside any transaction, as VACUUM needs.
        background.add_task(vacuum_ballots, engine)
    return RoundRead.model_validate(budget_round)


@router.get(
    "/budget-rounds/{round_id}/results",
    response_model=RoundResults,
    response_model_exclude_unset=True,
    summary="The outcome with an explanation per project",
)
async def results(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    budget_round: PathBudgetRound,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    return await budget_rounds.results_of(session, budget_round)


@router.get(
    "/budget-rounds/{round_id}/export.pb",
    summary="The round as a pabulib file, ballots anonymised",
    response_class=PlainTextResponse,
)
async def export_pb(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    budget_round: PathBudgetRound,
    session: AsyncSession = SessionDep,
) -> PlainTextResponse:
    return PlainTextResponse(
        await pabulib_io.export_round(session, budget_round),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="round-{budget_round.id}.pb"'},
    )
