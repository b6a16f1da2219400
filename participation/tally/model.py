"""In-memory shapes of a participatory-budgeting election.

These are plain frozen dataclasses rather than ORM rows so that the tally can run on a pabulib file, on
ballots loaded from PostgreSQL, or on a hand-written test case alike, without a database or an HTTP layer
in sight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Number = int | float
"""Money and points: kept as ``int`` when integral so budget checks stay exact, ``float`` otherwise."""


class VoteType(StrEnum):
    """Ballot formats named as pabulib names them in ``META vote_type``."""

    APPROVAL = "approval"
    CHOOSE_ONE = "choose-1"
    KNAPSACK = "knapsack"
    CUMULATIVE = "cumulative"
    SCORING = "scoring"
    ORDINAL = "ordinal"

    @property
    def uses_points(self) -> bool:
        """Whether ballots carry a ``points`` column that the rules use as utilities."""
        return self in (VoteType.CUMULATIVE, VoteType.SCORING)


VOTE_TYPE_ALIASES: Mapping[str, VoteType] = {
    "approval": VoteType.APPROVAL,
    "choose-1": VoteType.CHOOSE_ONE,
    "knapsack": VoteType.KNAPSACK,
    "knapsack-approval": VoteType.KNAPSACK,
    "cumulative": VoteType.CUMULATIVE,
    "scoring": VoteType.SCORING,
    "ordinal": VoteType.ORDINAL,
    "ranked": VoteType.ORDINAL,
}


@dataclass(frozen=True, slots=True)
class Project:
    """A proposal on the ballot; ``project_id`` keeps the file's spelling (``"L010"``, ``"43228"``)."""

    project_id: str
    cost: Number
    name: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Every other PROJECTS column (``votes``, ``selected``, ``category``, ...), verbatim, for round-trips."""

    @property
    def officially_selected(self) -> bool | None:
        """The city's outcome from the ``selected`` column, or ``None`` when the file does not say."""
        raw = self.fields.get("selected")
        if raw is None or raw.strip() == "":
            return None
        return raw.strip() not in ("0", "false", "False", "no")


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter's ballot.

    ``projects`` is in the voter's order (meaningful for ordinal ballots); ``points`` is parallel to it for
    cumulative and scoring ballots and ``None`` otherwise.
    """

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[Number, ...] | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    """Other VOTES columns (age, sex, voting_method, ...); dropped on anonymised export."""


@dataclass(frozen=True, slots=True)
class Instance:
    """What is being decided: the budget, the projects and how people vote, independent of the ballots."""

    budget: Number
    projects: Mapping[str, Project]
    """Projects by id, in the file's (or the database's) order."""
    vote_type: VoteType = VoteType.APPROVAL
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def rule(self) -> str | None:
        """The rule the organiser declared (pabulib ``META rule``), if any."""
        return self.meta.get("rule")

    @property
    def min_project_score_threshold(self) -> float | None:
        """The score a project needs to be eligible under ``greedy-threshold``."""
        raw = self.meta.get("min_project_score_threshold")
        return None if raw is None or raw.strip() == "" else float(raw.replace(",", "."))
