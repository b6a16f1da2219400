"""Project ideas and their review; implementation tracking of funded projects (the report back)."""

from __future__ import annotations

import json

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import delete, func, select, text, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from core.outbox import record_event
from geo.errors import PhotoNotFound
from geo.models import Photo
from participation.electorate import area_in_jurisdiction, check_account_in_area
from participation.errors import (
    AddressNotVerified,
    CompletedNotFull,
    CostExceedsBudget,
    DuplicatePhoto,
    ImplementationFinished,
    LocationOutsideArea,
    NotImplementing,
    PhotoAlreadyUsed,
    PhotoNotUsable,
    ProgressBackwards,
    ProjectNotFunded,
    ProposalNotFound,
    ProposalsClosed,
    ProposalWithdrawn,
    ReviewClosed,
)
from participation.events import ProjectProgress, ProposalReviewed
from participation.models import (
    BudgetRound,
    ImplementationUpdate,
    ImplementationUpdatePhoto,
    ProjectFollower,
    Proposal,
    ProposalPhoto,
)
from participation.schemas import (
    ImplementationUpdateCreate,
    ImplementationUpdateRead,
    ProposalCreate,
    ProposalRead,
    ProposalReview,
)


async def submit_proposal(
    session: AsyncSession, *, budget_round: BudgetRound, data: ProposalCreate, author: Identity
) -> Proposal:
    """Eligible residents (verified address in the round's area) propose during the proposals phase."""
    if budget_round.phase != "proposals":
        raise ProposalsClosed("the call for proposals is closed")
    if author.is_anonymous:
        raise AddressNotVerified("register an account and have your address verified to propose")
    from datetime import UTC, datetime

    await check_account_in_area(
        session,
        account_id=author.account_id,
        jurisdiction_id=budget_round.jurisdiction_id,
        area_id=budget_round.area_id,
        min_age=budget_round.min_age,
        on=datetime.now(UTC).date(),
    )
    location = None
    if data.location is not None:
        inside = await session.scalar(
            text("SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM areas WHERE id = :a"),
            {"x": data.location.coordinates[0], "y": data.location.coordinates[1], "a": budget_round.area_id},
        )
        if not inside:
            raise LocationOutsideArea("the project's location lies outside the round's area")
        location = from_shape(ShapelyPoint(*data.location.coordinates), srid=4326)
    if data.area_id is not None:
        await area_in_jurisdiction(
            session, jurisdiction_id=budget_round.jurisdiction_id, area_id=data.area_id
        )
    proposal = Proposal(
        round_id=budget_round.id,
        author_account_id=author.account_id,
        title=data.title,
        description=data.description,
        location=location,
        area_id=data.area_id,
        estimated_cost=data.estimated_cost,
    )
    session.add(proposal)
    await session.flush()
    await claim_photos(
        session,
        photo_ids=data.photo_ids,
        owner=author,
        kind="report",
        jurisdiction_id=budget_round.jurisdiction_id,
        link=ProposalPhoto,
        key={"proposal_id": proposal.id},
    )
    return proposal


async def claim_photos(
    session: AsyncSession,
    *,
    photo_ids: list[int],
    owner: Identity,
    kind: str,
    jurisdiction_id: int,
    link: type[ProposalPhoto] | type[ImplementationUpdatePhoto],
    key: dict[str, int],
) -> None:
    """Attach photos uploaded with geo's photo intake; only the uploader's own, unattached photos qualify."""
    if not photo_ids:
        return
    if len(set(photo_ids)) != len(photo_ids):
        raise DuplicatePhoto("a photo is listed twice")
    usable = set(
        await session.scalars(
            select(Photo.id).where(
                Photo.id.in_(photo_ids),
                Photo.jurisdiction_id == jurisdiction_id,
                Photo.kind == kind,
                Photo.uploader_account_id == owner.account_id,
                Photo.report_id.is_(None),
            )
        )
    )
    if missing := sorted(set(photo_ids) - usable):
        raise PhotoNotUsable(f"photos {missing} are not yours to attach")
    result = await session.execute(
        insert(link)
        .values([{**key, "photo_id": pid} for pid in photo_ids])
        .on_conflict_do_nothing()
        .returning(link.photo_id)
    )
    if len(result.all()) != len(photo_ids):
        raise PhotoAlreadyUsed("a photo is already attached elsewhere")


