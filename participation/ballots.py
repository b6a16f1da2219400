"""Casting secret ballots: one context query, validation against the round's rules, one vote per voter.

A cast is one statement and a commit in the request's transaction plus a share of a batch (see
``docs/ballot-secrecy.md`` for why each step is where it is):

1. One statement reads everything the decision needs (the jurisdiction, the round, its ballot's projects
   and costs, the voting code or the account's verified address), takes two transaction-scoped advisory
   locks: the round's lock *shared* (a close takes it exclusively, so it waits for the casts in flight and
   keeps new ones out), and the voter's lock *tried* (a concurrent submission for the same voter gets 409
   ``ballot-in-progress`` instead of queueing, so 200 simultaneous attempts cannot pile up on one lock),
   and, only once the voter's lock is held, inserts the participation row (``ON CONFLICT DO NOTHING``).
   On a fresh connection the ``BEGIN`` travels with it in one round trip (pipeline mode).
2. The rules are then checked in Python; any refusal rolls the transaction back, participation included.
   If the voter already took part, one more statement reads how, to allow or refuse the change. The row
   stays uncommitted, held by this request.
3. The ballot, keyed ``HMAC(ballot secret, round ‖ voter key)`` and encrypted under the round's key
   (``participation.ballot_cipher``), goes to the process's
   :class:`~participation.ballot_store.BallotMixer`, which commits it in *another* transaction with the
   other ballots of the moment; the request waits for that commit, then commits its participation (and,
   for accounts, the ``ballot.received`` event). A crash in between leaves a ballot without participation,
   which the voter's next attempt replaces (same id); never a participation without a ballot.

One voter, one ballot is therefore enforced twice: by the ballots' primary key (a voter's ballot id is
fixed) and by the participation key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row

from core.errors import WrongJurisdiction
from geo.errors import JurisdictionNotFound
from participation.ballot_store import BallotMixer, PendingBallot, round_lock
from participation.electorate import Credential, ParticipationKeys, Voter, check_voter
from participation.errors import (
    AlreadyVoted,
    BallotInProgress,
    BallotRuleViolation,
    CodeAlreadyUsed,
    RoundNotFound,
    VotingClosed,
    VotingNotOpen,
)
from participation.events import BallotReceived
from participation.models import BudgetRound
from participation.schemas import BallotCast, BallotReceipt


@dataclass(frozen=True, slots=True)
class VotingRound:
    """The round as a cast sees it (read by the context query, not an ORM object: no identity map)."""

    id: int
    jurisdiction_id: int
    title: str
    area_id: int
    phase: str
    voting_closes_at: datetime | None
    ballot_type: str
    ballot_rules: dict[str, Any]
    budget: Decimal
    credentials: str
    min_age: int | None
    allow_ballot_changes: bool


@dataclass(frozen=True, slots=True)
class CastContext:
    """Everything one cast decides on, from one query (see :data:`_CONTEXT`)."""

    round: VotingRound
    costs: dict[int, Decimal]
    code_jurisdiction_id: int | None
    code_round_id: int | None
    code_revoked: bool | None
    verified: bool
    birth_date: date | None
    inside: bool | None
    registered: bool
    """A paper ballot's reference is on the round's register (``paper_register_entries``)."""
    voter_locked: bool | None
    taken: bool
    """The statement inserted the participation: the voter's first ballot in this round."""
    attempted: bool
    """The statement tried to insert it (``taken`` false then means the voter already took part)."""


