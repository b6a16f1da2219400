"""What a resident can take part in, asked from their phone: the budget rounds and consultation rounds
that concern them (where the phone is, or where their verified address lies), whether they may vote or
answer before they start, and which round a letter's voting code is for.

Whether someone voted is read from ``voter_participations`` (never from a ballot): it says *that*, not
*what*. The account's own participation is asked by its keyed voter key, as the cast writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from participation.consultations.rendering import render_round
from participation.electorate import ParticipationKeys, check_account_in_area
from participation.errors import CodeRevoked, CodesNotAccepted, NotEligible, UnknownCode
from participation.models import (
    BudgetRound,
    Consultation,
    ConsultationResponse,
    ConsultationRound,
    ProjectFollower,
    VoterParticipation,
)
from participation.schemas import (
    CodeLookup,
    ConsultationRoundRead,
    ConsultationRoundSummary,
    Following,
    RespondentEligibility,
    RoundSummary,
    TakingPart,
    VoterEligibility,
)

# Rounds first that are open for the resident's input now, then those that report back.
_PHASE_ORDER = {"voting": 0, "proposals": 1, "review": 2, "results": 3, "implementation": 4}
_LIMIT = 100

# Per round of the jurisdiction: its area's name, and whether that area covers the point the caller gave
# and the caller's verified address. A handful of rounds per jurisdiction: one containment test each.
_BUDGET_ROUNDS = text(
    "SELECT r.id, a.name AS area_name,"
    " coalesce(ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(CAST(:x AS float8), CAST(:y AS float8)), 4326)),"
    "   false) AS by_location,"
    " coalesce(ST_Covers(a.geom, v.address), false) AS by_address"
    " FROM budget_rounds r JOIN areas a ON a.id = r.area_id"
    " LEFT JOIN resident_verifications v"
    "   ON v.account_id = CAST(:account AS bigint) AND v.jurisdiction_id = r.jurisdiction_id"
    " WHERE r.jurisdiction_id = :j ORDER BY r.id DESC LIMIT :limit"
)
_CONSULTATION_ROUNDS = text(
    "SELECT cr.id, a.name AS area_name,"
    " coalesce(ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(CAST(:x AS float8), CAST(:y AS float8)), 4326)),"
    "   false) AS by_location,"
    " coalesce(ST_Covers(a.geom, v.address), false) AS by_address,"
    " (SELECT count(*) FROM consultation_questions q WHERE q.round_id = cr.id) AS questions,"
    " EXISTS (SELECT FROM consultation_responses s"
    "   WHERE s.round_id = cr.id AND s.account_id = CAST(:account AS bigint)) AS responded"
    " FROM consultation_rounds cr JOIN consultations c ON c.id = cr.consultation_id"
    " JOIN areas a ON a.id = cr.area_id"
    " LEFT JOIN resident_verifications v"
    "   ON v.account_id = CAST(:account AS bigint) AND v.jurisdiction_id = c.jurisdiction_id"
    " WHERE c.jurisdiction_id = :j AND cr.status <> 'draft' ORDER BY cr.id DESC LIMIT :limit"
)


def _concerns(row: Any) -> list[str]:
    return [name for name, hit in (("location", row.by_location), ("address", row.by_address)) if hit]


async def taking_part(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    point: tuple[float, float] | None,
    identity: Identity | None,
    keys: ParticipationKeys,
) -> TakingPart:
    """Every round of the jurisdiction a resident can see, those that concern them first."""
    own = identity is not None and identity.jurisdiction_id == jurisdiction_id
    account_id = identity.account_id if identity is not None and own else None
    params = {
        "j": jurisdiction_id,
        "x": point[0] if point else None,
        "y": point[1] if point else None,
        "account": account_id,
        "limit": _LIMIT,
    }
    budget_rows = {row.id: row for row in await session.execute(_BUDGET_ROUNDS, params)}
    rounds = list(await session.scalars(select(BudgetRound).where(BudgetRound.id.in_(list(budget_rows)))))
    voted: set[int] = set()
    if account_id is not None and rounds:
        voted = set(
            await session.scalars(
                select(VoterParticipation.round_id).where(
                    VoterParticipation.round_id.in_([r.id for r in rounds]),
                    VoterParticipation.voter_key == keys.account_voter_key(account_id),
                )
            )
        )
    budget = [
        RoundSummary(
            id=r.id,
            title=r.title,
            description=r.description,
            area_id=r.area_id,
            area_name=budget_rows[r.id].area_name,
            phase=r.phase,
            budget=r.budget,
            currency=r.currency,
            ballot_type=r.ballot_type,
            voting_opens_at=r.voting_opens_at,
            voting_closes_at=r.voting_closes_at,
            concerns=_concerns(budget_rows[r.id]),
            voted=(r.id in voted) if account_id is not None else None,
        )
        for r in rounds
    ]
    budget.sort(key=lambda r: (not r.concerns, _PHASE_ORDER.get(r.phase, 9), -r.id))

    consultation_rows = {row.id: row for row in await session.execute(_CONSULTATION_ROUNDS, params)}
    found = (
        await session.execute(
            select(ConsultationRound, Consultation)
            .join(Consultation, Consultation.id == ConsultationRound.consultation_id)
            .where(ConsultationRound.id.in_(list(consultation_rows)))
        )
    ).all()
    consultation = [
        ConsultationRoundSummary(
            id=cr.id,
            consultation_id=c.id,
            consultation_title=c.title,
            title=cr.title,
            area_id=cr.area_id,
            area_name=consultation_rows[cr.id].area_name,
            eligibility=cr.eligibility,
            status=cr.status,
            opens_at=cr.opens_at,
            closes_at=cr.closes_at,
            questions=consultation_rows[cr.id].questions,
            you_said_we_did=cr.you_said_we_did is not None,
            concerns=_concerns(consultation_rows[cr.id]),
            responded=consultation_rows[cr.id].responded if account_id is not None else None,
        )
        for cr, c in found
    ]
    consultation.sort(key=lambda r: (not r.concerns, r.status != "open", -r.id))
    verified = None
    if account_id is not None:
        verified = bool(
            await session.scalar(
                text(
                    "SELECT EXISTS (SELECT FROM resident_verifications"
                    " WHERE account_id = :a AND jurisdiction_id = :j)"
                ),
                {"a": account_id, "j": jurisdiction_id},
            )
        )
    return TakingPart(verified_address=verified, budget_rounds=budget, consultation_rounds=consultation)


async def _reason(
    session: AsyncSession, identity: Identity, *, area_id: int, min_age: int | None, on: date
) -> str | None:
    """Why this account may not take part in an area's round (the cast's own error codes), or ``None``."""
    if identity.is_anonymous:
        return "address-not-verified"
    try:
        await check_account_in_area(
            session,
            account_id=identity.account_id,
            jurisdiction_id=identity.jurisdiction_id,
            area_id=area_id,
            min_age=min_age,
            on=on,
        )
    except NotEligible as refusal:
        return refusal.code
    return None


async def voter_eligibility(
    session: AsyncSession, *, budget_round: BudgetRound, identity: Identity, keys: ParticipationKeys
) -> VoterEligibility:
    """May this account vote (and propose) in the round, did it vote, may it change the vote — told
    before the first choice, with the codes a cast would answer."""
    channel = await session.scalar(
        select(VoterParticipation.channel).where(
            VoterParticipation.round_id == budget_round.id,
            VoterParticipation.voter_key == keys.account_voter_key(identity.account_id),
        )
    )
    if budget_round.credentials == "codes":
        reason: str | None = "accounts-not-accepted"
    else:
        closing = (budget_round.voting_closes_at or datetime.now(UTC)).date()
        reason = await _reason(
            session, identity, area_id=budget_round.area_id, min_age=budget_round.min_age, on=closing
        )
    return VoterEligibility(
        round_id=budget_round.id,
        eligible=reason is None,
        reason=reason,
        voted=channel is not None,
        channel=channel,
        can_change=_can_change(budget_round, channel),
    )


def _can_change(budget_round: BudgetRound, channel: str | None) -> bool:
    """While voting is open: a first vote, or a change of an online vote where the round allows it."""
    if budget_round.phase != "voting":
        return False
    return channel is None or (channel == "online" and budget_round.allow_ballot_changes)


@dataclass(frozen=True, slots=True)
class _CodeRow:
    slug: str
    round_id: int
    area_id: int
    revoked: bool


async def lookup_code(session: AsyncSession, *, keys: ParticipationKeys, code: str) -> CodeLookup:
    """Which round a letter's code is for, and whether it was used: what the letter's QR link opens.

    Only the code's holder can ask (the code is the secret), and they could learn as much by casting."""
    code_hash = keys.code_hash(code)
    row = (
        await session.execute(
            text(
                "SELECT j.slug, c.round_id, c.area_id, c.revoked FROM voting_codes c"
                " JOIN jurisdictions j ON j.id = c.jurisdiction_id WHERE c.code_hash = :h"
            ),
            {"h": code_hash},
        )
    ).first()
    if row is None:
        raise UnknownCode("this voting code is unknown; check the letter")
    found = _CodeRow(*row)
    if found.revoked:
        raise CodeRevoked("this voting code was revoked")
    budget_round = await session.get(BudgetRound, found.round_id)
    assert budget_round is not None  # the code's foreign key
    if budget_round.credentials == "accounts":
        raise CodesNotAccepted("this round accepts verified accounts, not codes")
    channel = await session.scalar(
        select(VoterParticipation.channel).where(
            VoterParticipation.round_id == found.round_id, VoterParticipation.voter_key == code_hash
        )
    )
    return CodeLookup(
        jurisdiction=found.slug,
        round_id=found.round_id,
        area_id=found.area_id,
        phase=budget_round.phase,
        voted=channel is not None,
        can_change=_can_change(budget_round, channel),
    )


