"""Budget rounds over HTTP: rounds, proposals and review, ballots (online and paper), results, codes,
address verification, implementation updates. Thin: parse, authorise, call ``participation``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.auth import ADMIN, PUBLIC, RESIDENT, STAFF
from api.deps import SessionDep, get_media, get_settings
from api.idempotency import idempotent
from api.path_objects import ObjectId, PathBudgetRound, PathBudgetRoundForUpdate, PathJurisdiction
from core.db import sync_url
from core.errors import RoleRequired
from core.identity import Identity
from core.settings import Settings
from geo import service as geo_service
from geo.media import MediaStore
from geo.queries import JurisdictionRef
from participation import ballots, budget_rounds, electorate, pabulib_io, proposals
from participation.ballot_store import (
    BallotMixer,
    connection_pool,
    driver_connection,
    session_source,
    vacuum_ballots,
)
from participation.electorate import ParticipationKeys
from participation.schemas import (
    BallotCast,
    BallotReceipt,
    CodesGenerate,
    ImplementationUpdateCreate,
    ImplementationUpdateRead,
    ParticipationPhotoUploaded,
    ParticipationStatus,
    PhaseChange,
    ProposalCreate,
    ProposalRead,
    ProposalReview,
    RoundCreate,
    RoundRead,
    RoundResults,
    RoundUpdate,
    VerificationCreate,
    VerificationRead,
)


async def participation_keys(request: Request) -> ParticipationKeys:
    """Derived once per process. ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread."""
    keys: ParticipationKeys | None = getattr(request.app.state, "participation_keys", None)
    if keys is None:
        settings: Settings = request.app.state.settings
        keys = ParticipationKeys.from_secret(settings.secret_key.get_secret_value())
        request.app.state.participation_keys = keys
    return keys


async def ballot_pool(request: Request) -> AsyncConnectionPool | None:
    """The casts' own pool of plain psycopg connections (one per process), or ``None`` when the app runs
    on a caller's connection (tests that roll back), where casts use the request session's connection.

    Sized like the request pool: a cast holds its connection while its ballot waits for a batch, so as
    many casts as the request pool allows can be in flight without queueing for a connection.
    """
    state = request.app.state
    pool: AsyncConnectionPool | None = getattr(state, "ballot_pool", None)
    if pool is not None or _engine_of(request) is None:
        return pool
    async with _pool_lock(state):
        if getattr(state, "ballot_pool", None) is None:
            settings: Settings = state.settings
            conninfo = sync_url(settings.database_url or "")
            size = 2 * settings.db_pool_size
            # Opened before it is published: a cancelled opener leaves nothing half-made behind.
            opened = connection_pool(conninfo, min_size=2, max_size=size)
            await opened.open()
            state.ballot_pool = opened
    pool = state.ballot_pool
    return pool


def _pool_lock(state: Any) -> asyncio.Lock:
    lock: asyncio.Lock | None = getattr(state, "ballot_pool_lock", None)
    if lock is None:
        lock = state.ballot_pool_lock = asyncio.Lock()
    return lock


async def ballot_mixer(request: Request) -> BallotMixer:
    """One mixer per process, on connections of its *own* (not the casts': they wait for it while holding
    theirs); it writes one batch at a time, so two are plenty. When the app runs on a caller's
    connection (tests that roll back), it writes through sessions of that connection instead."""
    state = request.app.state
    mixer: BallotMixer | None = getattr(state, "ballot_mixer", None)
    if mixer is not None:
        return mixer
    async with _pool_lock(state):
        if getattr(state, "ballot_mixer", None) is None:
            factory = getattr(state, "ballot_sessionmaker", None)
            if factory is not None or _engine_of(request) is None:
                state.ballot_mixer = BallotMixer(session_source(factory or state.sessionmaker))
            else:
                settings: Settings = state.settings
                pool = connection_pool(
                    sync_url(settings.database_url or ""), min_size=1, max_size=2, autocommit=True
                )
                await pool.open()
                state.ballot_mixer_pool = pool
                state.ballot_mixer = BallotMixer(pool.connection)
    mixer = state.ballot_mixer
    assert mixer is not None
    return mixer


@asynccontextmanager
async def _ballot_connection(request: Request, session: AsyncSession) -> AsyncIterator[AsyncConnection[Any]]:
    """A cast's unit of work: the request session's own connection when it already holds one (a bearer
    token was resolved through it; the session commits), else one of the casts' pool (committed on
    leaving, before the response): a ballot cast with a letter's code touches no session at all."""
    pool = None if session.in_transaction() else await ballot_pool(request)
    if pool is None:
        yield await driver_connection(session)
        return
    async with pool.connection() as connection:
        yield connection


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """Merged into the app's lifespan when the router is included: close what the casts opened."""
    yield
    await close_ballot_resources(app)


