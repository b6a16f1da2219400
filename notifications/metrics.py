"""Closing-the-loop metrics, computed from the records themselves on every request.

Nothing here is a stored counter: an input is a report row, a "first response" is the first status
change after submission, a resolution the first change to ``resolved``, "told the outcome" a
delivered message (any channel but webhooks, which go to systems, not people) of the report's
resolution, closure or merge, the satisfaction score the answers given. Counters drift when a code
path forgets to bump them; a query over the records cannot.

Definitions (per jurisdiction, optionally one area with its sub-areas and/or one category, over
reports *submitted* in ``[start, end)``):

- ``outcome_message_share``: inputs whose outcome (resolved, closed, merged) reached a person / inputs.
- ``median_hours_to_first_response`` / ``median_hours_to_resolution``: medians over the inputs that
  had one.
- ``deadline_compliance``: finished (resolved or closed) by ``due_at`` / inputs whose deadline passed
  or that are finished.
- ``satisfaction_score``: mean score (1-5) of the answers; ``fixed_share``: answers saying "fixed".
- ``reopen_rate``: resolved inputs that were reopened later / resolved inputs.

Votes in budget rounds and consultation responses are inputs too: see
:func:`participation_loop_metrics` (their outcome is the results / "you said, we did" message).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Periods are calendar weeks (ISO, "2026-W07") and months ("2026-02") in the jurisdiction's time zone.
_LOCAL_CREATED = "f.created_at AT TIME ZONE (SELECT timezone FROM jurisdictions WHERE id = :j)"
GROUPS = {
    "none": ("NULL::text", ""),
    "area": ("ar.name", "LEFT JOIN areas ar ON ar.id = f.area_id"),
    "category": ("c.code", "JOIN categories c ON c.id = f.category_id"),
    "week": (f"to_char(date_trunc('week', {_LOCAL_CREATED}), 'IYYY-\"W\"IW')", ""),
    "month": (f"to_char(date_trunc('month', {_LOCAL_CREATED}), 'YYYY-MM')", ""),
}

METRICS_SQL = """
WITH RECURSIVE scope AS (
    SELECT id FROM areas WHERE id = :area_id AND jurisdiction_id = :j
    UNION ALL SELECT a.id FROM areas a JOIN scope s ON a.parent_id = s.id
),
inputs AS (
    SELECT r.id, r.created_at, r.due_at, r.area_id, r.category_id
    FROM reports r
    WHERE r.jurisdiction_id = :j AND r.created_at >= :start AND r.created_at < :end
      AND (CAST(:area_id AS int) IS NULL OR r.area_id IN (SELECT id FROM scope))
      AND (CAST(:category AS text) IS NULL
           OR r.category_id = (SELECT id FROM categories WHERE jurisdiction_id = :j AND code = :category))
),
facts AS (
    SELECT i.*, ch.first_response_at, ch.resolved_at, ch.finished_at, ch.reopened_after_resolution,
           sat.answers, sat.score_sum, sat.fixed_answers,
           EXISTS (
               SELECT 1 FROM outbox_events e
               JOIN notification_deliveries d ON d.outbox_event_id = e.id
               WHERE e.aggregate_type = 'report' AND e.aggregate_id = i.id
                 AND d.status = 'delivered' AND d.channel IN ('email', 'push', 'inbox')
                 AND (e.topic = 'report.merged'
                      OR (e.topic = 'report.status_changed'
                          AND e.payload->>'to_status' IN ('resolved', 'closed')
                          AND e.payload->>'merged_into_id' IS NULL))
           ) AS outcome_told
    FROM inputs i
    CROSS JOIN LATERAL (
        SELECT min(c.created_at) FILTER (WHERE c.from_status IS NOT NULL) AS first_response_at,
               min(c.created_at) FILTER (WHERE c.to_status = 'resolved') AS resolved_at,
               min(c.created_at) FILTER (WHERE c.to_status IN ('resolved', 'closed')) AS finished_at,
               bool_or(c.to_status = 'reopened' AND c.from_status = 'resolved') AS reopened_after_resolution
        FROM report_status_changes c WHERE c.report_id = i.id
    ) ch
    CROSS JOIN LATERAL (
        SELECT count(*) AS answers, coalesce(sum(s.score), 0) AS score_sum,
               count(*) FILTER (WHERE s.fixed) AS fixed_answers
        FROM satisfaction_requests s WHERE s.report_id = i.id AND s.answered_at IS NOT NULL
    ) sat
)
SELECT {group_expression} AS "group",
       count(*) AS inputs,
       count(*) FILTER (WHERE f.outcome_told) AS outcome_messaged,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.first_response_at - f.created_at))
           / 3600.0 AS median_hours_to_first_response,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.resolved_at - f.created_at))
           / 3600.0 AS median_hours_to_resolution,
       count(*) FILTER (WHERE f.finished_at IS NOT NULL OR f.due_at < now()) AS deadline_due,
       count(*) FILTER (WHERE f.finished_at IS NOT NULL AND f.finished_at <= f.due_at) AS deadline_met,
       count(*) FILTER (WHERE f.resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE f.reopened_after_resolution) AS reopened,
       sum(f.answers) AS answers,
       sum(f.score_sum) AS score_sum,
       sum(f.fixed_answers) AS fixed_answers
