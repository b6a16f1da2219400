"""Upgrade of outbox payloads written by older versions, before events were typed (``core.events``).

The outbox of a running database may hold rows an older version wrote and no worker fanned out yet (a
worker stopped for an upgrade). They are read through :func:`upgrade` into the current shape, so the
typed handlers never see the old one. What older versions wrote, and what becomes of it:

- participation events naming one person as ``account_id`` instead of the list ``account_ids``: merged
  into ``account_ids``; ids that are not integers are dropped (they were ignored then too);
- round and consultation events without ``round_id``: the event's aggregate id (the round);
  ``project.progress`` without ``project_id``: the aggregate id (the project); without ``round_id`` it
  stays without (and without a link, as then);
- participation events without ``title`` (``ballot.received`` before the cast's statement read the
  round's title): the title of the aggregate, read here — the one read of participation's tables left in
  ``notifications``, for old rows only;
- ``consultation.you_said_we_did`` with ``message`` instead of ``summary``: the summary;
- ``funded_projects`` entries and ``actions`` of another shape than the current one: dropped (they were
  skipped or listed without a link);
- a payload that is not a JSON object: ``{"value": …}`` (the worker wraps it; no type accepts it, so the
  event gets its dead letter).

Rows of the current shape pass unchanged. Once no database of a version before typed events can hold an
unprocessed outbox row, this module can go (and with it the upgrade test in
``tests/notifications/test_legacy_payloads.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ROUND_TOPICS = frozenset(
    {"round.phase_changed", "round.voting_opened", "ballot.received", "round.results_published"}
)
CONSULTATION_TOPICS = frozenset(
    {"consultation.opened", "consultation.closed", "response.received", "consultation.you_said_we_did"}
)
PEOPLE_TOPICS = ROUND_TOPICS | CONSULTATION_TOPICS | {"project.progress", "proposal.reviewed"}

AGGREGATE_TITLE_SQL = {
    "budget_round": text("SELECT title FROM budget_rounds WHERE id = :id AND jurisdiction_id = :j"),
    "consultation_round": text(
        "SELECT r.title FROM consultation_rounds r JOIN consultations c ON c.id = r.consultation_id"
        " WHERE r.id = :id AND c.jurisdiction_id = :j"
    ),
}


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


async def upgrade(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    topic: str,
    aggregate_type: str,
    aggregate_id: int,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """``payload`` in the current shape of ``topic`` (a new dict when anything changed)."""
    if topic not in PEOPLE_TOPICS:
        return payload
    upgraded = dict(payload)
    ids = list(upgraded.get("account_ids") or [])
    if "account_id" in upgraded:
        ids.append(upgraded.pop("account_id"))
    upgraded["account_ids"] = sorted({i for i in ids if _is_id(i)})
    if topic in ROUND_TOPICS | CONSULTATION_TOPICS and not _is_id(upgraded.get("round_id")):
        upgraded["round_id"] = aggregate_id
    if topic == "project.progress":
        if not _is_id(upgraded.get("project_id")):
            upgraded["project_id"] = aggregate_id
        if not _is_id(upgraded.get("round_id")):
            upgraded.pop("round_id", None)
    if not upgraded.get("title"):
        sql = AGGREGATE_TITLE_SQL.get(aggregate_type)
        title = (
            await session.scalar(sql, {"id": aggregate_id, "j": jurisdiction_id}) if sql is not None else None
        )
        upgraded["title"] = title or ""
    if topic == "consultation.you_said_we_did" and upgraded.get("summary") is None:
        upgraded["summary"] = upgraded.get("message")
    if "funded_projects" in upgraded:
        upgraded["funded_projects"] = [
            p
            for p in upgraded["funded_projects"] or []
            if isinstance(p, dict) and _is_id(p.get("id")) and "title" in p
        ]
    if "actions" in upgraded:
        upgraded["actions"] = [a for a in upgraded["actions"] or [] if isinstance(a, str | dict)]
    return upgraded
