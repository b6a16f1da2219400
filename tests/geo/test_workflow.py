"""The transition table, every pair of statuses, and the reasons closing needs."""

from __future__ import annotations

import itertools

import pytest

from geo.errors import IllegalTransition, ReasonRequired
from geo.workflow import FINAL_STATUSES, OPEN_STATUSES, TRANSITIONS, CloseReason, Status, check_transition

# Written out independently of the table under test: the life-cycle the issue asks for.
ALLOWED = {
    ("submitted", "accepted"),
    ("submitted", "closed"),
    ("accepted", "scheduled"),
    ("accepted", "in_progress"),
    ("accepted", "on_hold"),
    ("accepted", "resolved"),
    ("accepted", "closed"),
    ("scheduled", "in_progress"),
    ("scheduled", "on_hold"),
    ("scheduled", "resolved"),
    ("scheduled", "closed"),
    ("in_progress", "scheduled"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("in_progress", "closed"),
    ("on_hold", "scheduled"),
    ("on_hold", "in_progress"),
    ("on_hold", "resolved"),
    ("on_hold", "closed"),
    ("resolved", "reopened"),
    ("closed", "reopened"),
    ("reopened", "accepted"),
    ("reopened", "scheduled"),
    ("reopened", "in_progress"),
    ("reopened", "on_hold"),
    ("reopened", "resolved"),
    ("reopened", "closed"),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status, Status)))
def test_every_pair_of_statuses(source: Status, target: Status) -> None:
    reason = CloseReason.CANNOT_FIX.value if target is Status.CLOSED else None
    if (source.value, target.value) in ALLOWED:
        check_transition(source.value, target.value, reason=reason)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_transition(source.value, target.value, reason=reason)
        assert caught.value.extra["allowed"] == sorted(t.value for t in TRANSITIONS[source])


def test_table_matches_the_written_life_cycle() -> None:
    assert {(s.value, t.value) for s, targets in TRANSITIONS.items() for t in targets} == ALLOWED


def test_closing_needs_a_reason_and_nothing_else_takes_one() -> None:
    with pytest.raises(ReasonRequired):
        check_transition("accepted", "closed", reason=None)
    with pytest.raises(ReasonRequired) as caught:
        check_transition("accepted", "resolved", reason="duplicate")
    assert caught.value.code == "reason-not-allowed"


def test_open_and_final_statuses_partition_the_life_cycle() -> None:
    assert OPEN_STATUSES | FINAL_STATUSES == set(Status)
    assert not OPEN_STATUSES & FINAL_STATUSES
    assert FINAL_STATUSES == {Status.RESOLVED, Status.CLOSED}
