"""Consultations, rounds and questions as the API shows them (read by the routes and the residents' app)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from participation.consultations import queries
from participation.models import Consultation, ConsultationQuestion, ConsultationRound


def render_question(q: ConsultationQuestion) -> dict[str, Any]:
    return {
        "id": q.id,
        "position": q.position,
        "kind": q.kind,
        "prompt": q.prompt,
        "required": q.required,
        **q.settings,
    }


async def render_consultation(
    session: AsyncSession, consultation: Consultation, *, include_drafts: bool = True
) -> dict[str, Any]:
    """The consultation with its rounds; ``include_drafts=False`` (anyone but its administrators) leaves
    out the rounds still in draft, which are work in progress (their own page is a 404 too)."""
    rounds = await queries.rounds_of(session, consultation.id, include_drafts=include_drafts)
    return {
        "id": consultation.id,
        "title": consultation.title,
        "description": consultation.description,
        "rounds": [await render_round(session, r) for r in rounds],
    }


async def render_round(session: AsyncSession, r: ConsultationRound) -> dict[str, Any]:
    return {
        "id": r.id,
        "consultation_id": r.consultation_id,
        "title": r.title,
        "area_id": r.area_id,
        "eligibility": r.eligibility,
        "min_age": r.min_age,
        "status": r.status,
        "opens_at": r.opens_at,
        "closes_at": r.closes_at,
        "you_said_we_did": r.you_said_we_did,
        "questions": [render_question(q) for q in await queries.questions_of(session, r.id)],
    }
