"""Council motions: members of an area's council vote yes/no/abstain, in public, with quorum and majority.

Members are the accounts holding a ``council_member`` grant for the motion's area *when the motion opens*:
the membership is fixed then (``council_motion_members``, and its size in ``member_count``), so a grant
added mid-vote cannot vote or move the quorum, and a grant revoked mid-vote does not take a seat away
from this motion (its holder may still vote on it, and their vote counts) — the roll call is that of the
council that the motion was put to.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotYourArea
from core.identity import Account, Identity, RoleGrant
from core.outbox import record_event
from participation.electorate import area_in_jurisdiction
from participation.errors import (
    MotionNotFound,
    MotionNotOpen,
    MotionVotingClosed,
    NoCouncilMembers,
    NotACouncilMember,
    RoundNotFound,
)
from participation.events import MotionClosed, MotionOpened
from participation.models import BudgetRound, Motion, MotionMember, MotionVote
from participation.schemas import MotionCreate
from participation.workflow import MotionStatus, check_status_change


def _may_manage(identity: Identity, motion_area_id: int, jurisdiction_id: int) -> bool:
    return identity.is_admin_of(jurisdiction_id) or motion_area_id in identity.council_area_ids


async def create_motion(
    session: AsyncSession, *, jurisdiction_id: int, data: MotionCreate, actor: Identity
) -> Motion:
    await area_in_jurisdiction(session, jurisdiction_id=jurisdiction_id, area_id=data.area_id)
    if not _may_manage(actor, data.area_id, jurisdiction_id):
        raise NotYourArea("motions are tabled by the area's council or an administrator")
    if data.round_id is not None and not await session.scalar(
        select(BudgetRound.id).where(
            BudgetRound.id == data.round_id, BudgetRound.jurisdiction_id == jurisdiction_id
        )
    ):
        raise RoundNotFound(f"no budget round {data.round_id} in this jurisdiction")
    motion = Motion(jurisdiction_id=jurisdiction_id, **data.model_dump())
    session.add(motion)
    await session.flush()
    return motion


async def get_motion(
    session: AsyncSession, *, jurisdiction_id: int, motion_id: int, lock: bool = False
) -> Motion:
    statement = select(Motion).where(Motion.id == motion_id, Motion.jurisdiction_id == jurisdiction_id)
    if lock:
        statement = statement.with_for_update()
    motion = await session.scalar(statement)
    if motion is None:
        raise MotionNotFound(f"no motion {motion_id} in this jurisdiction")
    return motion


async def _member_ids(session: AsyncSession, motion: Motion) -> list[int]:
    return list(
        await session.scalars(
            select(RoleGrant.account_id)
            .where(
                RoleGrant.jurisdiction_id == motion.jurisdiction_id,
                RoleGrant.role == "council_member",
                RoleGrant.area_id == motion.area_id,
            )
            .order_by(RoleGrant.account_id)
        )
    )


async def _seats(session: AsyncSession, motion: Motion) -> list[int]:
    """The members fixed when the motion opened."""
    return list(
        await session.scalars(
            select(MotionMember.account_id)
            .where(MotionMember.motion_id == motion.id)
            .order_by(MotionMember.account_id)
        )
    )


async def change_motion_status(
    session: AsyncSession, *, motion: Motion, to: str, actor: Identity | None, now: datetime | None = None
) -> Motion:
    if actor is not None and not _may_manage(actor, motion.area_id, motion.jurisdiction_id):
        raise NotYourArea("only the area's council or an administrator opens and closes motions")
    goal = check_status_change(motion.status, to, what="motion")
    now = now or datetime.now(UTC)
    members = (
        await _member_ids(session, motion) if goal is MotionStatus.OPEN else await _seats(session, motion)
    )
    if goal is MotionStatus.OPEN:
        if not members:
            raise NoCouncilMembers("this area has no council members to vote")
        motion.member_count = len(members)
        motion.opened_at = now
        await session.execute(
            insert(MotionMember).values([{"motion_id": motion.id, "account_id": m} for m in members])
        )
    else:
        motion.closed_at = now
        motion.outcome = (await tally_motion(session, motion))["outcome"]
    motion.status = goal.value
    await session.flush()
    event_type = MotionOpened if goal is MotionStatus.OPEN else MotionClosed
    await record_event(
        session,
        jurisdiction_id=motion.jurisdiction_id,
        event=event_type(
            motion_id=motion.id,
            title=motion.title,
            area_id=motion.area_id,
            outcome=motion.outcome,
            account_ids=members,
        ),
    )
    return motion


async def cast_motion_vote(
    session: AsyncSession, *, motion: Motion, voter: Identity, choice: str
) -> MotionVote:
    """A member's vote; they may change it until the motion closes (the roll call shows the last one)."""
    if motion.status != MotionStatus.OPEN:
        raise MotionNotOpen("this motion is not open for votes")
    if motion.closes_at is not None and datetime.now(UTC) >= motion.closes_at:
        raise MotionVotingClosed("voting on this motion has closed")
    if voter.account_id not in await _seats(session, motion):
        raise NotACouncilMember("only the members of this area's council when the motion opened vote on it")
    statement = insert(MotionVote).values(motion_id=motion.id, account_id=voter.account_id, choice=choice)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["motion_id", "account_id"],
            set_={"choice": statement.excluded.choice, "cast_at": text("clock_timestamp()")},
        )
    )
    vote = await session.get(MotionVote, (motion.id, voter.account_id), populate_existing=True)
    assert vote is not None
    return vote


