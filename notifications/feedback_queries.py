"""The SQL behind "what happened to my input": satisfaction requests (is it fixed? how satisfied are
you?) and the reopen requests an unhappy answer raises for staff. Statements only; the rules are in
:mod:`notifications.feedback`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import Report
from notifications.models import ReopenRequest, SatisfactionRequest

# ---------------------------------------------------------------------------------------------------
# Satisfaction requests


async def satisfaction_request(
    session: AsyncSession, *, request_id: int, lock: bool = False
) -> SatisfactionRequest | None:
    query = select(SatisfactionRequest).where(SatisfactionRequest.id == request_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def my_satisfaction_requests(session: AsyncSession, *, account_id: int) -> list[SatisfactionRequest]:
    """The questions asked of an account (issued and not withdrawn), newest first."""
    return list(
        await session.scalars(
            select(SatisfactionRequest)
            .where(
                SatisfactionRequest.account_id == account_id,
                SatisfactionRequest.issued_at.is_not(None),
                SatisfactionRequest.cancelled_at.is_(None),
            )
            .order_by(SatisfactionRequest.id.desc())
            .limit(100)
        )
    )


# Run by the worker; SKIP LOCKED lets several workers share it. A question whose report is no longer
# resolved (reopened before the question was due) is withdrawn instead of asked.
ISSUE_SQL = text("""
WITH due AS (
    SELECT s.id, r.status = 'resolved' AS still_resolved
    FROM satisfaction_requests s JOIN reports r ON r.id = s.report_id
    WHERE s.issued_at IS NULL AND s.cancelled_at IS NULL AND s.due_at <= clock_timestamp()
    ORDER BY s.due_at
    LIMIT :limit
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE satisfaction_requests s
SET issued_at = CASE WHEN due.still_resolved THEN now() END,
    cancelled_at = CASE WHEN due.still_resolved THEN NULL ELSE now() END
FROM due WHERE s.id = due.id
RETURNING s.id, s.jurisdiction_id, s.report_id, s.account_id, due.still_resolved
""")


async def issue_due(session: AsyncSession, *, limit: int) -> Sequence[Any]:
    """Mark up to ``limit`` due questions issued (or withdrawn): rows of (id, jurisdiction_id,
    report_id, account_id, still_resolved)."""
    return (await session.execute(ISSUE_SQL, {"limit": limit})).all()


# ---------------------------------------------------------------------------------------------------
# Reopen requests


async def pending_reopen_request(session: AsyncSession, *, report_id: int) -> ReopenRequest | None:
    """The oldest pending request of a report: the one its unhappy answers share."""
    return await session.scalar(
        select(ReopenRequest)
        .where(ReopenRequest.report_id == report_id, ReopenRequest.status == "pending")
        .order_by(ReopenRequest.id)
        .limit(1)
    )


async def reopen_requests_with_answers(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    status: str | None,
    department_ids: Sequence[int] | None,
    limit: int,
) -> list[tuple[ReopenRequest, SatisfactionRequest]]:
    """Each request with the answer that raised it; only reports of ``department_ids`` unless None."""
    query = (
        select(ReopenRequest, SatisfactionRequest)
        .join(SatisfactionRequest, SatisfactionRequest.id == ReopenRequest.satisfaction_request_id)
        .where(ReopenRequest.jurisdiction_id == jurisdiction_id)
    )
    if status is not None:
        query = query.where(ReopenRequest.status == status)
    if department_ids is not None:
        query = query.where(
            ReopenRequest.report_id.in_(select(Report.id).where(Report.department_id.in_(department_ids)))
        )
    rows = await session.execute(query.order_by(ReopenRequest.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def reopen_request_for_update(
    session: AsyncSession, *, jurisdiction_id: int, request_id: int
) -> ReopenRequest | None:
    return await session.scalar(
        select(ReopenRequest)
        .where(ReopenRequest.id == request_id, ReopenRequest.jurisdiction_id == jurisdiction_id)
        .with_for_update()
    )


async def decide_other_pending(
    session: AsyncSession,
    *,
    report_id: int,
    decided_request_id: int,
    status: str,
    decided_by_account_id: int | None,
    decided_at: datetime | None,
    message: str | None,
) -> None:
    """Give every other pending request of the report the same decision."""
    await session.execute(
        update(ReopenRequest)
        .where(
            ReopenRequest.report_id == report_id,
            ReopenRequest.status == "pending",
            ReopenRequest.id != decided_request_id,
        )
        .values(
            status=status,
            decided_by_account_id=decided_by_account_id,
            decided_at=decided_at,
            decision_message=message,
        )
    )
