"""Answering a consultation round (residents): one response per account, changed as often as the round is
open, every answer checked against its question before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotAuthenticated
from core.identity import Identity
from core.outbox import record_event
from participation.consultations import queries
from participation.electorate import check_account_in_area
from participation.errors import (
    AddressNotVerified,
    AnswerViolation,
    ConsultationNotOpen,
    RegistrationRequired,
)
from participation.events import ResponseReceived
from participation.models import ConsultationQuestion, ConsultationResponse, ConsultationRound
from participation.schemas import Answer, ResponseSubmit


def _violation(question_id: int | None, code: str, detail: str) -> dict[str, Any]:
    return {"question_id": question_id, "code": code, "detail": detail}


async def _check_answers(
    session: AsyncSession,
    consultation_round: ConsultationRound,
    questions: list[ConsultationQuestion],
    answers: list[Answer],
) -> list[dict[str, Any]]:
    by_id = {q.id: q for q in questions}
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    for answer in answers:
        q = by_id.get(answer.question_id)
        if q is None:
            found.append(_violation(answer.question_id, "unknown-question", "not a question of this round"))
            continue
        if answer.question_id in seen:
            found.append(_violation(q.id, "duplicate-answer", "answered twice"))
        seen.add(q.id)
        given = {k for k in ("choices", "number", "text", "point") if getattr(answer, k) is not None}
        expected = {
            "single_choice": "choices",
            "multiple_choice": "choices",
            "ranking": "choices",
            "scale": "number",
            "free_text": "text",
            "map_point": "point",
        }[q.kind]
        if q.kind == "map_point" and given == {"text"}:
            expected = "text"  # the place described in words, by those who do not use the map
        if given != {expected}:
            found.append(
                _violation(q.id, "wrong-answer-type", f"a {q.kind} question is answered with '{expected}'")
            )
            continue
        options = q.settings.get("options", [])
        if expected == "choices":
            choices = answer.choices or []
            if unknown := [c for c in choices if c not in options]:
                found.append(_violation(q.id, "unknown-option", f"{unknown} are not options"))
            if len(set(choices)) != len(choices):
                found.append(_violation(q.id, "duplicate-option", "an option is chosen twice"))
            if not choices:
                found.append(_violation(q.id, "no-choice", "choose at least one option"))
            if q.kind == "single_choice" and len(choices) > 1:
                found.append(_violation(q.id, "too-many-choices", "choose one option"))
            maximum = q.settings.get("max_choices")
            if q.kind == "multiple_choice" and maximum is not None and len(choices) > maximum:
                found.append(_violation(q.id, "too-many-choices", f"choose at most {maximum} options"))
        elif expected == "number":
            low, high = q.settings["scale_min"], q.settings["scale_max"]
            if not low <= (answer.number or 0) <= high:
                found.append(_violation(q.id, "out-of-scale", f"answer between {low} and {high}"))
        elif expected == "text":
            limit = q.settings.get("max_length", 10_000)
            if not (answer.text or "").strip():
                found.append(_violation(q.id, "empty-text", "the answer is empty"))
            elif len(answer.text or "") > limit:
                found.append(_violation(q.id, "text-too-long", f"at most {limit} characters"))
        else:
            assert answer.point is not None
            if not await queries.area_covers(
                session, area_id=consultation_round.area_id, coordinates=answer.point.coordinates
            ):
                found.append(
                    _violation(q.id, "point-outside-area", "the point lies outside the consulted area")
                )
    for q in questions:
        if q.required and q.id not in seen:
            found.append(_violation(q.id, "required-question", f"question {q.position} needs an answer"))
    return found


async def submit_response(
    session: AsyncSession,
    *,
    consultation_round: ConsultationRound,
    jurisdiction_id: int,
    respondent: Identity | None,
    data: ResponseSubmit,
) -> tuple[ConsultationResponse, bool]:
    """Create or replace the resident's response; returns (response, whether it replaced an earlier one)."""
    now = datetime.now(UTC)
    if respondent is None:
        raise NotAuthenticated("sign in to respond")
    if consultation_round.status != "open" or (
        consultation_round.closes_at and now >= consultation_round.closes_at
    ):
        raise ConsultationNotOpen("this consultation round is not open")
    if respondent.is_anonymous:
        # Devices cost nothing to make (30 of them answered a consultation in 0.23 s): every round needs
        # at least a registered account, one response per account; "verified" rounds also the address.
        if consultation_round.eligibility == "residents":
            raise RegistrationRequired("register an account to take part")
        raise AddressNotVerified("have your address verified to take part")
    if consultation_round.eligibility == "verified":
        await check_account_in_area(
            session,
            account_id=respondent.account_id,
            jurisdiction_id=jurisdiction_id,
            area_id=consultation_round.area_id,
            min_age=consultation_round.min_age,
            on=(consultation_round.closes_at or now).date(),
        )
    area_id = await queries.respondent_area_id(
        session, account_id=respondent.account_id, jurisdiction_id=jurisdiction_id
    )
    questions = await queries.questions_of(session, consultation_round.id)
    if violations := await _check_answers(session, consultation_round, questions, data.answers):
        raise AnswerViolation(violations)
    response_id, replaced = await queries.upsert_response(
        session, round_id=consultation_round.id, account_id=respondent.account_id, respondent_area_id=area_id
    )
    await queries.replace_answers(session, response_id=response_id, answers=data.answers)
    await record_event(
        session,
        jurisdiction_id=jurisdiction_id,
        event=ResponseReceived(
            round_id=consultation_round.id,
            title=consultation_round.title,
            consultation_id=consultation_round.consultation_id,
            edited=replaced,
            account_ids=[respondent.account_id],
        ),
    )
    response = await session.get(ConsultationResponse, response_id, populate_existing=True)
    assert response is not None
    return response, replaced


async def my_response(session: AsyncSession, *, round_id: int, account_id: int) -> dict[str, Any] | None:
    response = await queries.response_of(session, round_id=round_id, account_id=account_id)
    if response is None:
        return None
    return {
        "round_id": round_id,
        "updated_at": response.updated_at,
        "answers": await queries.answers_of(session, response.id),
    }
