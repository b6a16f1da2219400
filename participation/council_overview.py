"""What a council member's app shows: the motions of their council, and the budget rounds and
consultation rounds of their areas with how many took part and how many heard the outcome.

"My areas" are the areas of the member's ``council_member`` grants with every area inside them (a
district's council sees its neighbourhoods' rounds); an administrator sees the whole jurisdiction. A
motion belongs to the council of exactly its own area, as voting does (``council_votes``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity, RoleGrant
from geo.models import Area
from participation.models import Motion, MotionVote

_STATUS_ORDER = {"open": 0, "draft": 1, "closed": 2}


async def my_motions(
    session: AsyncSession, *, jurisdiction_id: int, identity: Identity, status: str | None = None
) -> list[dict[str, Any]]:
    """Open motions first (soonest deadline first), then drafts, then closed ones (newest first)."""
    admin = identity.is_admin_of(jurisdiction_id)
    statement = (
        select(Motion, Area.name)
        .join(Area, Area.id == Motion.area_id)
        .where(Motion.jurisdiction_id == jurisdiction_id)
    )
    if not admin:
        statement = statement.where(Motion.area_id.in_(sorted(identity.council_area_ids)))
    if status is not None:
        statement = statement.where(Motion.status == status)
    rows = (await session.execute(statement)).all()
    ids = [motion.id for motion, _ in rows]
    present: dict[int, int] = {}
    mine: dict[int, str] = {}
    members_now: dict[int, int] = {}
    if ids:
        present = dict(
            (
                await session.execute(
                    select(MotionVote.motion_id, func.count())
                    .where(MotionVote.motion_id.in_(ids))
                    .group_by(MotionVote.motion_id)
                )
            ).all()
        )
        mine = dict(
            (
                await session.execute(
                    select(MotionVote.motion_id, MotionVote.choice).where(
                        MotionVote.motion_id.in_(ids), MotionVote.account_id == identity.account_id
                    )
                )
            ).all()
        )
        # A draft has no fixed membership yet: today's members of its area.
        draft_areas = sorted({m.area_id for m, _ in rows if m.member_count is None})
        if draft_areas:
            counted = (
                await session.execute(
                    select(RoleGrant.area_id, func.count(func.distinct(RoleGrant.account_id)))
                    .where(
                        RoleGrant.jurisdiction_id == jurisdiction_id,
                        RoleGrant.role == "council_member",
                        RoleGrant.area_id.in_(draft_areas),
                    )
                    .group_by(RoleGrant.area_id)
                )
            ).all()
            # grants without an area never match the IN list above
            members_now = {area_id: count for area_id, count in counted if area_id is not None}
    now = datetime.now(UTC)
    found: list[dict[str, Any]] = []
    for motion, area_name in rows:
        member = motion.area_id in identity.council_area_ids
        voting = motion.status == "open" and (motion.closes_at is None or motion.closes_at > now)
        found.append(
            {
                "id": motion.id,
                "area_id": motion.area_id,
                "area_name": area_name,
                "title": motion.title,
                "description": motion.description,
                "status": motion.status,
                "quorum": str(motion.quorum),
                "majority": motion.majority,
                "closes_at": motion.closes_at,
                "opened_at": motion.opened_at,
                "closed_at": motion.closed_at,
                "outcome": motion.outcome if motion.status == "closed" else None,
                "members": motion.member_count
                if motion.member_count is not None
                else members_now.get(motion.area_id, 0),
                "present": present.get(motion.id, 0),
                "my_choice": mine.get(motion.id),
                "may_vote": member and voting,
                "may_manage": admin or member,
            }
        )
    far = datetime.max.replace(tzinfo=UTC)
    found.sort(
        key=lambda m: (
            _STATUS_ORDER[m["status"]],
            (m["closes_at"] or far).timestamp() if m["status"] == "open" else 0,
            -(m["closed_at"] or m["opened_at"] or now).timestamp() if m["status"] == "closed" else 0,
            -m["id"],
        )
    )
    return found


# Areas of the caller's grants and every area below them.
_SCOPE = """
WITH RECURSIVE scope AS (
    SELECT id FROM areas WHERE jurisdiction_id = :j AND id = ANY(:roots)
    UNION SELECT a.id FROM areas a JOIN scope s ON a.parent_id = s.id
)"""

# An input was told its outcome when a message of the round's outcome event reached its account on a
# channel that reaches a person: the same rule as the loop metrics (notifications/metrics.py).
_TOLD = """
(SELECT count(*) FROM {inputs} i
 WHERE i.round_id = r.id AND i.account_id IS NOT NULL AND EXISTS (
     SELECT 1 FROM outbox_events e JOIN notification_deliveries d ON d.outbox_event_id = e.id
     WHERE e.jurisdiction_id = :j AND e.aggregate_type = '{aggregate}' AND e.aggregate_id = r.id
       AND e.topic = '{topic}' AND d.account_id = i.account_id
       AND d.status = 'delivered' AND d.channel IN ('email', 'push', 'inbox')))"""

ROUNDS_SQL = (
    _SCOPE
    + """