async def get_proposal(session: AsyncSession, *, budget_round: BudgetRound, proposal_id: int) -> Proposal:
    proposal = await session.scalar(
        select(Proposal).where(Proposal.id == proposal_id, Proposal.round_id == budget_round.id)
    )
    if proposal is None:
        raise ProposalNotFound(f"no proposal {proposal_id} in this round")
    return proposal


async def review_proposal(
    session: AsyncSession,
    *,
    budget_round: BudgetRound,
    proposal_id: int,
    data: ProposalReview,
    staff: Identity,
) -> Proposal:
    """Feasible or not, with a public reason and the final cost; possible until voting opens."""
    if budget_round.phase not in ("proposals", "review"):
        raise ReviewClosed("proposals can no longer be reviewed once voting has opened")
    proposal = await get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    if proposal.status == "withdrawn":
        raise ProposalWithdrawn("the author withdrew this proposal")
    cost = data.final_cost or proposal.estimated_cost
    if data.feasible and cost > budget_round.budget:
        raise CostExceedsBudget("a project cannot cost more than the whole budget")
    proposal.status = "feasible" if data.feasible else "infeasible"
    proposal.review_reason = data.reason
    proposal.final_cost = data.final_cost
    proposal.reviewed_by_account_id = staff.account_id
    await session.flush()
    if proposal.author_account_id is not None:
        await record_event(
            session,
            jurisdiction_id=budget_round.jurisdiction_id,
            event=ProposalReviewed(
                round_id=budget_round.id,
                proposal_id=proposal.id,
                status=proposal.status,
                reason=proposal.review_reason,
                account_ids=[proposal.author_account_id],
            ),
        )
    return proposal


async def list_proposals(
    session: AsyncSession, *, budget_round: BudgetRound, status: str | None
) -> list[Proposal]:
    statement = select(Proposal).where(Proposal.round_id == budget_round.id)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    return list(await session.scalars(statement.order_by(Proposal.id)))


async def render_proposals(session: AsyncSession, proposals: list[Proposal]) -> list[ProposalRead]:
    ids = [p.id for p in proposals]
    if not ids:
        return []
    extra = {
        row.id: row
        for row in await session.execute(
            text(
                "SELECT p.id, ST_AsGeoJSON(p.location) AS location,"
                " coalesce(array_agg(ph.photo_id ORDER BY ph.photo_id)"
                " FILTER (WHERE ph.photo_id IS NOT NULL), '{}') AS photo_ids"
                " FROM budget_proposals p LEFT JOIN budget_proposal_photos ph ON ph.proposal_id = p.id"
                " WHERE p.id = ANY(:ids) GROUP BY p.id"
            ),
            {"ids": ids},
        )
    }
    return [
        ProposalRead(
            id=p.id,
            round_id=p.round_id,
            title=p.title,
            description=p.description,
            location=json.loads(extra[p.id].location) if extra[p.id].location else None,
            area_id=p.area_id,
            estimated_cost=p.estimated_cost,
            status=p.status,
            review_reason=p.review_reason,
            final_cost=p.final_cost,
            selected=p.selected,
            implementation_status=p.implementation_status,
            progress_percent=p.progress_percent,
            photo_ids=list(extra[p.id].photo_ids),
        )
        for p in proposals
    ]


async def follow(
    session: AsyncSession, *, budget_round: BudgetRound, proposal_id: int, account_id: int
) -> None:
    await get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    await session.execute(
        insert(ProjectFollower)
        .values(proposal_id=proposal_id, account_id=account_id)
        .on_conflict_do_nothing()
    )


async def unfollow(
    session: AsyncSession, *, budget_round: BudgetRound, proposal_id: int, account_id: int
) -> None:
    await get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    await session.execute(
        delete(ProjectFollower).where(
            ProjectFollower.proposal_id == proposal_id, ProjectFollower.account_id == account_id
        )
    )


