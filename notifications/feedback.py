"""What happened to my input: after a report is resolved its reporter and supporters are asked
whether it is fixed and how satisfied they are; an unhappy answer asks staff to reopen the report,
and staff accept (the report is reopened through geo's workflow) or reject with a message.

Services flush, never commit. The SQL is in :mod:`notifications.feedback_queries`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from core.identity import Identity
from core.outbox import record_event
from geo import service as geo_service
from geo.schemas import TransitionCreate
from geo.workflow import Status
from notifications import feedback_queries, tokens
from notifications.errors import (
    AlreadyAnswered,
    AlreadyDecided,
    MalformedLinkToken,
    MessageRequired,
    NotYetAsked,
    ReopenRequestNotFound,
    SatisfactionRequestNotFound,
)
from notifications.events import ReopenRejected, SatisfactionRequested
from notifications.models import ReopenRequest, SatisfactionRequest
from notifications.settings import NotificationSettings

UNHAPPY_SCORE = 2
"""A score at or below this (out of 5) asks staff to reconsider, like "not fixed" does."""

# ---------------------------------------------------------------------------------------------------
# Satisfaction requests


async def get_satisfaction_request(
    session: AsyncSession, *, request_id: int, lock: bool = False
) -> SatisfactionRequest:
    request = await feedback_queries.satisfaction_request(session, request_id=request_id, lock=lock)
    if request is None:
        raise SatisfactionRequestNotFound(f"no satisfaction request {request_id}")
    return request


def satisfaction_request_from_token(settings: NotificationSettings, token: str) -> int:
    """The request a signed link in a mail stands for: the link is the only authority, no sign-in."""
    claims = tokens.verify(settings.secret_key.get_secret_value(), "satisfaction", token)
    request_id = claims.get("id")
    if not isinstance(request_id, int):
        raise MalformedLinkToken("this link is malformed")
    return request_id


async def answer_satisfaction(
    session: AsyncSession,
    *,
    request_id: int,
    account_id: int | None,
    fixed: bool,
    score: int,
    comment: str | None,
) -> tuple[SatisfactionRequest, ReopenRequest | None]:
    """Answer once. ``account_id`` is the signed-in caller (None when answering by signed link)."""
    request = await get_satisfaction_request(session, request_id=request_id, lock=True)
    if account_id is not None and request.account_id != account_id:
        raise SatisfactionRequestNotFound(f"no satisfaction request {request_id} for you")
    if request.issued_at is None or request.cancelled_at is not None:
        raise NotYetAsked(
            "this question has not been asked (or was withdrawn because the report was reopened)"
        )
    if request.answered_at is not None:
        raise AlreadyAnswered("this question was answered already")
    request.answered_at = datetime.now(UTC)
    request.fixed, request.score, request.comment = fixed, score, comment
    reopen = None
    if not fixed or score <= UNHAPPY_SCORE:
        # The reporter and every "me too" supporter are asked; their unhappy answers are one question
        # for staff (reopen this report?), so they share one pending request. The report's row lock
        # makes two answers at the same moment find each other's request.
        await geo_service.get_report(
            session, jurisdiction_id=request.jurisdiction_id, report_id=request.report_id, lock=True
        )
        reopen = await feedback_queries.pending_reopen_request(session, report_id=request.report_id)
        if reopen is None:
            reopen = ReopenRequest(
                jurisdiction_id=request.jurisdiction_id,
                report_id=request.report_id,
                satisfaction_request_id=request.id,
                account_id=request.account_id,
                status="pending",
            )
            session.add(reopen)
    await session.flush()
    return request, reopen


async def issue_due_satisfaction_requests(session: AsyncSession, *, limit: int = 500) -> int:
    """Ask the questions that are due (run by the worker); one whose report was reopened meanwhile is
    withdrawn instead. Returns how many were asked."""
    issued = 0
    for row in await feedback_queries.issue_due(session, limit=limit):
        if not row.still_resolved:
            continue
        await record_event(
            session,
            jurisdiction_id=row.jurisdiction_id,
            event=SatisfactionRequested(
                report_id=row.report_id, satisfaction_request_id=row.id, account_id=row.account_id
            ),
        )
        issued += 1
    return issued


# ---------------------------------------------------------------------------------------------------
# Reopen requests (staff)


async def reopen_requests(
    session: AsyncSession, *, jurisdiction_id: int, identity: Identity, status: str | None, limit: int
) -> list[tuple[ReopenRequest, SatisfactionRequest]]:
    """Staff see the requests of their departments' reports; administrators see all. Each request
    comes with the answer that raised it."""
    return await feedback_queries.reopen_requests_with_answers(
        session,
        jurisdiction_id=jurisdiction_id,
        status=status,
        department_ids=None if identity.is_admin_of(jurisdiction_id) else sorted(identity.department_ids),
        limit=limit,
    )


async def decide_reopen(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    request_id: int,
    actor: Identity,
    accept: bool,
    message: str | None,
) -> tuple[ReopenRequest, SatisfactionRequest]:
    """Accept (the report is reopened) or reject with a message; the decided request with the answer
    that raised it."""
    request = await feedback_queries.reopen_request_for_update(
        session, jurisdiction_id=jurisdiction_id, request_id=request_id
    )
    if request is None:
        raise ReopenRequestNotFound(f"no reopen request {request_id} in this jurisdiction")
    report = await geo_service.get_report(
        session, jurisdiction_id=jurisdiction_id, report_id=request.report_id
    )
    if not actor.is_staff_of(jurisdiction_id, report.department_id):
        raise Forbidden("only staff of this report's department or an administrator may decide")
    if request.status != "pending":
        raise AlreadyDecided(f"this request was {request.status} already")
    if accept and report.status == Status.REOPENED:
        pass  # staff reopened it already; the request is answered by that
    elif accept:
        # Through geo's own workflow: the transition table decides, the followers hear "reopened".
        await geo_service.transition_report(
            session,
            jurisdiction_id=jurisdiction_id,
            report_id=report.id,
            actor=actor,
            data=TransitionCreate(status=Status.REOPENED, public_message=message),
            expected_version=report.version,
        )
    else:
        if not message:
            raise MessageRequired("say why the report stays closed")
        await record_event(
            session,
            jurisdiction_id=jurisdiction_id,
            event=ReopenRejected(
                report_id=report.id,
                reopen_request_id=request.id,
                account_id=request.account_id,
                message=message,
            ),
        )
    request.status = "accepted" if accept else "rejected"
    request.decided_by_account_id = actor.account_id
    request.decided_at = datetime.now(UTC)
    request.decision_message = message
    # Any other request still pending for this report (made before requests were shared) is decided
    # with it: none may stay pending after the report was reopened.
    await feedback_queries.decide_other_pending(
        session,
        report_id=report.id,
        decided_request_id=request.id,
        status=request.status,
        decided_by_account_id=actor.account_id,
        decided_at=request.decided_at,
        message=message,
    )
    await session.flush()
    answer = await get_satisfaction_request(session, request_id=request.satisfaction_request_id)
    return request, answer
