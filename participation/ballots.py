"""Casting secret ballots: validation against the round's rules, one vote per voter, the mixing writer.

The order of a cast is what keeps both promises (see ``docs/ballot-secrecy.md``):

1. In the request's transaction, a transaction-scoped advisory lock on (round, voter key) is *tried*; a
   concurrent submission for the same voter gets 409 ``ballot-in-progress`` instead of queueing, so 200
   simultaneous attempts cannot pile up on one lock and starve the connection pool.
2. The ballot, keyed ``HMAC(ballot secret, round ‖ voter key)``, is handed to the :class:`BallotMixer`,
   which writes it in *another* transaction together with the other ballots received meanwhile, shuffled,
   plus a "cover" rewrite of a random slice of earlier ballots; the request waits for that commit.
3. Only then is the participation record inserted (and the ``ballot.received`` event written) in the
   request's transaction. A crash between 2 and 3 leaves a ballot without participation, which a retry
   simply replaces (same id); never a participation without a ballot.

One voter, one ballot is therefore enforced twice: by the ballots' primary key (a voter's ballot id is
fixed) and by the participation key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict
from core.outbox import record_event
from participation.electorate import ParticipationKeys, Voter
from participation.errors import AlreadyVoted, BallotRuleViolation, WrongPhase
from participation.models import BallotRecord, BudgetRound, Proposal, VoterParticipation
from participation.schemas import BallotCast, BallotReceipt

logger = logging.getLogger(__name__)


def _violation(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def check_ballot(
    budget_round: BudgetRound,
    costs: dict[int, Decimal],
    projects: Sequence[int],
    points: Sequence[int] | None,
) -> list[dict[str, Any]]:
    """Every way the ballot breaks the round's rules, each with a stable code (empty when valid)."""
    rules = budget_round.ballot_rules or {}
    kind = budget_round.ballot_type
    found: list[dict[str, Any]] = []
    if unknown := [p for p in projects if p not in costs]:
        found.append(
            _violation(
                "unknown-project", f"projects {unknown} are not on this round's ballot", projects=unknown
            )
        )
    if len(set(projects)) != len(projects):
        found.append(_violation("duplicate-project", "a project appears more than once"))
    if kind == "cumulative":
        if points is None or len(points) != len(projects):
            found.append(_violation("points-mismatch", "give one number of points per chosen project"))
            return found
        if any(p <= 0 for p in points):
            found.append(_violation("invalid-points", "points must be whole numbers of at least 1"))
        total, limit = sum(points), rules["points"]
        if total > limit:
            found.append(_violation("too-many-points", f"{total} points given; at most {limit}", limit=limit))
        cap = rules.get("max_points_per_project")
        if cap is not None and (over := [p for p, n in zip(projects, points, strict=True) if n > cap]):
            found.append(
                _violation(
                    "too-many-points-for-project",
                    f"projects {over} got more than {cap} points",
                    projects=over,
                    limit=cap,
                )
            )
    elif points is not None:
        found.append(_violation("points-not-allowed", f"{kind} ballots carry no points"))
    if not projects:
        found.append(_violation("empty-ballot", "choose at least one project"))
    minimum, maximum = rules.get("min_projects"), rules.get("max_projects")
    if minimum is not None and len(projects) < minimum:
        found.append(_violation("too-few-projects", f"choose at least {minimum} projects", limit=minimum))
    if maximum is not None and len(projects) > maximum:
        found.append(_violation("too-many-projects", f"choose at most {maximum} projects", limit=maximum))
    if kind == "ranked" and len(projects) > rules["top_k"]:
        found.append(
            _violation("too-many-ranked", f"rank at most {rules['top_k']} projects", limit=rules["top_k"])
        )
    if kind == "knapsack":
        total_cost = sum((costs[p] for p in set(projects) if p in costs), Decimal(0))
        if total_cost > budget_round.budget:
            found.append(
                _violation(
                    "over-budget",
                    f"the chosen projects cost {total_cost}, more than the budget of {budget_round.budget}",
                    total=str(total_cost),
                )
            )
        share = rules.get("min_share_spent")
        if share is not None and total_cost < budget_round.budget * Decimal(str(share)):
            found.append(
                _violation(
                    "under-minimum-spend",
                    f"choose projects worth at least {share:.0%} of the budget",
                    total=str(total_cost),
                )
            )
    return found


