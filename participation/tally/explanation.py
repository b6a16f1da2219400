"""Why each project was or was not funded.

A tally that only lists winners invites distrust; residents (and the council) ask "why not mine?". Every
project therefore gets one :class:`ProjectExplanation` with a sentence for people and the numbers behind it
for anyone who wants to check: the greedy rank and the budget left when its turn came, or the Method of
Equal Shares round, the price each supporter paid and, for a project that was not bought, how much money its
supporters still had compared with its cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from participation.tally.model import Number


def money(value: float) -> str:
    """Format an amount for a sentence: whole units when integral, two decimals otherwise."""
    rounded = round(value, 2)
    if float(rounded).is_integer():
        return f"{int(rounded)}"
    return f"{rounded:.2f}"


def json_number(value: float) -> Number:
    """Return an ``int`` for integral amounts so JSON shows ``450000`` rather than ``450000.0``."""
    if float(value).is_integer() and abs(value) < 2**53:
        return int(value)
    return float(value)


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    """What the supporters of a project bought by MES paid, in aggregate.

    The per-voter figures are available from :meth:`TallyResult.payments`; this summary keeps the JSON
    compact (Łódź has projects with 17 000 supporters).
    """

    supporters: int
    full_share_payers: int
    """Supporters who paid the full price per supporter (``max_payment``)."""
    partial_payers: int
    """Supporters who could not pay the full price and paid all the money they had left."""
    max_payment: float
    min_payment: float
    total: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "supporters": self.supporters,
            "full_share_payers": self.full_share_payers,
            "partial_payers": self.partial_payers,
            "max_payment": round(self.max_payment, 6),
            "min_payment": round(self.min_payment, 6),
            "total": round(self.total, 6),
        }


@dataclass(frozen=True, slots=True)
class ProjectExplanation:
    """The fate of one project; fields that do not apply to the stage that decided it are ``None``."""

    project_id: str
    cost: Number
    votes: int
    score: float
    selected: bool
    stage: str
    """What decided it: ``greedy``, ``mes``, ``completion`` (greedy fill after MES), ``threshold``,
    ``comparison`` (switched by the comparison step) or ``no-support``."""
    reason: str
    rank: int | None = None
    remaining_before: float | None = None
    round: int | None = None
    price_per_utility: float | None = None
    """MES ``rho``: money paid per unit of utility (per unit of cost for approval ballots)."""
    payments: PaymentSummary | None = None
    supporters_budget: float | None = None
    """MES, not bought: what its supporters had left in total when it dropped out."""
    dropped_in_round: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["payments"] = None if self.payments is None else self.payments.to_dict()
        data["cost"] = json_number(self.cost)
        data["score"] = json_number(self.score)
        for key in ("remaining_before", "supporters_budget"):
            if data[key] is not None:
                data[key] = round(float(data[key]), 6)
        return {key: value for key, value in data.items() if value is not None}
