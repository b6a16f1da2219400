"""Running a consultation (administrators, and the clock): create it with its rounds and questions, open
and close rounds, publish "you said, we did"."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import record_event
from participation.consultations import queries
from participation.electorate import area_in_jurisdiction, eligible_account_ids
from participation.errors import ConsultationNotClosed, PlaceOutsideArea
from participation.events import (
    ConsultationClosed,
    ConsultationOpened,
    YouSaidWeDidPublished,
)
from participation.models import Consultation, ConsultationQuestion, ConsultationRound
from participation.schemas import ConsultationCreate, ConsultationRoundCreate, Place, YouSaidWeDid
from participation.workflow import ConsultationStatus, check_consultation_status_change


async def create_consultation(
    session: AsyncSession, *, jurisdiction_id: int, data: ConsultationCreate
) -> Consultation:
    consultation = Consultation(
        jurisdiction_id=jurisdiction_id, title=data.title, description=data.description
    )
    session.add(consultation)
    await session.flush()
    for round_data in data.rounds:
        await add_round(session, consultation=consultation, data=round_data)
    return consultation


async def add_round(
    session: AsyncSession, *, consultation: Consultation, data: ConsultationRoundCreate
) -> ConsultationRound:
    await area_in_jurisdiction(session, jurisdiction_id=consultation.jurisdiction_id, area_id=data.area_id)
    consultation_round = ConsultationRound(
        consultation_id=consultation.id,
        title=data.title,
        area_id=data.area_id,
        eligibility=data.eligibility,
        min_age=data.min_age,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
    )
    session.add(consultation_round)
    await session.flush()
    for position, question in enumerate(data.questions, start=1):
        for place in question.places or []:
            await _check_place(session, area_id=data.area_id, place=place, position=position)
        settings = question.model_dump(mode="json", exclude={"kind", "prompt", "required"}, exclude_none=True)
        session.add(
            ConsultationQuestion(
                round_id=consultation_round.id,
                position=position,
                kind=question.kind,
                prompt=question.prompt,
                required=question.required,
                settings=settings,
            )
        )
    await session.flush()
    return consultation_round


async def _check_place(session: AsyncSession, *, area_id: int, place: Place, position: int) -> None:
    """A place offered instead of the map must lie in the consulted area: an answer there must count."""
    if not await queries.area_covers(session, area_id=area_id, coordinates=place.point.coordinates):
        raise PlaceOutsideArea(
            f"question {position}: the place {place.name!r} lies outside the consulted area"
        )


async def change_round_status(
    session: AsyncSession, *, consultation_round: ConsultationRound, to: str, jurisdiction_id: int
) -> ConsultationRound:
    goal = check_consultation_status_change(consultation_round.status, to)
    consultation_round.status = goal.value
    await session.flush()
    if goal is ConsultationStatus.OPEN:
        recipients = (
            await eligible_account_ids(
                session, jurisdiction_id=jurisdiction_id, area_id=consultation_round.area_id
            )
            if consultation_round.eligibility == "verified"
            else []
        )
        event: ConsultationOpened | ConsultationClosed = ConsultationOpened(
            consultation_id=consultation_round.consultation_id,
            round_id=consultation_round.id,
            title=consultation_round.title,
            account_ids=recipients,
            area_id=consultation_round.area_id,
        )
    else:
        event = ConsultationClosed(
            consultation_id=consultation_round.consultation_id,
            round_id=consultation_round.id,
            title=consultation_round.title,
            account_ids=await queries.respondent_ids(session, consultation_round.id),
        )
    await record_event(session, jurisdiction_id=jurisdiction_id, event=event)
    return consultation_round


async def publish_you_said_we_did(
    session: AsyncSession, *, consultation_round: ConsultationRound, jurisdiction_id: int, data: YouSaidWeDid
) -> ConsultationRound:
    if consultation_round.status != "closed":
        raise ConsultationNotClosed("publish what you will do once the round has closed")
    consultation_round.you_said_we_did = {**data.model_dump(), "published_at": datetime.now(UTC).isoformat()}
    await session.flush()
    await record_event(
        session,
        jurisdiction_id=jurisdiction_id,
        event=YouSaidWeDidPublished(
            round_id=consultation_round.id,
            consultation_id=consultation_round.consultation_id,
            title=consultation_round.title,
            summary=data.summary,
            actions=data.actions,
            account_ids=await queries.respondent_ids(session, consultation_round.id),
        ),
    )
    return consultation_round


async def advance_due_consultations(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """Open the rounds whose opening time has come and close those whose closing time has (the clock)."""
    moved: list[tuple[int, str]] = []
    for consultation_round, jurisdiction_id in await queries.due_rounds(session, now):
        if consultation_round.status == "draft":
            await change_round_status(
                session, consultation_round=consultation_round, to="open", jurisdiction_id=jurisdiction_id
            )
        if consultation_round.closes_at is not None and consultation_round.closes_at <= now:
            await change_round_status(
                session, consultation_round=consultation_round, to="closed", jurisdiction_id=jurisdiction_id
            )
        moved.append((consultation_round.id, consultation_round.status))
    return moved
