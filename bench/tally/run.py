"""Side-by-side timing of civicloop's tally engine and pabutools on the same pabulib files and rules.

Run from the repository root:

    .venv/bin/python bench/tally/run.py                     # all files in ../shared/data/pabulib
    .venv/bin/python bench/tally/run.py --rules mes-add1 --files ../shared/data/pabulib/Poland_Lodz_2022.pb

Both sides start from their own parsed form of the file (parsing is timed separately: ours builds the
numeric profile there, as pabutools builds its profile objects) and compute the same outcome: greedy by
votes = pabutools ``greedy_utilitarian_welfare`` with ``Cost_Sat``; mes = ``method_of_equal_shares`` with
``Cost_Sat``; mes-add1 = the same with ``voter_budget_increment=1`` (our ``completion="add1"``,
``add1_stop="exhaustive"``). pabutools returns the funded projects only; our explanation of every project is
written on demand and timed in its own column (outcome + explanations). The outcomes are compared too: a
faster wrong answer would not count.

Each side is timed the same way: a run shorter than ``--batch`` seconds is repeated in a batch that lasts at
least that long (so a 20-microsecond tally is not measured with the clock's own overhead), and the best of
``--repeat`` batches counts; a run longer than ``--once`` seconds (pabutools' minutes-long add1 runs) is
timed once. The first call of each side is a warm-up and is not counted (ours compiles or loads its
compiled MES then).

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
from functools import partial
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


def _best(function: Callable[[], Any], *, repeat: int, batch: float, once: float) -> tuple[float, Any]:
    """Seconds per call: best of ``repeat`` batches of at least ``batch`` seconds (see the module doc)."""
    first, result = _timed(function)  # warm-up
    if first > once:
        return _timed(function)[0], result
    first = min(first, _timed(function)[0])  # the warm-up may have compiled or loaded code
    calls = max(1, int(batch / max(first, 1e-7)))
    best = float("inf")
    for _ in range(repeat):
        start = CLOCK()
        for _ in range(calls):
            function()
        best = min(best, (CLOCK() - start) / calls)
    return best, result


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
    parser.add_argument("--repeat", type=int, default=5, help="batches per case (the best is kept)")
    parser.add_argument("--batch", type=float, default=0.2, help="least seconds per batch")
    parser.add_argument("--once", type=float, default=2.0, help="runs longer than this are timed once")
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
        f"| {'file':38} | {'rule':8} | {'ours (s)':>9} | {'+ explained':>11} | {'pabutools (s)':>13} "
        f"| {'speed-up':>9} | same |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    timing = {"repeat": arguments.repeat, "batch": arguments.batch, "once": arguments.once}
    all_same = True
    for path in files:
        parse_ours, election = _timed(partial(parse_pabulib, path))
        parse_theirs, (instance, profile) = _timed(partial(pabutools_parse, str(path)))
        row = f"| {path.stem[:38]:38} | {'parse':8} | {parse_ours:9.3f} | {'':11} | {parse_theirs:13.3f} |"
        print(f"{row} {parse_theirs / parse_ours:8.0f}× |  -   |", flush=True)
        for name in arguments.rules:
            options = RULES[name]

            def ours_outcome(options: dict[str, Any] = options, election: Any = election) -> Any:
                return tally(election.instance, election.ballots, profile=election.profile, **options)

            def ours_explained(options: dict[str, Any] = options, election: Any = election) -> Any:
                result = ours_outcome(options, election)
                assert result.explanations
                return result

            ours, result = _best(ours_outcome, **timing)
            explained, _ = _best(ours_explained, **timing)
            theirs, allocation = _best(_pabutools_rule(name, instance, profile), **timing)
            same = sorted(result.selected) == sorted(project.name for project in allocation)
            all_same &= same
            row = (
                f"| {path.stem[:38]:38} | {name:8} | {ours:9.6f} | {explained:11.6f} | {theirs:13.6f} "
                f"| {theirs / ours:8.0f}× | {'yes' if same else 'NO':4} |"
            )
            print(row, flush=True)
    return 0 if all_same else 1


if __name__ == "__main__":
    raise SystemExit(main())