async def ballot_costs(session: AsyncSession, round_id: int) -> dict[int, Decimal]:
    rows = await session.execute(
        select(Proposal.id, Proposal.final_cost, Proposal.estimated_cost).where(
            Proposal.round_id == round_id, Proposal.status == "feasible"
        )
    )
    return {row.id: row.final_cost or row.estimated_cost for row in rows}


@dataclass(slots=True)
class PendingBallot:
    id: uuid.UUID
    round_id: int
    channel: str
    projects: list[int]
    points: list[int] | None


class BallotMixer:
    """Writes ballots in shuffled batches, in transactions of their own, with cover rewrites.

    One mixer per process. A batch is the ballots that arrived while the previous one was being written
    (group commit): the first writer waits up to ``max_delay`` (or until ``max_batch`` ballots are queued)
    and writes them all in one transaction, in random order, so their ``xmin`` is shared and their physical
    order says nothing. Each batch also rewrites ``cover`` earlier ballots of the round chosen at random, so
    a ballot's ``xmin`` does not even tell in which batch it arrived.

    It needs its *own* connections (``sessionmaker``), not the request pool: requests hold a pool connection
    while they wait for their batch.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 128,
        max_delay: float = 0.02,
        cover: int = 32,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.cover = cover
        self._pending: list[tuple[PendingBallot, asyncio.Future[None]]] = []
        self._full: asyncio.Event | None = None
        self._leader = False
        self._tasks: set[asyncio.Future[None]] = set()

    async def write(self, ballot: PendingBallot) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((ballot, future))
        if len(self._pending) >= self.max_batch and self._full is not None:
            self._full.set()
        if not self._leader:
            self._leader = True
            self._full = asyncio.Event()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.max_delay)
            finally:
                # Even if this leader's request is cancelled, its batch is written: the flush runs as a task.
                batch, self._pending = self._pending, []
                self._leader = False
                task = asyncio.ensure_future(self._flush_and_resolve(batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await future

    async def _flush_and_resolve(self, batch: list[tuple[PendingBallot, asyncio.Future[None]]]) -> None:
        try:
            await self._flush([item for item, _ in batch])
        except Exception:
            logger.exception("a batch of %d ballots could not be written", len(batch))
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(
                        Conflict("the ballot could not be stored; try again", code="ballot-not-stored")
                    )
        else:
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_result(None)

    async def _flush(self, batch: list[PendingBallot]) -> None:
        latest: dict[uuid.UUID, PendingBallot] = {}
        for ballot in batch:  # the voter's last submission in this batch wins
            latest[ballot.id] = ballot
        # In id order: ids are keyed hashes, so this order is random with respect to voters, and a fixed
        # lock order keeps concurrent batches from deadlocking.
        rows = sorted(latest.values(), key=lambda r: r.id)
        async with self.sessionmaker() as session:
            statement = insert(BallotRecord)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        "projects": statement.excluded.projects,
                        "points": statement.excluded.points,
                        "channel": statement.excluded.channel,
                    },
                ),
                [
                    {
                        "id": r.id,
                        "round_id": r.round_id,
                        "channel": r.channel,
                        "projects": r.projects,
                        "points": r.points,
                    }
                    for r in rows
                ],
            )
            for round_id in {r.round_id for r in rows}:
                await cover_rewrite(session, round_id, self.cover)
            await session.commit()


async def cover_rewrite(session: AsyncSession, round_id: int, count: int) -> None:
    """Rewrite a random slice of a round's ballots (a window of ids from a random start, wrapping)."""
    if count <= 0:
        return
    start = uuid.uuid4()
    # SKIP LOCKED: concurrent batches (other workers) never wait on each other's cover rows, so no deadlock.
    for comparison in (">=", "<"):
        await session.execute(
            text(
                "UPDATE ballots SET points = points WHERE id IN ("
                f" SELECT id FROM ballots WHERE round_id = :r AND id {comparison} :start ORDER BY id LIMIT :n"
                " FOR UPDATE SKIP LOCKED)"
            ),
            {"r": round_id, "start": start, "n": count},
        )