async def consultation_round(
    session: AsyncSession, *, consultation_round: ConsultationRound
) -> ConsultationRoundRead:
    consultation = await session.get(Consultation, consultation_round.consultation_id)
    assert consultation is not None
    area = (
        await session.execute(
            text(
                "SELECT name, ST_AsGeoJSON(ST_PointOnSurface(geom), 6) AS centre,"
                " ST_XMin(geom) AS west, ST_YMin(geom) AS south,"
                " ST_XMax(geom) AS east, ST_YMax(geom) AS north"
                " FROM areas WHERE id = :a"
            ),
            {"a": consultation_round.area_id},
        )
    ).one()
    rendered = await render_round(session, consultation_round)
    return ConsultationRoundRead.model_validate(
        rendered
        | {
            "consultation_title": consultation.title,
            "consultation_description": consultation.description,
            "area_name": area.name,
            "area_centre": json.loads(area.centre),
            "area_bbox": [area.west, area.south, area.east, area.north],
        }
    )


async def respondent_eligibility(
    session: AsyncSession, *, consultation_round: ConsultationRound, identity: Identity
) -> RespondentEligibility:
    """May this account answer (before the first question), and did it answer already (editable until
    the round closes)."""
    now = datetime.now(UTC)
    reason: str | None = None
    if consultation_round.status != "open" or (
        consultation_round.closes_at is not None and now >= consultation_round.closes_at
    ):
        reason = "consultation-not-open"
    elif identity.is_anonymous:
        # The response's own rule: a device costs nothing to make, so every round needs an account.
        reason = (
            "registration-required"
            if consultation_round.eligibility == "residents"
            else "address-not-verified"
        )
    elif consultation_round.eligibility == "verified":
        reason = await _reason(
            session,
            identity,
            area_id=consultation_round.area_id,
            min_age=consultation_round.min_age,
            on=(consultation_round.closes_at or now).date(),
        )
    updated_at = await session.scalar(
        select(ConsultationResponse.updated_at).where(
            ConsultationResponse.round_id == consultation_round.id,
            ConsultationResponse.account_id == identity.account_id,
        )
    )
    return RespondentEligibility(
        round_id=consultation_round.id,
        eligible=reason is None,
        reason=reason,
        responded=updated_at is not None,
        updated_at=updated_at,
    )


async def following(session: AsyncSession, *, proposal_id: int, account_id: int) -> Following:
    found = await session.scalar(
        select(ProjectFollower.account_id).where(
            ProjectFollower.proposal_id == proposal_id, ProjectFollower.account_id == account_id
        )
    )
    return Following(proposal_id=proposal_id, following=found is not None)
