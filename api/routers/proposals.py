"""Proposals over HTTP: residents propose projects, staff review them, anyone follows a project, staff
report its implementation; and the photos of proposals and updates. Thin: parse, authorise, call
``participation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT
from api.deps import SessionDep, get_media, get_settings
from api.idempotency import idempotent
from api.participation_deps import StaffOfJurisdiction
from api.path_objects import ObjectId, PathBudgetRound, PathJurisdiction
from core.identity import Identity
from core.settings import Settings
from geo import service as geo_service
from geo.media import MediaStore
from participation import proposals
from participation.permissions import check_staff_of_jurisdiction
from participation.schemas import (
    ImplementationUpdateCreate,
    ImplementationUpdateRead,
    ParticipationPhotoUploaded,
    ProposalCreate,
    ProposalRead,
    ProposalReview,
)

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["budget rounds"])
ProposalId = ObjectId


@router.post(
    "/budget-rounds/{round_id}/proposals",
    status_code=201,
    response_model=ProposalRead,
    summary="Propose a project (verified residents of the area)",
)
async def submit_proposal(
    identity: Annotated[Identity, Depends(RESIDENT)],
    body: ProposalCreate,
    request: Request,
    budget_round: PathBudgetRound,
    session: AsyncSession = SessionDep,
) -> Response:
    async def produce() -> tuple[int, object, dict[str, str]]:
        proposal = await proposals.submit_proposal(
            session, budget_round=budget_round, data=body, author=identity
        )
        return 201, (await proposals.render_proposals(session, [proposal]))[0], {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get("/budget-rounds/{round_id}/proposals", response_model=list[ProposalRead], summary="Proposals")
async def list_proposals(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    budget_round: PathBudgetRound,
    status: str | None = Query(default=None, pattern="^(submitted|feasible|infeasible|withdrawn)$"),
    session: AsyncSession = SessionDep,
) -> list[ProposalRead]:
    listed = await proposals.list_proposals(session, budget_round=budget_round, status=status)
    return await proposals.render_proposals(session, listed)


@router.get(
    "/budget-rounds/{round_id}/proposals/{proposal_id}", response_model=ProposalRead, summary="A proposal"
)
async def get_proposal(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
) -> ProposalRead:
    proposal = await proposals.get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    return (await proposals.render_proposals(session, [proposal]))[0]


@router.post(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/review",
    response_model=ProposalRead,
    summary="Staff review: feasible or not, with a public reason and the final cost",
)
async def review_proposal(
    identity: StaffOfJurisdiction,
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    body: ProposalReview,
    session: AsyncSession = SessionDep,
) -> ProposalRead:
    proposal = await proposals.review_proposal(
        session, budget_round=budget_round, proposal_id=proposal_id, data=body, staff=identity
    )
    return (await proposals.render_proposals(session, [proposal]))[0]


@router.put(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/follow",
    status_code=204,
    summary="Hear about this project's progress",
)
async def follow(
    identity: Annotated[Identity, Depends(RESIDENT)],
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
) -> Response:
    await proposals.follow(
        session, budget_round=budget_round, proposal_id=proposal_id, account_id=identity.account_id
    )
    return Response(status_code=204)


@router.delete(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/follow", status_code=204, summary="Stop following"
)
async def unfollow(
    identity: Annotated[Identity, Depends(RESIDENT)],
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
) -> Response:
    await proposals.unfollow(
        session, budget_round=budget_round, proposal_id=proposal_id, account_id=identity.account_id
    )
    return Response(status_code=204)


@router.post(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/updates",
    status_code=201,
    response_model=ImplementationUpdateRead,
    summary="Report progress on a funded project",
)
async def add_update(
    identity: StaffOfJurisdiction,
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    body: ImplementationUpdateCreate,
    session: AsyncSession = SessionDep,
) -> ImplementationUpdateRead:
    update = await proposals.add_implementation_update(
        session, budget_round=budget_round, proposal_id=proposal_id, data=body, staff=identity
    )
    return ImplementationUpdateRead(
        id=update.id,
        proposal_id=update.proposal_id,
        status=update.status,
        progress_percent=update.progress_percent,
        message=update.message,
        created_at=update.created_at,
        photo_ids=sorted(body.photo_ids),
    )


@router.get(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/updates",
    response_model=list[ImplementationUpdateRead],
    summary="A project's implementation updates",
)
async def list_updates(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    budget_round: PathBudgetRound,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
) -> list[ImplementationUpdateRead]:
    return await proposals.list_updates(session, budget_round=budget_round, proposal_id=proposal_id)


@router.get(
    "/participation/photos/{photo_id}",
    summary="A photo of a proposal or an implementation update",
    response_class=FileResponse,
)
async def photo(
    _: Annotated[Identity | None, Depends(PUBLIC)],
    found: PathJurisdiction,
    photo_id: ObjectId,
    thumbnail: bool = False,
    session: AsyncSession = SessionDep,
    media: MediaStore = Depends(get_media),
) -> FileResponse:
    stored = await proposals.participation_photo(session, jurisdiction_id=found.id, photo_id=photo_id)
    return FileResponse(
        media.path(stored.thumbnail_key if thumbnail else stored.storage_key), media_type=stored.content_type
    )


@router.post(
    "/participation/photos",
    status_code=201,
    response_model=ParticipationPhotoUploaded,
    summary="Upload a photo for a proposal (or, staff, an update)",
)
async def upload_photo(
    identity: Annotated[Identity, Depends(RESIDENT)],
    found: PathJurisdiction,
    file: UploadFile = File(),
    kind: str = Query(default="report", pattern="^(report|after)$"),
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    media: MediaStore = Depends(get_media),
) -> ParticipationPhotoUploaded:
    if kind == "after":
        check_staff_of_jurisdiction(identity, found.id)
    data = await file.read(settings.max_photo_bytes + 1)
    stored = await geo_service.store_photo(
        session,
        media,
        jurisdiction_id=found.id,
        uploader=identity,
        data=data,
        declared_content_type=file.content_type,
        kind=kind,
        max_bytes=settings.max_photo_bytes,
    )
    return ParticipationPhotoUploaded(
        id=stored.id, kind=stored.kind, width=stored.width, height=stored.height
    )
