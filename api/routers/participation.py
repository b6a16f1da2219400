"""Budget rounds over HTTP: rounds, proposals and review, ballots (online and paper), results, codes,
address verification, implementation updates. Thin: parse, authorise, call ``participation``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.auth import ADMIN, PUBLIC, RESIDENT, STAFF
from api.deps import SessionDep, get_media, get_settings
from api.idempotency import idempotent
from core.db import sync_url
from core.errors import RoleRequired
from core.identity import Identity
from core.settings import Settings
from geo import service as geo_service
from geo.media import MediaStore
from participation import ballots, budget_rounds, electorate, pabulib_io, proposals
from participation.ballot_store import (
    BallotMixer,
    connection_pool,
    driver_connection,
    session_source,
    vacuum_ballots,
)
from participation.electorate import ParticipationKeys
from participation.models import VoterParticipation
from participation.schemas import (
    BallotCast,
    BallotReceipt,
    CodesGenerate,
    ImplementationUpdateCreate,
    ImplementationUpdateRead,
    PhaseChange,
    ProposalCreate,
    ProposalRead,
    ProposalReview,
    RoundCreate,
    RoundRead,
    RoundUpdate,
    VerificationCreate,
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
RoundId = Annotated[int, Path(ge=1, le=2**62)]
ProposalId = Annotated[int, Path(ge=1, le=2**62)]


async def _jurisdiction_id(session: AsyncSession, slug: str) -> int:
    return (await geo_service.get_jurisdiction(session, slug)).id


def _require_staff(identity: Identity, jurisdiction_id: int) -> None:
    if not identity.is_staff_of(jurisdiction_id, None) and not (
        identity.department_ids and identity.jurisdiction_id == jurisdiction_id
    ):
        raise RoleRequired("this needs municipal staff of this jurisdiction")


# ------------------------------------------------------------------------------------------------- rounds


@router.post("/budget-rounds", status_code=201, response_model=RoundRead, summary="Create a budget round")
async def create_round(
    jurisdiction: str,
    body: RoundCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> JSONResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)

    async def produce() -> tuple[int, object, dict[str, str]]:
        created = await budget_rounds.create_round(session, jurisdiction_id=jurisdiction_id, data=body)
        return 201, RoundRead.model_validate(created), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get("/budget-rounds", response_model=list[RoundRead], summary="List budget rounds")
async def list_rounds(
    jurisdiction: str,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[RoundRead]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.list_rounds(session, jurisdiction_id=jurisdiction_id, area_id=area_id)
    return [RoundRead.model_validate(r) for r in found]


@router.get("/budget-rounds/{round_id}", response_model=RoundRead, summary="A budget round")
async def get_round(
    jurisdiction: str,
    round_id: RoundId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> RoundRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    return RoundRead.model_validate(
        await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    )


@router.patch(
    "/budget-rounds/{round_id}",
    response_model=RoundRead,
    summary="Change a round; ballot rules are locked once voting opens (409)",
)
async def update_round(
    jurisdiction: str,
    round_id: RoundId,
    body: RoundUpdate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> RoundRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    updated = await budget_rounds.update_round(
        session, jurisdiction_id=jurisdiction_id, round_id=round_id, data=body
    )
    return RoundRead.model_validate(updated)


@router.post(
    "/budget-rounds/{round_id}/phase", response_model=RoundRead, summary="Move a round to another phase"
)
async def change_phase(
    jurisdiction: str,
    round_id: RoundId,
    body: PhaseChange,
    request: Request,
    background: BackgroundTasks,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
    keys: ParticipationKeys = Depends(participation_keys),
) -> RoundRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(
        session, jurisdiction_id=jurisdiction_id, round_id=round_id, for_update=True
    )
    await budget_rounds.change_phase(session, found, to=body.to, actor=identity, cipher=keys.cipher)
    if found.phase == "results":
        # After the commit (which precedes the response) and outside any transaction, as VACUUM needs.
        engine = _engine_of(request)
        if engine is not None:
            background.add_task(vacuum_ballots, engine)
    return RoundRead.model_validate(found)


def _engine_of(request: Request) -> AsyncEngine | None:
    """The app's engine; ``None`` when the app runs on a caller's connection (tests that roll back)."""
    bind = request.app.state.sessionmaker.kw.get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


@router.get("/budget-rounds/{round_id}/results", summary="The outcome with an explanation per project")
async def results(
    jurisdiction: str,
    round_id: RoundId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    return await budget_rounds.results_of(session, found)


@router.get(
    "/budget-rounds/{round_id}/export.pb",
    summary="The round as a pabulib file, ballots anonymised",
    response_class=PlainTextResponse,
)
async def export_pb(
    jurisdiction: str,
    round_id: RoundId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> PlainTextResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    return PlainTextResponse(
        await pabulib_io.export_round(session, found),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="round-{round_id}.pb"'},
    )


# ------------------------------------------------------------------------------------------------- proposals


@router.post(
    "/budget-rounds/{round_id}/proposals",
    status_code=201,
    response_model=ProposalRead,
    summary="Propose a project (verified residents of the area)",
)
async def submit_proposal(
    jurisdiction: str,
    round_id: RoundId,
    body: ProposalCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> JSONResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)

    async def produce() -> tuple[int, object, dict[str, str]]:
        proposal = await proposals.submit_proposal(session, budget_round=found, data=body, author=identity)
        return 201, (await proposals.render_proposals(session, [proposal]))[0], {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get("/budget-rounds/{round_id}/proposals", response_model=list[ProposalRead], summary="Proposals")
async def list_proposals(
    jurisdiction: str,
    round_id: RoundId,
    status: str | None = Query(default=None, pattern="^(submitted|feasible|infeasible|withdrawn)$"),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[ProposalRead]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    listed = await proposals.list_proposals(session, budget_round=found, status=status)
    return await proposals.render_proposals(session, listed)


@router.get(
    "/budget-rounds/{round_id}/proposals/{proposal_id}", response_model=ProposalRead, summary="A proposal"
)
async def get_proposal(
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> ProposalRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    proposal = await proposals.get_proposal(session, budget_round=found, proposal_id=proposal_id)
    return (await proposals.render_proposals(session, [proposal]))[0]


@router.post(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/review",
    response_model=ProposalRead,
    summary="Staff review: feasible or not, with a public reason and the final cost",
)
async def review_proposal(
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    body: ProposalReview,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> ProposalRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    _require_staff(identity, jurisdiction_id)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    proposal = await proposals.review_proposal(
        session, budget_round=found, proposal_id=proposal_id, data=body, staff=identity
    )
    return (await proposals.render_proposals(session, [proposal]))[0]


@router.put(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/follow",
    status_code=204,
    summary="Hear about this project's progress",
)
async def follow(
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    await proposals.follow(
        session, budget_round=found, proposal_id=proposal_id, account_id=identity.account_id
    )
    return Response(status_code=204)


@router.delete(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/follow", status_code=204, summary="Stop following"
)
async def unfollow(
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    await proposals.unfollow(
        session, budget_round=found, proposal_id=proposal_id, account_id=identity.account_id
    )
    return Response(status_code=204)


@router.post(
    "/budget-rounds/{round_id}/proposals/{proposal_id}/updates",
    status_code=201,
    response_model=ImplementationUpdateRead,
    summary="Report progress on a funded project",
)
async def add_update(
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    body: ImplementationUpdateCreate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> ImplementationUpdateRead:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    _require_staff(identity, jurisdiction_id)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    update = await proposals.add_implementation_update(
        session, budget_round=found, proposal_id=proposal_id, data=body, staff=identity
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
    jurisdiction: str,
    round_id: RoundId,
    proposal_id: ProposalId,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[ImplementationUpdateRead]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    return await proposals.list_updates(session, budget_round=found, proposal_id=proposal_id)


@router.get(
    "/participation/photos/{photo_id}",
    summary="A photo of a proposal or an implementation update",
    response_class=FileResponse,
)
async def photo(
    jurisdiction: str,
    photo_id: Annotated[int, Path(ge=1, le=2**62)],
    thumbnail: bool = False,
    session: AsyncSession = SessionDep,
    media: MediaStore = Depends(get_media),
    _: Identity | None = Depends(PUBLIC),
) -> FileResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await proposals.participation_photo(session, jurisdiction_id=jurisdiction_id, photo_id=photo_id)
    return FileResponse(
        media.path(found.thumbnail_key if thumbnail else found.storage_key), media_type=found.content_type
    )


@router.post(
    "/participation/photos", status_code=201, summary="Upload a photo for a proposal (or, staff, an update)"
)
async def upload_photo(
    jurisdiction: str,
    file: UploadFile = File(),
    kind: str = Query(default="report", pattern="^(report|after)$"),
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    media: MediaStore = Depends(get_media),
    identity: Identity = Depends(RESIDENT),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    if kind == "after":
        _require_staff(identity, jurisdiction_id)
    data = await file.read(settings.max_photo_bytes + 1)
    stored = await geo_service.store_photo(
        session,
        media,
        jurisdiction_id=jurisdiction_id,
        uploader=identity,
        data=data,
        declared_content_type=file.content_type,
        kind=kind,
        max_bytes=settings.max_photo_bytes,
    )
    return {"id": stored.id, "kind": stored.kind, "width": stored.width, "height": stored.height}


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
    # The hot path: the jurisdiction, round, code or address are all read by the cast's one query.
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


@router.get("/budget-rounds/{round_id}/participation", summary="Whether you have voted (never what)")
async def my_participation(
    jurisdiction: str,
    round_id: RoundId,
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    identity: Identity = Depends(RESIDENT),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    channel = await session.scalar(
        select(VoterParticipation.channel).where(
            VoterParticipation.round_id == found.id,
            VoterParticipation.voter_key == keys.account_voter_key(identity.account_id),
        )
    )
    return {
        "round_id": found.id,
        "voted": channel is not None,
        "channel": channel,
        "can_change": channel == "online" and found.allow_ballot_changes and found.phase == "voting",
    }


@router.post(
    "/budget-rounds/{round_id}/codes",
    status_code=201,
    summary="Generate voting codes for letters (CSV)",
    response_class=PlainTextResponse,
)
async def generate_codes(
    jurisdiction: str,
    round_id: RoundId,
    body: CodesGenerate,
    session: AsyncSession = SessionDep,
    keys: ParticipationKeys = Depends(participation_keys),
    _: Identity = Depends(ADMIN),
) -> PlainTextResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await budget_rounds.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    codes = await electorate.generate_codes(
        session, keys=keys, budget_round=found, area_id=body.area_id, count=body.count
    )
    lines = ["code,round_id,area_id", *[f"{c},{found.id},{body.area_id}" for c in codes]]
    return PlainTextResponse("\n".join(lines) + "\n", status_code=201, media_type="text/csv")


@router.post("/participation/verifications", status_code=201, summary="Record a checked address (staff)")
async def verify_resident(
    jurisdiction: str,
    body: VerificationCreate,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    _require_staff(identity, jurisdiction_id)
    verification = await electorate.verify_resident(
        session, jurisdiction_id=jurisdiction_id, data=body, staff=identity
    )
    return {
        "account_id": verification.account_id,
        "verified_at": verification.verified_at,
        "age_verified": verification.birth_date is not None,
    }
