"""Side-by-side timing of civicloop's tally engine and pabutools on the same pabulib files and rules.

Run from the repository root:

    .venv/bin/python bench/tally/run.py                     # all files in ../shared/data/pabulib
    .venv/bin/python bench/tally/run.py --rules mes-add1 --files ../shared/data/pabulib/Poland_Lodz_2022.pb

Both sides start from an already-parsed file (parsing is timed separately) and run the same rule: greedy by
votes = pabutools ``greedy_utilitarian_welfare`` with ``Cost_Sat``; mes = ``method_of_equal_shares`` with
``Cost_Sat``; mes-add1 = the same with ``voter_budget_increment=1`` (our ``completion="add1"``,
``add1_stop="exhaustive"``). Our time includes building the numeric profile from the ballots, and is the
best of ``--repeat`` runs; pabutools runs once (it takes up to minutes). The outcomes are compared too: a
faster wrong answer would not count.

Times are CPU seconds of this process by default (``--clock cpu``): the development machine is shared, and
wall-clock times of a single-threaded computation swing several-fold with the neighbours' load while CPU
time does not. ``--clock wall`` reports elapsed time instead.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from participation.tally import parse_pabulib, tally  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pabulib"
RULES: dict[str, dict[str, Any]] = {
    "greedy": {"rule": "greedy"},
    "mes": {"rule": "mes"},
    "mes-add1": {"rule": "mes", "completion": "add1", "add1_stop": "exhaustive"},
}


CLOCK: Callable[[], float] = time.process_time


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = CLOCK()
    result = function()
    return CLOCK() - start, result


def _pabutools_rule(name: str, instance: Any, profile: Any) -> Callable[[], Any]:
    from pabutools.election import Cost_Sat
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

    if name == "greedy":
        return lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    if name == "mes":
        return lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    return lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", nargs="*", type=Path, help="pabulib files (default: the shared data set)")
    parser.add_argument("--rules", nargs="*", default=list(RULES), choices=list(RULES))
    parser.add_argument("--repeat", type=int, default=5, help="runs of our engine per case (best is kept)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="CPU time or elapsed time")
    arguments = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if arguments.clock == "cpu" else time.perf_counter
    files = arguments.files or sorted(DEFAULT_DATA.glob("*.pb"))
    if not files:
        print(f"no .pb files found (looked in {DEFAULT_DATA})", file=sys.stderr)
        return 2

    from pabutools.election import parse_pabulib as pabutools_parse

    print(f"python {platform.python_version()} on {platform.machine()}; {arguments.clock} time in seconds")
    header = (
        f"| {'file':38} | {'rule':8} | {'ours (s)':>9} | {'pabutools (s)':>13} | {'speed-up':>9} | same |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    all_same = True
    for path in files:
        parse_ours, election = _timed(lambda path=path: parse_pabulib(path))
        parse_theirs, (instance, profile) = _timed(lambda path=path: pabutools_parse(str(path)))
        row = f"| {path.stem[:38]:38} | {'parse':8} | {parse_ours:9.3f} | {parse_theirs:13.3f} |"
        print(f"{row} {parse_theirs / parse_ours:8.0f}× |  -   |", flush=True)
        for name in arguments.rules:
            options = RULES[name]
            ours = float("inf")
            result = None
            for _ in range(arguments.repeat):
                elapsed, result = _timed(
                    lambda options=options, election=election: tally(
                        election.instance, election.ballots, **options
                    )
                )
                ours = min(ours, elapsed)
            theirs, allocation = _timed(_pabutools_rule(name, instance, profile))
            assert result is not None
            same = sorted(result.selected) == sorted(project.name for project in allocation)
            all_same &= same
            row = f"| {path.stem[:38]:38} | {name:8} | {ours:9.4f} | {theirs:13.2f} |"
            print(f"{row} {theirs / ours:8.0f}× | {'yes' if same else 'NO':4} |", flush=True)
    return 0 if all_same else 1


if __name__ == "__main__":
    raise SystemExit(main())