async def tally_motion(session: AsyncSession, motion: Motion) -> dict[str, Any]:
    """Quorum: members who voted (abstentions count as present) ≥ ceil(quorum × members).
    Majority: ``simple`` yes > no; ``absolute`` yes > half of the members present; ``two_thirds``
    yes ≥ ⅔ of yes + no."""
    rows = (
        await session.execute(
            select(MotionVote.account_id, Account.display_name, MotionVote.choice, MotionVote.cast_at)
            .join(Account, Account.id == MotionVote.account_id)
            .join(
                MotionMember,
                (MotionMember.motion_id == MotionVote.motion_id)
                & (MotionMember.account_id == MotionVote.account_id),
            )
            .where(MotionVote.motion_id == motion.id)
            .order_by(Account.display_name, MotionVote.account_id)
        )
    ).all()
    counts = {"yes": 0, "no": 0, "abstain": 0}
    for row in rows:
        counts[row.choice] += 1
    members = (
        motion.member_count if motion.member_count is not None else len(await _member_ids(session, motion))
    )
    present = sum(counts.values())
    needed = math.ceil(Decimal(members) * motion.quorum) if members else 1
    quorum_met = present >= needed and present > 0
    yes, no = counts["yes"], counts["no"]
    if motion.majority == "simple":
        passes = yes > no
    elif motion.majority == "absolute":
        passes = yes * 2 > present
    else:
        passes = yes + no > 0 and yes * 3 >= (yes + no) * 2
    outcome = "no_quorum" if not quorum_met else ("adopted" if passes else "rejected")
    return {
        "members": members,
        "quorum_needed": needed,
        "present": present,
        "counts": counts,
        "quorum_met": quorum_met,
        "outcome": outcome,
        "roll_call": [
            {"account_id": r.account_id, "name": r.display_name, "choice": r.choice, "cast_at": r.cast_at}
            for r in rows
        ],
    }


async def render_motion(session: AsyncSession, motion: Motion) -> dict[str, Any]:
    tallied = await tally_motion(session, motion)
    return {
        "id": motion.id,
        "area_id": motion.area_id,
        "round_id": motion.round_id,
        "title": motion.title,
        "description": motion.description,
        "status": motion.status,
        "quorum": str(motion.quorum),
        "majority": motion.majority,
        "closes_at": motion.closes_at,
        "opened_at": motion.opened_at,
        "closed_at": motion.closed_at,
        "outcome": motion.outcome if motion.status == "closed" else None,
        "provisional_outcome": tallied["outcome"] if motion.status == "open" else None,
        **{
            k: tallied[k]
            for k in ("members", "quorum_needed", "present", "counts", "quorum_met", "roll_call")
        },
    }


async def close_due_motions(session: AsyncSession, now: datetime) -> list[int]:
    motions = list(
        await session.scalars(
            select(Motion)
            .where(Motion.status == "open", Motion.closes_at <= now)
            .with_for_update(skip_locked=True)
        )
    )
    for motion in motions:
        await change_motion_status(session, motion=motion, to="closed", actor=None, now=now)
    return [m.id for m in motions]