async def add_implementation_update(
    session: AsyncSession,
    *,
    budget_round: BudgetRound,
    proposal_id: int,
    data: ImplementationUpdateCreate,
    staff: Identity,
) -> ImplementationUpdate:
    """A dated step of a funded project, told to its followers and its author.

    Not to "its supporters": the secret ballot makes them unknowable (``docs/ballot-secrecy.md``), and
    not to every voter of the round either, who would then hear about projects they may have voted
    against. A voter who wants news of the projects they backed follows them — on the project's page,
    which the results message links — as an act of its own: a follow is written in its own request,
    never derived from or checked against a ballot, and a resident may follow any project, voted for or
    not, so the follows are no copy of anyone's ballot. Following at the cast ("follow what I chose")
    was rejected: it would store the ballot's contents next to the voter's account, in the cast's
    transaction, which is exactly the link the ballot store is built never to hold."""
    if budget_round.phase not in ("results", "implementation"):
        raise NotImplementing("projects are implemented after the results")
    proposal = await get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    if not proposal.selected:
        raise ProjectNotFunded("only funded projects have implementation updates")
    if proposal.implementation_status in ("completed", "cancelled"):
        raise ImplementationFinished(f"the project is {proposal.implementation_status}")
    if data.status == "completed" and data.progress_percent != 100:
        raise CompletedNotFull("a completed project is at 100 %")
    if (
        proposal.progress_percent is not None
        and data.progress_percent < proposal.progress_percent
        and data.status != "cancelled"
    ):
        raise ProgressBackwards("progress cannot go backwards")
    update = ImplementationUpdate(
        proposal_id=proposal.id,
        author_account_id=staff.account_id or None,
        status=data.status,
        progress_percent=data.progress_percent,
        message=data.message,
    )
    session.add(update)
    await session.flush()
    await claim_photos(
        session,
        photo_ids=data.photo_ids,
        owner=staff,
        kind="after",
        jurisdiction_id=budget_round.jurisdiction_id,
        link=ImplementationUpdatePhoto,
        key={"update_id": update.id},
    )
    proposal.implementation_status = data.status
    proposal.progress_percent = data.progress_percent
    recipients = await session.scalars(
        union(
            select(ProjectFollower.account_id).where(ProjectFollower.proposal_id == proposal.id),
            select(Proposal.author_account_id).where(
                Proposal.id == proposal.id, Proposal.author_account_id.is_not(None)
            ),
        )
    )
    await record_event(
        session,
        jurisdiction_id=budget_round.jurisdiction_id,
        event=ProjectProgress(
            round_id=budget_round.id,
            project_id=proposal.id,
            title=proposal.title,
            status=data.status,
            progress_percent=data.progress_percent,
            update_id=update.id,
            message=data.message,
            photo_ids=data.photo_ids,
            account_ids=sorted(set(recipients)),
        ),
    )
    return update


async def list_updates(
    session: AsyncSession, *, budget_round: BudgetRound, proposal_id: int
) -> list[ImplementationUpdateRead]:
    await get_proposal(session, budget_round=budget_round, proposal_id=proposal_id)
    rows = await session.execute(
        select(
            ImplementationUpdate,
            func.coalesce(
                func.array_agg(ImplementationUpdatePhoto.photo_id).filter(
                    ImplementationUpdatePhoto.photo_id.is_not(None)
                ),
                text("'{}'"),
            ).label("photo_ids"),
        )
        .outerjoin(ImplementationUpdatePhoto, ImplementationUpdatePhoto.update_id == ImplementationUpdate.id)
        .where(ImplementationUpdate.proposal_id == proposal_id)
        .group_by(ImplementationUpdate.id)
        .order_by(ImplementationUpdate.created_at, ImplementationUpdate.id)
    )
    return [
        ImplementationUpdateRead(
            id=u.id,
            proposal_id=u.proposal_id,
            status=u.status,
            progress_percent=u.progress_percent,
            message=u.message,
            created_at=u.created_at,
            photo_ids=sorted(photo_ids),
        )
        for u, photo_ids in rows.all()
    ]


async def participation_photo(session: AsyncSession, *, jurisdiction_id: int, photo_id: int) -> Photo:
    """A photo attached to a proposal or an implementation update (public, like the proposals themselves)."""
    photo = await session.scalar(
        select(Photo).where(
            Photo.id == photo_id,
            Photo.jurisdiction_id == jurisdiction_id,
            select(ProposalPhoto.photo_id).where(ProposalPhoto.photo_id == photo_id).exists()
            | select(ImplementationUpdatePhoto.photo_id)
            .where(ImplementationUpdatePhoto.photo_id == photo_id)
            .exists(),
        )
    )
    if photo is None:
        raise PhotoNotFound(f"no participation photo {photo_id} in this jurisdiction")
    return photo