FROM facts f
{group_join}
GROUP BY 1
ORDER BY 1 NULLS FIRST
"""


def _ratio(numerator: Any, denominator: Any) -> float | None:
    return round(float(numerator) / float(denominator), 4) if denominator else None


def _hours(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


async def loop_metrics(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    start: datetime,
    end: datetime,
    area_id: int | None = None,
    category: str | None = None,
    group_by: str = "none",
) -> list[dict[str, Any]]:
    group_expression, group_join = GROUPS[group_by]
    sql = text(METRICS_SQL.format(group_expression=group_expression, group_join=group_join))
    rows = await session.execute(
        sql, {"j": jurisdiction_id, "start": start, "end": end, "area_id": area_id, "category": category}
    )
    return [
        {
            "group": row.group,
            "inputs": row.inputs,
            "outcome_messaged": row.outcome_messaged,
            "outcome_message_share": _ratio(row.outcome_messaged, row.inputs),
            "median_hours_to_first_response": _hours(row.median_hours_to_first_response),
            "median_hours_to_resolution": _hours(row.median_hours_to_resolution),
            "deadline_due": row.deadline_due,
            "deadline_met": row.deadline_met,
            "deadline_compliance": _ratio(row.deadline_met, row.deadline_due),
            "satisfaction_answers": int(row.answers or 0),
            "satisfaction_score": _ratio(row.score_sum, row.answers),
            "fixed_share": _ratio(row.fixed_answers, row.answers),
            "resolved": row.resolved,
            "reopened": row.reopened,
            "reopen_rate": _ratio(row.reopened, row.resolved),
        }
        for row in rows
    ]


# ---------------------------------------------------------------------------------------------------
# Votes and consultation responses

# An input was told its outcome when a message of its round's outcome event (``:outcome``) reached its
# account on a channel that reaches a person (webhooks go to systems). Then count, per group.
_TOLD_AND_COUNT = """
facts AS (
    SELECT i.area_id, i.account_id, EXISTS (
        SELECT 1 FROM outbox_events e
        JOIN notification_deliveries d ON d.outbox_event_id = e.id
        WHERE e.jurisdiction_id = :j AND e.aggregate_type = :aggregate AND e.aggregate_id = i.round_id
          AND e.topic = :outcome AND d.account_id = i.account_id
          AND d.status = 'delivered' AND d.channel IN ('email', 'push', 'inbox')
    ) AS told
    FROM inputs i
)
SELECT {group_expression} AS "group",
       count(*) AS inputs,
       count(f.account_id) AS reachable,
       count(*) FILTER (WHERE f.told) AS outcome_messaged