async def close_ballot_resources(app: Any) -> None:
    """Close the casts' and the mixer's pools (also called by test fixtures, which run no lifespan)."""
    for name in ("ballot_pool", "ballot_mixer_pool"):
        pool = getattr(app.state, name, None)
        if pool is not None:
            setattr(app.state, name, None)
            await pool.close()
    app.state.ballot_mixer = None


router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["budget rounds"], lifespan=_lifespan)
RoundId = ObjectId
ProposalId = ObjectId


async def _jurisdiction_id(session: AsyncSession, slug: str) -> int:
    return (await geo_service.get_jurisdiction(session, slug)).id


async def require_staff(identity: Annotated[Identity, Depends(STAFF)], found: PathJurisdiction) -> Identity:
    """Municipal staff *of this jurisdiction* (a field staff grant or an administrator); checked before
    any object of the path is looked up."""
    _check_staff(identity, found)
    return identity


StaffOfJurisdiction = Annotated[Identity, Depends(require_staff)]


# ------------------------------------------------------------------------------------------------- rounds


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
    round_id: RoundId,
    body: RoundUpdate,
    found: PathJurisdiction,
    session: AsyncSession = SessionDep,
) -> RoundRead:
    # Not a path object: the service reads the round under its own lock.
    updated = await budget_rounds.update_round(
        session, jurisdiction_id=found.id, round_id=round_id, data=body
    )
    return RoundRead.model_validate(updated)


@router.post(
    "/budget-rounds/{round_id}/phase", response_model=RoundRead, summary="Move a round to another phase"
)
async def change_phase(
    identity: Annotated[Identity, Depends(ADMIN)],
    body: PhaseChange,
    request: Request,
    background: BackgroundTasks,
    budget_round: PathBudgetRoundForUpdate,
    keys: ParticipationKeys = Depends(participation_keys),
    session: AsyncSession = SessionDep,
) -> RoundRead:
    await budget_rounds.change_phase(session, budget_round, to=body.to, actor=identity, cipher=keys.cipher)
    if budget_round.phase == "results":
        # After the commit (which precedes the response) and outside any transaction, as VACUUM needs.
        engine = _engine_of(request)
        if engine is not None:
            background.add_task(vacuum_ballots, engine)
    return RoundRead.model_validate(budget_round)


def _engine_of(request: Request) -> AsyncEngine | None:
    """The app's engine; ``None`` when the app runs on a caller's connection (tests that roll back)."""
    bind = request.app.state.sessionmaker.kw.get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


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


# ------------------------------------------------------------------------------------------------- proposals


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
        _check_staff(identity, found)
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


def _check_staff(identity: Identity, found: JurisdictionRef) -> None:
    if not identity.is_staff_of(found.id, None) and not (
        identity.department_ids and identity.jurisdiction_id == found.id
    ):
        raise RoleRequired("this needs municipal staff of this jurisdiction")


# ------------------------------------------------------------------------------------------------- voting


@router.post(
    "/budget-rounds/{round_id}/ballots",
    status_code=201,
    response_model=BallotReceipt,
    summary="Cast or change your ballot (verified account, or the code from your letter)",
)
async def cast_ballot(
    jurisdiction: str,
    round_id: RoundId,
    body: BallotCast,
    request: Request,
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    mixer: BallotMixer = Depends(ballot_mixer),
    identity: Identity | None = Depends(PUBLIC),
) -> BallotReceipt:
    # The hot path: the jurisdiction, round, code or address are all read by the cast's one query, so
    # no path object here.
    credential = electorate.online_credential(keys, identity=identity, code=body.code)
    async with _ballot_connection(request, session) as connection:
        return await ballots.cast_ballot(
            connection,
            mixer,
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
    keys: ParticipationKeys = Depends(participation_keys),
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
    keys: ParticipationKeys = Depends(participation_keys),
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