def _lock_key(round_id: int, voter_key: bytes) -> int:
    digest = hashlib.sha256(round_id.to_bytes(8, "big") + voter_key).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def check_voting_open(budget_round: BudgetRound, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if budget_round.phase != "voting":
        when = "has not opened yet" if budget_round.phase in ("proposals", "review") else "has closed"
        raise WrongPhase(f"voting {when}", code="voting-not-open" if "not" in when else "voting-closed")
    if budget_round.voting_closes_at is not None and now >= budget_round.voting_closes_at:
        raise WrongPhase("voting has closed", code="voting-closed")


async def cast_ballot(
    session: AsyncSession,
    mixer: BallotMixer,
    *,
    keys: ParticipationKeys,
    budget_round: BudgetRound,
    voter: Voter,
    data: BallotCast,
) -> BallotReceipt:
    check_voting_open(budget_round)
    violations = check_ballot(
        budget_round, await ballot_costs(session, budget_round.id), data.projects, data.points
    )
    if violations:
        raise BallotRuleViolation(violations)
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key(budget_round.id, voter.key)}
    )
    if not locked:
        raise Conflict(
            "another ballot of yours is being recorded right now; try again", code="ballot-in-progress"
        )
    earlier = await session.scalar(
        select(VoterParticipation.channel).where(
            VoterParticipation.round_id == budget_round.id, VoterParticipation.voter_key == voter.key
        )
    )
    if earlier is not None:
        if voter.channel == "paper" or earlier == "paper":
            raise AlreadyVoted(
                "a paper ballot was already recorded for this voter; it cannot be replaced"
                if earlier == "paper"
                else "this voter has already voted",
                code="code-already-used" if voter.via_code else "already-voted",
            )
        if not budget_round.allow_ballot_changes:
            raise AlreadyVoted(
                "this code was already used" if voter.via_code else "you have already voted in this round",
                code="code-already-used" if voter.via_code else "already-voted",
            )
    await mixer.write(
        PendingBallot(
            id=keys.ballot_id(budget_round.id, voter.key),
            round_id=budget_round.id,
            channel=voter.channel,
            projects=list(data.projects),
            points=list(data.points) if data.points is not None else None,
        )
    )
    if earlier is None:
        await session.execute(
            insert(VoterParticipation)
            .values(
                round_id=budget_round.id,
                voter_key=voter.key,
                account_id=voter.account_id,
                channel=voter.channel,
            )
            .on_conflict_do_nothing()
        )
    if voter.account_id is not None:
        # From the participation transaction, never the ballot's: it names the voter, not the ballot.
        await record_event(
            session,
            jurisdiction_id=budget_round.jurisdiction_id,
            topic="ballot.received",
            aggregate_type="budget_round",
            aggregate_id=budget_round.id,
            payload={
                "round_id": budget_round.id,
                "account_ids": [voter.account_id],
                "replaced_earlier_ballot": earlier is not None,
                "channel": voter.channel,
            },
        )
    return BallotReceipt(
        round_id=budget_round.id, replaced_earlier_ballot=earlier is not None, channel=voter.channel
    )


async def seal_ballots(session: AsyncSession, round_id: int) -> int:
    """At the close: re-key every ballot with a fresh random id and rewrite them all, shuffled, in one
    transaction. Afterwards even the ballot secret cannot link a ballot to a voter, all ballots share one
    ``xmin`` and their physical order is random. (A ``VACUUM ballots`` afterwards removes the dead
    versions; ``civicloop`` runs it after each close.)"""
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE sealed_ballots ON COMMIT DROP AS"
            " SELECT gen_random_uuid() AS id, round_id, channel, projects, points"
            " FROM ballots WHERE round_id = :r ORDER BY random()"
        ),
        {"r": round_id},
    )
    await session.execute(text("DELETE FROM ballots WHERE round_id = :r"), {"r": round_id})
    result = await session.execute(
        text(
            "INSERT INTO ballots (id, round_id, channel, projects, points)"
            " SELECT id, round_id, channel, projects, points FROM sealed_ballots"
        )
    )
    await session.execute(text("DROP TABLE sealed_ballots"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def load_ballots(session: AsyncSession, round_id: int) -> list[tuple[list[int], list[int] | None]]:
    """A round's ballots in a content order (never storage order), for the tally and the export."""
    rows = await session.execute(
        select(BallotRecord.projects, BallotRecord.points)
        .where(BallotRecord.round_id == round_id)
        .order_by(BallotRecord.projects, BallotRecord.points)
    )
    return [(list(row.projects), None if row.points is None else list(row.points)) for row in rows]