FROM facts f
{group_join}
GROUP BY 1
ORDER BY 1 NULLS FIRST
"""

_SCOPE = """
WITH RECURSIVE scope AS (
    SELECT id FROM areas WHERE id = :area_id AND jurisdiction_id = :j
    UNION ALL SELECT a.id FROM areas a JOIN scope s ON a.parent_id = s.id
),"""

# kind: (inputs, aggregate type and topic of the outcome event)
PARTICIPATION_INPUTS: dict[str, tuple[str, str, str]] = {
    # A vote has no time of its own (docs/ballot-secrecy.md: a participation carries no timestamp), so
    # it belongs to the moment its round's voting closed: the phase change to results, or, for a round
    # the clock has not moved yet, the scheduled close. A round still open is in no period yet.
    "votes": (
        """
closed AS (
    SELECT r.id, r.area_id,
           coalesce((SELECT min(c.created_at) FROM budget_round_phase_changes c
                     WHERE c.round_id = r.id AND c.to_phase = 'results'),
                    r.voting_closes_at) AS closed_at
    FROM budget_rounds r
    WHERE r.jurisdiction_id = :j
      AND (CAST(:area_id AS int) IS NULL OR r.area_id IN (SELECT id FROM scope))
),
inputs AS (
    SELECT r.id AS round_id, r.area_id, p.account_id
    FROM closed r JOIN voter_participations p ON p.round_id = r.id
    WHERE r.closed_at >= :start AND r.closed_at < :end
),""",
        "budget_round",
        "round.results_published",
    ),
    # A response is dated by its last edit (``updated_at``): when the resident last gave their input.
    "consultation_responses": (
        """
inputs AS (
    SELECT cr.id AS round_id, cr.area_id, s.account_id
    FROM consultation_responses s
    JOIN consultation_rounds cr ON cr.id = s.round_id
    JOIN consultations c ON c.id = cr.consultation_id
    WHERE c.jurisdiction_id = :j AND s.updated_at >= :start AND s.updated_at < :end
      AND (CAST(:area_id AS int) IS NULL OR cr.area_id IN (SELECT id FROM scope))
),""",
        "consultation_round",
        "consultation.you_said_we_did",
    ),
}

PARTICIPATION_GROUPS = {
    "none": ("NULL::text", ""),
    "area": ("ar.name", "LEFT JOIN areas ar ON ar.id = f.area_id"),
}


async def participation_loop_metrics(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    start: datetime,
    end: datetime,
    area_id: int | None = None,
    group_by: str = "none",
) -> dict[str, list[dict[str, Any]]]:
    """Was the loop closed for budget-round votes and consultation responses?

    Counted from the records on every call, like :func:`loop_metrics`: an input is a
    ``voter_participations`` row (a vote; *who* voted, which is all the secret ballot lets anyone know)
    or a ``consultation_responses`` row, scoped by its round's area (with sub-areas). Its outcome message
    is a delivered ``round.results_published`` / ``consultation.you_said_we_did`` message to the input's
    account, on any channel that reaches a person. Votes cast with a letter's code or on paper have no
    account and can never be told: they count as inputs (so the share shows what the channel mix costs)
    and ``reachable`` says how many could have been.
    """
    group_expression, group_join = PARTICIPATION_GROUPS[group_by]
    tail = _TOLD_AND_COUNT.format(group_expression=group_expression, group_join=group_join)
    found: dict[str, list[dict[str, Any]]] = {}
    for kind, (inputs, aggregate, outcome) in PARTICIPATION_INPUTS.items():
        rows = await session.execute(
            text(_SCOPE + inputs + tail),
            {
                "j": jurisdiction_id,
                "start": start,
                "end": end,
                "area_id": area_id,
                "aggregate": aggregate,
                "outcome": outcome,
            },
        )
        found[kind] = [
            {
                "group": row.group,
                "inputs": row.inputs,
                "reachable": row.reachable,
                "outcome_messaged": row.outcome_messaged,
                "outcome_message_share": _ratio(row.outcome_messaged, row.inputs),
                "reachable_outcome_share": _ratio(row.outcome_messaged, row.reachable),
            }
            for row in rows
        ]
    return found
