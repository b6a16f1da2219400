"""The report life-cycle as data: which status may follow which, checked in one place."""

from __future__ import annotations

from enum import StrEnum

from geo.errors import IllegalTransition, ReasonNotAllowed, ReasonRequired


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class CloseReason(StrEnum):
    """Why a report was closed without being resolved; residents are told which."""

    DUPLICATE = "duplicate"
    NOT_OURS = "not_ours"
    CANNOT_FIX = "cannot_fix"
    NO_ACTION_NEEDED = "no_action_needed"
    SPAM = "spam"
    OTHER = "other"


_WORKING = (Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.ACCEPTED, Status.CLOSED}),
    Status.ACCEPTED: frozenset({*_WORKING, Status.RESOLVED, Status.CLOSED}),
    Status.SCHEDULED: frozenset({Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.SCHEDULED, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.ACCEPTED, *_WORKING, Status.RESOLVED, Status.CLOSED}),
}

OPEN_STATUSES: frozenset[Status] = frozenset(TRANSITIONS) - {Status.RESOLVED, Status.CLOSED}
"""Statuses in which a report still awaits work: duplicates are only suggested among these."""

FINAL_STATUSES: frozenset[Status] = frozenset({Status.RESOLVED, Status.CLOSED})


def check_transition(current: str, target: str, *, reason: str | None) -> None:
    """Raise unless ``current → target`` is allowed and carries the reason it needs."""
    source, destination = Status(current), Status(target)
    if destination not in TRANSITIONS[source]:
        raise IllegalTransition(
            f"a report cannot go from {source.value} to {destination.value}",
            current=source.value,
            allowed=sorted(s.value for s in TRANSITIONS[source]),
        )
    if destination is Status.CLOSED and reason is None:
        raise ReasonRequired(
            "closing a report without resolving it needs a reason",
            allowed=[r.value for r in CloseReason],
        )
    if destination is not Status.CLOSED and reason is not None:
        raise ReasonNotAllowed("only closing takes a reason")
