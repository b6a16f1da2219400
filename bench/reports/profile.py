"""Where a scenario's CPU goes: ``py-spy`` samples one side's uvicorn process under ``wrk``.

Run from the repository root, after ``bench/reports/load.py`` (needs ``pip install py-spy`` and ``wrk``;
py-spy reads the other process's memory, so run as root or with ptrace allowed):

    .venv/bin/python bench/reports/profile.py list
    .venv/bin/python bench/reports/profile.py duplicates --side baseline --duration 15 --connections 16

It starts one server as ``run.py`` does (uvicorn, uvloop, httptools, no access log), warms it up, then
records ``--duration`` seconds of ``wrk`` load with ``py-spy record --format raw`` (collapsed stacks,
``--rate`` samples per second, idle frames left out) and prints self time by package, the functions with
the most self time, and the share of samples under a few frames worth knowing about (the ORM session,
the dependency solver, response validation). The collapsed stacks stay in
``.civicloop/bench/profile-<scenario>-<side>-<timestamp>.txt`` for a flame graph
(``flamegraph.pl`` or speedscope.app read them as they are).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # type: ignore[import-not-found]  # a sibling script, found through sys.path above  # noqa: E402
    RESULTS_DIR,
    SCENARIOS,
    STATE_FILE,
    _prepare_database,
    _write_scripts,
    _wrk,
    start_server,
)

# Frames whose inclusive share says something about a layer (substring of the frame's text).
MARKERS = {
    "ORM session (sqlalchemy/orm)": "sqlalchemy/orm/",
    "SQLAlchemy engine and pool": "sqlalchemy/engine/",
    "greenlet bridge (await_only)": "greenlet_spawn",
    "dependency solving (solve_dependencies)": "solve_dependencies",
    "request validation (request_params_to_args)": "request_params_to_args",
    "response serialisation (serialize_response)": "serialize_response",
    "psycopg": "psycopg/",
}


def _package(frame: str) -> str:
    """``function (path/to/module.py:line)`` to a package name: the folder after site-packages, or ours."""
    if "(" not in frame:
        return frame
    location = frame.rsplit("(", 1)[1]
    if "site-packages/" in location:
        return location.split("site-packages/", 1)[1].split("/", 1)[0].split(".", 1)[0]
    for ours in ("api/", "geo/", "core/", "notifications/", "participation/"):
        if f"/{ours}" in location or location.startswith(ours):
            return "civicloop"
    if "python3" in location:
        return "stdlib"
    return location.split(":", 1)[0]


def summarise(collapsed: Path, top: int) -> None:
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    marked: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf = frames[-1]
        by_package[_package(leaf)] += count
        by_function[leaf] += count
        for name, needle in MARKERS.items():
            if any(needle in frame for frame in frames):
                marked[name] += count
    if not total:
        print("no samples (is py-spy allowed to read the process?)")
        return
    print(f"\n{total} samples\n\nself time by package:")
    for name, count in by_package.most_common(12):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nfunctions with the most self time:")
    for name, count in by_function.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name[:150]}")
    print("\ninclusive share of samples under:")
    for name in MARKERS:
        print(f"  {100 * marked[name] / total:5.1f}%  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--side", choices=("ours", "baseline"), default="ours")
    parser.add_argument("--duration", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--top", type=int, default=30)
    arguments = parser.parse_args()
    if arguments.duration > 120:
        parser.error("keep runs bounded: --duration <= 120")
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
            print(f"{tool} is missing", file=sys.stderr)
            return 2
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    state = json.loads(STATE_FILE.read_text())
    points = _prepare_database(state, 2000)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS_DIR / f"profile-{arguments.scenario}-{arguments.side}-{stamp}.txt"
    with tempfile.TemporaryDirectory(prefix="civicloop-profile-") as temporary:
        scripts = _write_scripts(Path(temporary), state, points)
        module = "ours_app" if arguments.side == "ours" else "baseline_app"
        server = start_server(
            arguments.side,
            module,
            arguments.port,
            state,
            arguments.pool_size,
            Path(temporary) / "server.log",
        )
        try:
            server.wait_ready()
            script = scripts[arguments.scenario]
            _wrk(server.url, script, duration=3, connections=arguments.connections)  # warm-up
            recorder = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(server.process.pid),
                    "--rate",
                    str(arguments.rate),
                    "--duration",
                    str(arguments.duration),
                    "--format",
                    "raw",
                    "--gil",
                    "--output",
                    str(output),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            cpu_before = server.cpu_seconds()
            run = _wrk(server.url, script, duration=arguments.duration, connections=arguments.connections)
            cpu = server.cpu_seconds() - cpu_before
            _, errors = recorder.communicate(timeout=arguments.duration + 60)
            if recorder.returncode:
                print(f"py-spy failed: {errors}", file=sys.stderr)
                return 1
        finally:
            server.stop()
    rps = run["requests"] / (run["duration_us"] / 1e6)
    print(
        f"{arguments.scenario} {arguments.side}: {rps:.0f} req/s, p50 {run['p50_us'] / 1000:.1f} ms,"
        f" p99 {run['p99_us'] / 1000:.1f} ms, CPU {1000 * cpu / max(run['requests'], 1):.2f} ms/req"
        " (py-spy's own cost included)"
    )
    summarise(output, arguments.top)
    print(f"\ncollapsed stacks: {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