SELECT r.id, r.title, r.area_id, a.name AS area_name, r.phase, r.budget, r.currency,
       r.voting_opens_at, r.voting_closes_at,
       (SELECT count(*) FROM budget_proposals p WHERE p.round_id = r.id) AS proposals,
       (SELECT count(*) FROM voter_participations v WHERE v.round_id = r.id) AS voters,
       (SELECT count(*) FROM voter_participations v WHERE v.round_id = r.id AND v.account_id IS NOT NULL)
           AS reachable,
       {told} AS told
FROM budget_rounds r JOIN areas a ON a.id = r.area_id
WHERE r.jurisdiction_id = :j AND (:everywhere OR r.area_id IN (SELECT id FROM scope))
ORDER BY r.id DESC
""".replace(
        "{told}",
        _TOLD.format(
            inputs="voter_participations", aggregate="budget_round", topic="round.results_published"
        ),
    )
)

CONSULTATION_ROUNDS_SQL = (
    _SCOPE
    + """
SELECT r.id, r.title, c.id AS consultation_id, c.title AS consultation_title, r.area_id,
       a.name AS area_name, r.status, r.opens_at, r.closes_at,
       r.you_said_we_did IS NOT NULL AS you_said_we_did_published,
       (SELECT count(*) FROM consultation_responses s WHERE s.round_id = r.id) AS responses,
       {told} AS told
FROM consultation_rounds r
JOIN consultations c ON c.id = r.consultation_id
JOIN areas a ON a.id = r.area_id
WHERE c.jurisdiction_id = :j AND (:everywhere OR r.area_id IN (SELECT id FROM scope))
ORDER BY r.id DESC
""".replace(
        "{told}",
        _TOLD.format(
            inputs="consultation_responses",
            aggregate="consultation_round",
            topic="consultation.you_said_we_did",
        ),
    )
)


def _share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


async def participation_overview(
    session: AsyncSession, *, jurisdiction_id: int, roots: list[int] | None
) -> dict[str, Any]:
    """Budget rounds and consultation rounds in ``roots`` and below (None: the whole jurisdiction)."""
    params = {"j": jurisdiction_id, "roots": roots or [], "everywhere": roots is None}
    rounds = (await session.execute(text(ROUNDS_SQL), params)).all()
    consultation_rounds = (await session.execute(text(CONSULTATION_ROUNDS_SQL), params)).all()
    return {
        "budget_rounds": [
            {
                **row._asdict(),
                "budget": str(row.budget),
                "told_share": _share(row.told, row.voters),
            }
            for row in rounds
        ],
        "consultation_rounds": [
            {**row._asdict(), "told_share": _share(row.told, row.responses)} for row in consultation_rounds
        ],
    }
