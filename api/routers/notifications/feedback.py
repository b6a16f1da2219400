"""What happened to my input, over HTTP: a resident answers the satisfaction questions asked of them
(RESIDENT); field staff decide the reopen requests of their departments' reports (STAFF). Answering
by the signed link in the mail is in :mod:`api.routers.notifications.public`."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import RESIDENT, STAFF
from api.deps import SessionDep
from api.idempotency import idempotent
from api.routers.notifications.common import Id, router
from core.identity import Identity
from geo import service as geo_service
from notifications import feedback, feedback_queries
from notifications.models import ReopenRequest, SatisfactionRequest
from notifications.schemas import (
    ReopenDecision,
    ReopenRequestRead,
    SatisfactionAnswer,
    SatisfactionAnswered,
    SatisfactionRequestRead,
)


async def answer_satisfaction(
    session: AsyncSession, request_id: int, account_id: int | None, data: SatisfactionAnswer
) -> dict[str, Any]:
    """Answer and say which reopen request (if any) the answer joined: the body of both answer routes."""
    answered, reopen = await feedback.answer_satisfaction(
        session,
        request_id=request_id,
        account_id=account_id,
        fixed=data.fixed,
        score=data.score,
        comment=data.comment,
    )
    return {
        "id": answered.id,
        "report_id": answered.report_id,
        "reopen_request_id": reopen.id if reopen else None,
    }


def reopen_request_body(request: ReopenRequest, answer: SatisfactionRequest) -> dict[str, Any]:
    """A reopen request as staff see it: with the answer that raised it."""
    return {
        "id": request.id,
        "report_id": request.report_id,
        "status": request.status,
        "fixed": answer.fixed,
        "score": answer.score,
        "comment": answer.comment,
        "created_at": request.created_at,
        "decided_at": request.decided_at,
        "decision_message": request.decision_message,
    }


@router.get(
    "/me/satisfaction-requests", response_model=list[SatisfactionRequestRead], summary="Questions asked of me"
)
async def my_satisfaction_requests(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return await feedback_queries.my_satisfaction_requests(session, account_id=identity.account_id)


@router.post(
    "/satisfaction-requests/{request_id}/answer",
    status_code=201,
    response_model=SatisfactionAnswered,
    summary="Is it fixed? How satisfied are you?",
)
async def answer(
    jurisdiction: str,
    request_id: Id,
    data: SatisfactionAnswer,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    async def produce() -> tuple[int, object, dict[str, str]]:
        return 201, await answer_satisfaction(session, request_id, identity.account_id, data), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.get(
    "/reopen-requests", response_model=list[ReopenRequestRead], summary="Unhappy answers to decide on"
)
async def reopen_requests(
    jurisdiction: str,
    status: str | None = Query(default="pending", pattern="^(pending|accepted|rejected)$"),
    limit: int = Query(default=100, ge=1, le=500),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> list[dict[str, Any]]:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    rows = await feedback.reopen_requests(
        session, jurisdiction_id=found.id, identity=identity, status=status, limit=limit
    )
    return [reopen_request_body(request, answer) for request, answer in rows]


@router.post(
    "/reopen-requests/{request_id}/decision",
    response_model=ReopenRequestRead,
    summary="Accept (the report is reopened) or reject with a message",
)
async def decide_reopen(
    jurisdiction: str,
    request_id: Id,
    data: ReopenDecision,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(STAFF),
) -> dict[str, Any]:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    decided, answer = await feedback.decide_reopen(
        session,
        jurisdiction_id=found.id,
        request_id=request_id,
        actor=identity,
        accept=data.accept,
        message=data.message,
    )
    return reopen_request_body(decided, answer)
