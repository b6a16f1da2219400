"""Explicit, configurable tie-breaking.

A tie is rare on real data but not absent (two Amsterdam plans tied for the last slot), and whichever project
wins it is a political fact, so the order is a named, documented parameter rather than an accident of
iteration order.

The default, ``"id"``, is what pabutools does by default (``lexico_tie_breaking``: the project ids compared as
plain strings, so ``"10"`` comes before ``"9"``). Keeping that default is what lets the tests use pabutools as
the reference and get identical outcomes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from participation.tally.profile import IntArray, Profile

TIE_BREAKS: dict[str, str] = {
    "id": "project id, compared as text (pabutools' default lexicographic tie-breaking)",
    "cost": "cheaper project first, then more votes, then project id",
    "votes": "more votes (or points) first, then project id",
}
DEFAULT_TIE_BREAK = "id"


def _by_id(profile: Profile, j: int) -> tuple[object, ...]:
    return (profile.project_ids[j],)


def _by_cost(profile: Profile, j: int) -> tuple[object, ...]:
    return (profile.costs[j], -profile.scores[j], profile.project_ids[j])


def _by_votes(profile: Profile, j: int) -> tuple[object, ...]:
    return (-profile.scores[j], profile.project_ids[j])


_KEYS: dict[str, Callable[[Profile, int], tuple[object, ...]]] = {
    "id": _by_id,
    "cost": _by_cost,
    "votes": _by_votes,
}


def tie_break_rank(profile: Profile, tie_break: str) -> IntArray:
    """Return ``rank[j]``: project ``j``'s position in the tie-breaking order (0 wins every tie)."""
    if tie_break not in _KEYS:
        raise ValueError(f"unknown tie-break {tie_break!r}; choose one of {sorted(_KEYS)}")
    if tie_break == "id":
        return profile.id_rank
    key = _KEYS[tie_break]
    order = sorted(range(profile.num_projects), key=lambda j: key(profile, j))
    rank = [0] * profile.num_projects
    for position, j in enumerate(order):
        rank[j] = position
    return np.asarray(rank, dtype=np.int64)
