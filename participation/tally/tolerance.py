"""The one tolerance of the Method of Equal Shares, shared by the rule and its compiled loops.

Two prices within a relative ``TOLERANCE`` are a tie, and supporters who hold a project's cost up to it can
afford it (:mod:`participation.tally.equal_shares` explains why); :mod:`participation.tally.kernels`
compiles it in. It lives here, apart from both, so neither has to import the other for it.
"""

TOLERANCE = 1e-9
