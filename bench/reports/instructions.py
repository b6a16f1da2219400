"""Instructions per request, ours and the baseline, counted by callgrind: a figure that does not move with
the machine's load.

Run from the repository root, after ``bench/reports/load.py`` (needs ``valgrind``: ``apt-get install
valgrind``):

    .venv/bin/python bench/reports/instructions.py
    .venv/bin/python bench/reports/instructions.py --scenarios duplicates create --requests 400

Why: ``run.py``'s throughput ratios move by ±0.05 from run to run on a 2-core machine that also runs
PostgreSQL and ``wrk``, which hides a change of a few per cent. Counting instructions does not: the same
code, data and environment give the same count to within half a per cent, whatever else the machine does.
What it counts is the Python side of a request (routing, dependencies, validation, our layers, psycopg's
client work), not PostgreSQL's, which the two sides share by sending the same statements.

How: each side's ASGI app (``ours_app.app`` and ``baseline_app.app``, as ``run.py`` serves them) is
started with its lifespan in a child process and called directly with ASGI messages, one request after
the other, for each scenario's request (the same as ``run.py``'s, at one fixed point). The child runs
under ``valgrind --tool=callgrind`` twice: with 0 and with ``--requests`` measured requests, each after
the same 50 warm-up requests; the difference of the two totals over ``--requests`` is the count per
request, start-up and warm-up cancelled out. The two children of one side run at the same time (2 cores);
a scenario takes about 1.5 minutes. ``create`` writes its reports into the bench database; ``run.py`` and
``load.py`` remove them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STATE_FILE = ROOT / ".civicloop" / "bench" / "reports.json"
SCENARIOS = ("create", "list-near", "list", "duplicates")
SIDES = ("ours", "baseline")
WARM_UP = 50
POINT = (4.8952, 52.3702)  # Dam square: inside Amsterdam's districts


def _request(scenario: str, slug: str, token: str) -> tuple[str, str, str, bytes, list[tuple[bytes, bytes]]]:
    """The scenario's request as ``run.py``'s wrk scripts send it, at one fixed point."""
    base = f"/api/v1/jurisdictions/{slug}"
    lon, lat = POINT
    headers = [(b"host", b"127.0.0.1")]
    if scenario == "create":
        body = json.dumps(
            {
                "category": "pothole",
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "description": "Bench: losliggende stoeptegel bij nummer 1",
            }
        ).encode()
        headers += [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        return "POST", f"{base}/reports", "", body, headers
    queries = {
        "list-near": (f"{base}/reports", f"near={lon:.6f},{lat:.6f}&radius=500&limit=50"),
        "list": (f"{base}/reports", "category=pothole&limit=50"),
        "duplicates": (
            f"{base}/reports/duplicates",
            f"category=pothole&longitude={lon:.6f}&latitude={lat:.6f}",
        ),
    }
    path, query = queries[scenario]
    return "GET", path, query, b"", headers


def child(side: str, scenario: str, requests: int) -> None:
    """Serve ``requests`` requests (after the warm-up) of one scenario with one side's app, in process."""
    state = json.loads(STATE_FILE.read_text())
    url = state["database_url"]
    os.environ["BENCH_DATABASE_URL"] = (
        url if side == "ours" else url.replace("postgresql+psycopg://", "postgresql://")
    )
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    if side == "ours":
        import ours_app  # type: ignore[import-not-found]  # a sibling script, on sys.path above

        app = ours_app.app
    else:
        import baseline_app  # type: ignore[import-not-found]  # a sibling script, on sys.path above

        app = baseline_app.app
    method, path, query, body, headers = _request(scenario, state["jurisdiction"], state["token"])

    async def call(lifespan_state: dict[str, Any]) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": dict(lifespan_state),
        }
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    async def serve() -> None:
        async with app.router.lifespan_context(app) as lifespan_state:
            for _ in range(WARM_UP):
                answered = await call(lifespan_state or {})
            if answered not in (200, 201):
                raise SystemExit(f"{side} answered {scenario} with {answered}")
            for _ in range(requests):
                await call(lifespan_state or {})

    asyncio.run(serve())


def _count(side: str, scenario: str, requests: int) -> subprocess.Popen[str]:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        side,
        scenario,
        str(requests),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _collected(process: subprocess.Popen[str]) -> int:
    output, _ = process.communicate(timeout=1800)
    found = re.search(r"Collected : (\d+)", output)
    if process.returncode != 0 or found is None:
        raise SystemExit(f"the child failed (exit {process.returncode}):\n{output[-3000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--requests", type=int, default=400, help="measured requests per side and scenario")
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "SCENARIO", "REQUESTS"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        side, scenario, requests = arguments.child
        child(side, scenario, int(requests))
        return 0
    if not STATE_FILE.exists():
        raise SystemExit(f"{STATE_FILE} is missing: run bench/reports/load.py first")
    print("| scenario | ours instructions/request | baseline instructions/request | ours / baseline |")
    print("|---|---:|---:|---:|")
    for scenario in arguments.scenarios:
        per_request = {}
        for side in SIDES:
            empty, measured = _count(side, scenario, 0), _count(side, scenario, arguments.requests)
            per_request[side] = (_collected(measured) - _collected(empty)) / arguments.requests
        ours, baseline = per_request["ours"], per_request["baseline"]
        print(f"| {scenario} | {ours:,.0f} | {baseline:,.0f} | {ours / baseline:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