def _violation(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def check_ballot(
    budget_round: BudgetRound | VotingRound,
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


_CONTEXT = (
    "WITH context AS MATERIALIZED (SELECT j.id AS jurisdiction_id, r.id AS round_id, r.title, r.area_id,"
    " r.phase,"
    " r.voting_closes_at, r.ballot_type, r.ballot_rules, r.budget, r.credentials, r.min_age,"
    " r.allow_ballot_changes,"
    " p.ids AS project_ids, p.costs AS project_costs,"
    " c.jurisdiction_id AS code_jurisdiction_id, c.round_id AS code_round_id, c.revoked AS code_revoked,"
    " v.account_id IS NOT NULL AS verified, v.birth_date, ST_Contains(a.geom, v.address) AS inside,"
    " pr.voter_key IS NOT NULL AS registered,"
    # The locks last: evaluated once, for the one row, after the reads. The statement's snapshot predates
    # them, but the participation insert below checks its key against every committed row whatever the
    # snapshot, and after a conflict the earlier participation is read by a statement of its own.
    " CASE WHEN r.id IS NOT NULL THEN"
    "   pg_advisory_xact_lock_shared(CAST(%(lock_class)s AS int), CAST(%(lock_round)s AS int))::text END"
    "   AS round_locked,"
    " CASE WHEN r.id IS NOT NULL THEN pg_try_advisory_xact_lock(CAST(%(voter_lock)s AS bigint)) END"
    "   AS voter_locked"
    " FROM (VALUES (1)) AS one (x)"
    " LEFT JOIN jurisdictions j ON j.slug = %(slug)s"
    " LEFT JOIN budget_rounds r ON r.id = %(round)s AND r.jurisdiction_id = j.id"
    " LEFT JOIN LATERAL (SELECT array_agg(id ORDER BY id) AS ids,"
    "   array_agg(coalesce(final_cost, estimated_cost) ORDER BY id) AS costs"
    "   FROM budget_proposals WHERE round_id = r.id AND status = 'feasible') p ON true"
    " LEFT JOIN voting_codes c ON c.code_hash = CAST(%(code_hash)s AS bytea)"
    " LEFT JOIN resident_verifications v"
    "   ON v.account_id = CAST(%(account)s AS bigint) AND v.jurisdiction_id = j.id"
    " LEFT JOIN areas a ON a.id = r.area_id AND v.account_id IS NOT NULL"
    " LEFT JOIN paper_register_entries pr ON CAST(%(kind)s AS text) = 'reference'"
    "   AND pr.round_id = r.id AND pr.voter_key = CAST(%(voter_key)s AS bytea)),"
    # Whether to insert the participation in the same statement: only with the voter's lock held (read
    # from the materialised context, so after the locks), and only where it is likely to stand; Python's
    # checks decide (a refusal rolls it back), and a cast the statement did not try inserts it after them.
    " attempt AS (SELECT context.*, coalesce(voter_locked AND phase = 'voting'"
    "   AND CASE CAST(%(kind)s AS text)"
    "   WHEN 'code' THEN credentials <> 'accounts' AND code_round_id = round_id AND NOT code_revoked"
    "   WHEN 'account' THEN credentials <> 'codes' AND verified AND inside"
    "   WHEN 'reference' THEN registered"
    "   ELSE true END, false) AS attempted FROM context),"
    " taken AS (INSERT INTO voter_participations (round_id, voter_key, account_id, channel)"
    "   SELECT round_id, CAST(%(voter_key)s AS bytea), CAST(%(account)s AS bigint), CAST(%(channel)s AS text)"
    "   FROM attempt WHERE attempted"
    "   ON CONFLICT (round_id, voter_key) DO NOTHING RETURNING true)"
    " SELECT attempt.*, EXISTS (SELECT FROM taken) AS taken FROM attempt"
)
_INSERT_PARTICIPATION = (
    "INSERT INTO voter_participations (round_id, voter_key, account_id, channel)"
    " VALUES (%(r)s, %(k)s, %(a)s, %(c)s) ON CONFLICT (round_id, voter_key) DO NOTHING RETURNING true"
)
_RECORD_PAPER_ENTRY = (
    "INSERT INTO paper_ballot_entries (round_id, entered_by_account_id, via) VALUES (%(r)s, %(a)s, %(via)s)"
)
_EARLIER_CHANNEL = "SELECT channel FROM voter_participations WHERE round_id = %(r)s AND voter_key = %(k)s"
# The row ``core.outbox.record_event`` writes (its trigger wakes the worker), on the cast's connection.
_RECORD_EVENT = (
    "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
    " VALUES (%(j)s, 'ballot.received', 'budget_round', %(r)s, CAST(%(payload)s AS jsonb))"
)


def voter_lock_key(round_id: int, voter_key: bytes) -> int:
    digest = hashlib.sha256(round_id.to_bytes(8, "big") + voter_key).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def load_cast_context(
    connection: psycopg.AsyncConnection[Any], *, jurisdiction: str, round_id: int, credential: Credential
) -> CastContext:
    """The one statement of a cast: its reads, its two locks and, once the voter's lock is held, the
    participation (see :data:`_CONTEXT`); 404 for an unknown jurisdiction or round."""
    lock_class, lock_round = round_lock(round_id)
    cursor = connection.cursor(row_factory=namedtuple_row)
    parameters = {
        "slug": jurisdiction,
        "round": round_id,
        "code_hash": credential.code_hash,
        "account": credential.account.account_id if credential.account is not None else None,
        "lock_class": lock_class,
        "lock_round": lock_round,
        "voter_lock": None
        if credential.voter_key is None
        else voter_lock_key(round_id, credential.voter_key),
        "kind": _credential_kind(credential),
        "voter_key": credential.voter_key,
        "channel": credential.channel,
    }
    if connection.info.transaction_status == TransactionStatus.IDLE:
        # A fresh transaction (the casts' pool): psycopg sends ``BEGIN`` first and waits for it; in a
        # pipeline the ``BEGIN``, the statement and a Sync go out together, one round trip instead of two.
        async with connection.pipeline():
            await cursor.execute(_CONTEXT, parameters)
    else:
        await cursor.execute(_CONTEXT, parameters)
    # A namedtuple of _CONTEXT's columns: psycopg can only type it as a bare ``NamedTuple``.
    row: Any = await cursor.fetchone()
    assert row is not None  # the query always returns its one row
    if row.jurisdiction_id is None:
        raise JurisdictionNotFound(f"no jurisdiction {jurisdiction!r}")
    if row.round_id is None:
        raise RoundNotFound(f"no budget round {round_id} in this jurisdiction")
    return CastContext(
        round=VotingRound(
            id=row.round_id,
            jurisdiction_id=row.jurisdiction_id,
            title=row.title,
            area_id=row.area_id,
            phase=row.phase,
            voting_closes_at=row.voting_closes_at,
            ballot_type=row.ballot_type,
            ballot_rules=row.ballot_rules or {},
            budget=row.budget,
            credentials=row.credentials,
            min_age=row.min_age,
            allow_ballot_changes=row.allow_ballot_changes,
        ),
        costs=dict(zip(row.project_ids or (), row.project_costs or (), strict=True)),
        code_jurisdiction_id=row.code_jurisdiction_id,
        code_round_id=row.code_round_id,
        code_revoked=row.code_revoked,
        verified=row.verified,
        birth_date=row.birth_date,
        inside=row.inside,
        registered=row.registered,
        voter_locked=row.voter_locked,
        taken=row.taken,
        attempted=row.attempted,
    )


def _credential_kind(credential: Credential) -> str:
    if credential.via_reference:
        return "reference"
    return "code" if credential.code_hash is not None else "account"


def check_voting_open(budget_round: BudgetRound | VotingRound, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if budget_round.phase != "voting":
        if budget_round.phase in ("proposals", "review"):
            raise VotingNotOpen("voting has not opened yet")
        raise VotingClosed("voting has closed")
    if budget_round.voting_closes_at is not None and now >= budget_round.voting_closes_at:
        raise VotingClosed("voting has closed")


async def cast_ballot(
    connection: psycopg.AsyncConnection[Any],
    mixer: BallotMixer,
    *,
    keys: ParticipationKeys,
    jurisdiction: str,
    round_id: int,
    credential: Credential,
    data: BallotCast,
    entered_by: int | None = None,
) -> BallotReceipt:
    """Cast or replace a ballot; every refusal is a precise error and leaves nothing stored.

    ``entered_by``: the election officer entering a paper ballot, recorded in the audit trail
    (``paper_ballot_entries``) in the cast's transaction, so an entry exists exactly when the ballot
    counts."""
    context = await load_cast_context(
        connection, jurisdiction=jurisdiction, round_id=round_id, credential=credential
    )
    voting_round = context.round
    account = credential.account
    if account is not None and account.jurisdiction_id != voting_round.jurisdiction_id:
        raise WrongJurisdiction("your account belongs to another jurisdiction")
    check_voting_open(voting_round)
    voter = check_voter(context, credential)
    if violations := check_ballot(voting_round, context.costs, data.projects, data.points):
        raise BallotRuleViolation(violations)
    if not context.voter_locked:
        raise BallotInProgress("another ballot of yours is being recorded right now; try again")
    if context.attempted:
        account_id = credential.account.account_id if credential.account is not None else None
        inserted = (credential.voter_key, account_id, credential.channel)
        if (voter.key, voter.account_id, voter.channel) != inserted:
            # Never: check_voter derives the voter from the same credential. Raising rolls the row back.
            raise RuntimeError("the participation inserted does not match the voter")
        earlier = None if context.taken else await _earlier_participation(connection, voting_round, voter)
    else:
        earlier = await _take_part(connection, voting_round, voter)
    await mixer.write(
        PendingBallot(
            id=keys.ballot_id(voting_round.id, voter.key),
            round_id=voting_round.id,
            channel=voter.channel,
            # Encrypted here, before any byte of it leaves the process: the database (and its write-ahead
            # log) holds an open round's ballots only as ciphertext, all of one length.
            contents=keys.cipher.seal(
                voting_round.id,
                list(data.projects),
                list(data.points) if data.points is not None else None,
                slots=len(context.costs),
            ),
        )
    )
    if entered_by is not None:
        await connection.execute(
            _RECORD_PAPER_ENTRY,
            {
                "r": voting_round.id,
                "a": entered_by,
                "via": "register" if credential.via_reference else "code",
            },
        )
    if voter.account_id is not None:
        # From the participation transaction, never the ballot's: it names the voter, not the ballot.
        await connection.execute(
            _RECORD_EVENT,
            {
                "j": voting_round.jurisdiction_id,
                "r": voting_round.id,
                "payload": json.dumps(
                    BallotReceived(
                        round_id=voting_round.id,
                        title=voting_round.title,
                        account_ids=[voter.account_id],
                        replaced_earlier_ballot=earlier is not None,
                        channel=voter.channel,
                    ).stored()
                ),
            },
        )
    return BallotReceipt(
        round_id=voting_round.id, replaced_earlier_ballot=earlier is not None, channel=voter.channel
    )


async def _take_part(
    connection: psycopg.AsyncConnection[Any], voting_round: VotingRound, voter: Voter
) -> str | None:
    """Record the participation, or check that the voter may replace their ballot; the earlier channel.

    The voter's advisory lock is held, so no other transaction of this voter is in flight: a conflict is
    a committed participation, which the next statement (a fresh snapshot) reads.
    """
    cursor = await connection.execute(
        _INSERT_PARTICIPATION,
        {"r": voting_round.id, "k": voter.key, "a": voter.account_id, "c": voter.channel},
    )
    if await cursor.fetchone() is not None:
        return None
    return await _earlier_participation(connection, voting_round, voter)


async def _earlier_participation(
    connection: psycopg.AsyncConnection[Any], voting_round: VotingRound, voter: Voter
) -> str:
    """The voter already took part (the participation insert conflicted): the earlier channel, if the
    change is allowed. A fresh statement, so it reads a participation committed just before the lock."""
    cursor = await connection.execute(_EARLIER_CHANNEL, {"r": voting_round.id, "k": voter.key})
    found = await cursor.fetchone()
    earlier: str | None = found[0] if found is not None else None
    if earlier is None:  # only if the round was deleted meanwhile (its rows cascade)
        raise BallotInProgress("the round changed while the ballot was cast; try again")
    refused = CodeAlreadyUsed if voter.via_code else AlreadyVoted
    if earlier == "paper":
        raise refused("a paper ballot was already recorded for this voter; it cannot be replaced")
    if voter.channel == "paper":
        raise refused("this voter has already voted")
    if not voting_round.allow_ballot_changes:
        raise refused(
            "this code was already used" if voter.via_code else "you have already voted in this round"
        )
    return earlier
