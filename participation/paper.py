"""Paper ballots: the round's register of voters without a code, and the audit trail of entries.

Entering a paper ballot needs an ``election_officer`` grant (not field staff, not implied by admin); a
ballot by reference counts only if the reference is on the round's register, which an administrator puts
in (separation of duties: the person who enters ballots cannot add voters). Every entry is recorded with
who and when; the results show how many ballots came on paper.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from participation.electorate import ParticipationKeys
from participation.errors import VotingClosed
from participation.models import BudgetRound, PaperBallotEntry, PaperRegisterEntry


async def add_to_register(
    session: AsyncSession,
    *,
    keys: ParticipationKeys,
    budget_round: BudgetRound,
    references: list[str],
    added_by: Identity,
) -> dict[str, int]:
    """Add voters to the round's paper register (keyed hashes only); returns how many were new and the
    register's size. Refused once voting has closed."""
    if budget_round.phase in ("results", "implementation"):
        raise VotingClosed("voting has closed; the register can no longer change")
    voter_keys = {keys.reference_voter_key(budget_round.jurisdiction_id, r) for r in references}
    added = 0
    ordered = sorted(voter_keys)
    for start in range(0, len(ordered), 5000):
        result = await session.execute(
            insert(PaperRegisterEntry)
            .values(
                [
                    {"round_id": budget_round.id, "voter_key": k, "added_by_account_id": added_by.account_id}
                    for k in ordered[start : start + 5000]
                ]
            )
            .on_conflict_do_nothing()
            .returning(PaperRegisterEntry.voter_key)
        )
        added += len(result.all())
    total = await session.scalar(
        select(func.count())
        .select_from(PaperRegisterEntry)
        .where(PaperRegisterEntry.round_id == budget_round.id)
    )
    return {"added": added, "total": int(total or 0)}


async def audit(session: AsyncSession, budget_round: BudgetRound) -> dict[str, Any]:
    """Who entered how many paper ballots, and when (each entry), plus the register's size."""
    entries = (
        await session.execute(
            select(PaperBallotEntry.entered_by_account_id, PaperBallotEntry.entered_at, PaperBallotEntry.via)
            .where(PaperBallotEntry.round_id == budget_round.id)
            .order_by(PaperBallotEntry.id)
        )
    ).all()
    by_officer: dict[int | None, dict[str, Any]] = {}
    for officer, entered_at, _via in entries:
        summary = by_officer.setdefault(
            officer,
            {
                "account_id": officer,
                "count": 0,
                "first_entered_at": entered_at,
                "last_entered_at": entered_at,
            },
        )
        summary["count"] += 1
        summary["last_entered_at"] = entered_at
    register = await session.scalar(
        select(func.count())
        .select_from(PaperRegisterEntry)
        .where(PaperRegisterEntry.round_id == budget_round.id)
    )
    paper = await session.scalar(
        text("SELECT count(*) FROM voter_participations WHERE round_id = :r AND channel = 'paper'"),
        {"r": budget_round.id},
    )
    return {
        "round_id": budget_round.id,
        "total": len(entries),
        "paper_voters": int(paper or 0),
        "register_size": int(register or 0),
        "by_officer": list(by_officer.values()),
        "entries": [
            {"entered_by": officer, "entered_at": entered_at, "via": via}
            for officer, entered_at, via in entries
        ],
    }
