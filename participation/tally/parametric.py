"""How far the add1 completion can raise the equal share before the MES outcome can change.

add1 reruns MES with the share ``t = B/n, B/n + 1, B/n + 2, ...``; on Assen 2024 that is 846 runs, and most of
them repeat the previous outcome. Along one run every quantity MES looks at is affine in ``t`` for as long as
the run makes the same decisions: a voter's remaining money is ``value + slope * (t - t0)``; a project's price
``rho`` is (cost minus what its poor supporters pay) over the utility of its rich supporters, affine while
the same supporters are poor; so is the money behind a project. The run's decisions are a finite list of
sign conditions on such affine functions (the winner of each round beats every other project, each winner's
poor supporters stay poor and its rich ones rich, each dropped project stays unaffordable), so the outcome is
the same for every share from ``t0`` up to the first point where one of them can flip.
:func:`mes_with_validity` runs MES at ``t0`` and also returns that point; add1 then jumps straight to the
first whole increment at or beyond it instead of recomputing identical outcomes.

Only the *outcome* has to stay the same, which keeps the conditions few:

* a project that is not the winner only needs a lower bound on its price to stay above the winner's, and any
  guess of who is poor gives a lower bound (``f(q) = sum(min(budget, q))`` is concave), as do the stale
  prices of the lazily skipped projects (money only shrinks during a run);
* a dropped project stays dropped: money only shrinks, so it can never be bought later in the same run.

Conditions are checked against a band around zero a little wider than MES's own tie tolerance, and anything
already inside it (a tie whose two sides move differently, a supporter paying exactly all they have) ends the
interval at ``t0`` itself, so the search falls back to the plain step of one unit. The tests compare the
outcome with the unit-step loop on random elections and on the real files.
"""

from __future__ import annotations

from participation.tally.equal_shares import compiled_mes
from participation.tally.profile import IntArray, Profile


def mes_with_validity(profile: Profile, share: float, *, rank: IntArray) -> tuple[list[int], float]:
    """Run MES with every voter starting at ``share``; return the outcome and the share where it may change.

    Makes exactly the decisions :func:`~participation.tally.equal_shares.run_mes` makes at the same share
    (the same compiled loop, with the conditions above tracked alongside).
    """
    numbers, _, count, valid_until = compiled_mes(profile, share, rank=rank, validity=True)
    return numbers[:count].tolist(), float(valid_until)
