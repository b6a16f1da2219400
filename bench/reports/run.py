"""Side-by-side load test: civicloop's report endpoints against a raw-psycopg baseline issuing the same SQL.

Run from the repository root, after ``bench/reports/load.py``:

    .venv/bin/python bench/reports/run.py
    .venv/bin/python bench/reports/run.py --rounds 5 --duration 15 --scenarios create list-near

Both apps (``ours_app.py``: ``api.app.create_app``; ``baseline_app.py``: FastAPI + psycopg_pool) run at the
same time under uvicorn with the same settings (1 worker, uvloop, httptools, no access log, pool of
``--pool-size`` connections), on 127.0.0.1 only. ``wrk`` (1 thread, ``--connections`` connections) drives
one of them at a time; every round runs each scenario against both, alternating which goes first, so
machine noise lands on both sides. After a warm-up, each (round, scenario, side) runs ``--duration``
seconds; the table reports the median over rounds of requests/s, p50 and p99 latency, and the server's CPU
time per request (user + system of the uvicorn process, from /proc). ``ratio`` = ours / baseline req/s,
the median of the per-round ratios, with its range.

Scenarios:
    create     POST /reports with a bearer token, at random points inside Amsterdam's districts
    list-near  GET /reports?near=lon,lat&radius=500&limit=50 at random points (public, no token)
    list       GET /reports?category=pothole&limit=50, the first page (public)
    duplicates GET /reports/duplicates?category=pothole&longitude=…&latitude=… (50 m, public)

Everything is bounded: each wrk run stops after its duration (+ a timeout), and both servers are
terminated at the end, also on Ctrl-C or an error. Rows created by the ``create`` scenario are deleted at
the start of the next run (and by ``load.py``), so every run starts from the loaded data set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench._servers import UvicornServer  # noqa: E402

STATE_FILE = ROOT / ".civicloop" / "bench" / "reports.json"
RESULTS_DIR = ROOT / ".civicloop" / "bench"
SCENARIOS = ("create", "list-near", "list", "duplicates")
SIDES = ("ours", "baseline")

LUA_COMMON = r"""
local points = {POINTS}
local counter = 0
math.randomseed(SEED)

local function pick()
  return points[math.random(#points)]
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"errors_status":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
"""

LUA_REQUEST = {
    "create": r"""
local categories = {"pothole", "dumped-waste", "pothole", "street-light"}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer TOKEN"}
request = function()
  counter = counter + 1
  local p = pick()
  local body = string.format(
    '{"category":"%s","location":{"type":"Point","coordinates":[%.7f,%.7f]},' ..
    '"description":"Bench: losliggende stoeptegel bij nummer %d"}',
    categories[1 + counter % #categories], p[1], p[2], counter)
  return wrk.format("POST", "/api/v1/jurisdictions/SLUG/reports", headers, body)
end
""",
    "list-near": r"""
request = function()
  local p = pick()
  return wrk.format("GET", string.format(
    "/api/v1/jurisdictions/SLUG/reports?near=%.6f,%.6f&radius=500&limit=50", p[1], p[2]))
end
""",
    "list": r"""
request = function()
  return wrk.format("GET", "/api/v1/jurisdictions/SLUG/reports?category=pothole&limit=50")
end
""",
    "duplicates": r"""
request = function()
  local p = pick()
  return wrk.format("GET", string.format(
    "/api/v1/jurisdictions/SLUG/reports/duplicates?category=pothole&longitude=%.6f&latitude=%.6f",
    p[1], p[2]))
end
""",
}


def _sync_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _prepare_database(state: dict[str, Any], count: int) -> list[tuple[float, float]]:
    """Drop rows of earlier runs; draw ``count`` fixed points inside the districts (seeded)."""
    import psycopg

    sys.path.insert(0, str(HERE))
    # A sibling script, found through the sys.path entry above; mypy knows it only as bench.reports.load.
    from load import remove_benchmark_rows  # type: ignore[import-not-found]  # see the line above

    with psycopg.connect(_sync_url(state["database_url"]), autocommit=True) as connection:
        deleted = remove_benchmark_rows(connection, state["max_id"])
        if deleted:
            connection.execute(
                "VACUUM ANALYZE reports, report_status_changes, report_followers, outbox_events"
            )
            print(f"removed {deleted:,} reports created by an earlier run", flush=True)
        rows = connection.execute(
            """
            SELECT ST_X(d.geom), ST_Y(d.geom)
            FROM ST_Dump(ST_GeneratePoints(
                (SELECT ST_Union(geom) FROM areas a JOIN jurisdictions j ON j.id = a.jurisdiction_id
                 WHERE j.slug = %s AND a.level = 'district'), %s, 7)) AS d
            """,
            (state["jurisdiction"], count),
        ).fetchall()
        total = connection.execute("SELECT count(*) FROM reports").fetchone()[0]
    print(f"database: {total:,} reports")
    return [(float(x), float(y)) for x, y in rows]


def _write_scripts(
    directory: Path, state: dict[str, Any], points: list[tuple[float, float]]
) -> dict[str, Path]:
    lua_points = "{" + ",".join(f"{{{x:.7f},{y:.7f}}}" for x, y in points) + "}"
    scripts = {}
    for index, (scenario, body) in enumerate(LUA_REQUEST.items()):
        text = (LUA_COMMON + body).replace("{POINTS}", lua_points).replace("SEED", str(1000 + index))
        text = text.replace("TOKEN", state["token"]).replace("SLUG", state["jurisdiction"])
        path = directory / f"{scenario}.lua"
        path.write_text(text)
        scripts[scenario] = path
    return scripts


def start_server(
    side: str, module: str, port: int, state: dict[str, Any], pool_size: int, log: Path
) -> UvicornServer:
    """Ours on SQLAlchemy's URL, the baseline on psycopg's, the same pool size."""
    environment = {
        **os.environ,
        "BENCH_DATABASE_URL": state["database_url"] if side == "ours" else _sync_url(state["database_url"]),
        "BENCH_POOL_SIZE": str(pool_size),
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("DATABASE_URL", None)
    environment["BENCH_PAUSES"] = str(log.with_suffix(".gc.json"))  # see pauses.py
    return UvicornServer(
        side, f"{module}:served", app_dir=HERE, port=port, environment=environment, log=log, cwd=ROOT
    )


def _gc_pauses(servers: dict[str, UvicornServer]) -> dict[str, Any]:
    """What ``pauses.py`` wrote in each server when it stopped (nothing if it died)."""
    found = {}
    for side, server in servers.items():
        path = Path(server.log.name).with_suffix(".gc.json")
        found[side] = json.loads(path.read_text()) if path.is_file() else {}
    return found


def _wrk(url: str, script: Path, *, duration: int, connections: int) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise RuntimeError(f"wrk gave no summary:\n{result.stdout}\n{result.stderr}")


def _request(
    url: str, *, method: str = "GET", body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _item_ids(body: Any) -> list[int]:
    return [item["id"] for item in (body["items"] if isinstance(body, dict) else body)]


def _check_same_answers(
    servers: dict[str, UvicornServer], state: dict[str, Any], point: tuple[float, float]
) -> None:
    """Both sides must give the same answer, or the comparison means nothing."""
    slug, (lon, lat) = state["jurisdiction"], point
    base = f"/api/v1/jurisdictions/{slug}/reports"
    gets = {
        "list-near": f"{base}?near={lon:.6f},{lat:.6f}&radius=500&limit=50",
        "list": f"{base}?category=pothole&limit=50",
        "duplicates": f"{base}/duplicates?category=pothole&longitude={lon:.6f}&latitude={lat:.6f}",
    }
    for scenario, path in gets.items():
        answers = {side: _request(server.url + path) for side, server in servers.items()}
        (status_ours, body_ours), (status_base, body_base) = answers["ours"], answers["baseline"]
        if status_ours != 200 or status_base != 200 or _item_ids(body_ours) != _item_ids(body_base):
            raise RuntimeError(f"{scenario}: the two apps disagree: {answers}")
        print(f"  {scenario:10} same answer on both sides ({len(_item_ids(body_ours))} items)")
    body = {
        "category": "pothole",
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "description": "Bench: answer check",
    }
    created = {
        side: _request(server.url + base, method="POST", body=body, token=state["token"])
        for side, server in servers.items()
    }
    shapes = {side: (status, sorted(answer)) for side, (status, answer) in created.items()}
    if shapes["ours"] != shapes["baseline"] or shapes["ours"][0] != 201:
        raise RuntimeError(f"create: the two apps disagree: {shapes}")
    print(f"  {'create':10} same status and fields on both sides ({len(shapes['ours'][1])} fields)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=12, help="seconds per (round, scenario, side)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per (scenario, side) before round 1")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--ports", nargs=2, type=int, default=(8101, 8102), metavar=("OURS", "BASELINE"))
    arguments = parser.parse_args()
    if arguments.duration > 120 or arguments.rounds > 10:
        parser.error("keep runs bounded: --duration <= 120 and --rounds <= 10")
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (Debian/Ubuntu)", file=sys.stderr)
        return 2
    if not STATE_FILE.is_file():
        print(f"{STATE_FILE} is missing: run bench/reports/load.py first", file=sys.stderr)
        return 2
    state = json.loads(STATE_FILE.read_text())
    points = _prepare_database(state, 2000)

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(
        f"wrk -t1 -c{arguments.connections}, {arguments.rounds} rounds x {arguments.duration} s, "
        f"warm-up {arguments.warmup} s, pool {arguments.pool_size}"
    )
    pauses: dict[str, Any] = {}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        s: {side: [] for side in SIDES} for s in arguments.scenarios
    }
    with tempfile.TemporaryDirectory(prefix="civicloop-bench-") as temporary:
        scripts = _write_scripts(Path(temporary), state, points)
        servers: dict[str, UvicornServer] = {}
        try:
            for side, module, port in (
                ("ours", "ours_app", arguments.ports[0]),
                ("baseline", "baseline_app", arguments.ports[1]),
            ):
                servers[side] = start_server(
                    side, module, port, state, arguments.pool_size, Path(temporary) / f"{side}.log"
                )
            for server in servers.values():
                server.wait_ready()
            print(
                f"servers: ours pid {servers['ours'].process.pid},"
                f" baseline pid {servers['baseline'].process.pid}"
            )
            _check_same_answers(servers, state, points[0])
            for scenario in arguments.scenarios:
                for side in SIDES:
                    _wrk(
                        servers[side].url,
                        scripts[scenario],
                        duration=arguments.warmup,
                        connections=arguments.connections,
                    )
            for round_number in range(arguments.rounds):
                for scenario in arguments.scenarios:
                    order = SIDES if round_number % 2 == 0 else tuple(reversed(SIDES))
                    for side in order:
                        server = servers[side]
                        cpu_before = server.cpu_seconds()
                        run = _wrk(
                            server.url,
                            scripts[scenario],
                            duration=arguments.duration,
                            connections=arguments.connections,
                        )
                        run["cpu_s"] = server.cpu_seconds() - cpu_before
                        run["rps"] = run["requests"] / (run["duration_us"] / 1e6)
                        results[scenario][side].append(run)
                        errors = sum(v for k, v in run.items() if k.startswith("errors_"))
                        print(
                            f"  round {round_number + 1} {scenario:10} {side:8} {run['rps']:8.1f} req/s"
                            f"  p50 {run['p50_us'] / 1000:6.1f} ms  p99 {run['p99_us'] / 1000:6.1f} ms"
                            + (f"  ERRORS {errors}" if errors else ""),
                            flush=True,
                        )
        finally:
            for server in servers.values():
                server.stop()
            for side, server in servers.items():
                log = Path(server.log.name).read_text()
                if log.strip():
                    print(f"--- {side} server log (tail) ---\n{log[-2000:]}")
            pauses = _gc_pauses(servers)

    print()
    header = (
        "| scenario | ours req/s | baseline req/s | ratio (range) | ours p50 / p99 ms | baseline p50 / p99 ms"
        " | CPU ms/req ours / baseline | errors |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for scenario, sides in results.items():
        ours, base = sides["ours"], sides["baseline"]
        ratios = [o["rps"] / b["rps"] for o, b in zip(ours, base, strict=True)]

        def median(runs: list[dict[str, Any]], key: str) -> float:
            return statistics.median(r[key] for r in runs)

        def cpu_per_request(runs: list[dict[str, Any]]) -> float:
            return 1000 * sum(r["cpu_s"] for r in runs) / max(sum(r["requests"] for r in runs), 1)

        errors = sum(v for r in ours + base for k, v in r.items() if k.startswith("errors_"))
        row = {
            "ours_rps": median(ours, "rps"),
            "baseline_rps": median(base, "rps"),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "ours_p50_ms": median(ours, "p50_us") / 1000,
            "ours_p99_ms": median(ours, "p99_us") / 1000,
            "baseline_p50_ms": median(base, "p50_us") / 1000,
            "baseline_p99_ms": median(base, "p99_us") / 1000,
            "ours_cpu_ms": cpu_per_request(ours),
            "baseline_cpu_ms": cpu_per_request(base),
            "errors": errors,
        }
        summary[scenario] = row
        print(
            f"| {scenario} | {row['ours_rps']:.0f} | {row['baseline_rps']:.0f} | "
            f"{row['ratio']:.2f}× ({row['ratio_min']:.2f}–{row['ratio_max']:.2f}) | "
            f"{row['ours_p50_ms']:.1f} / {row['ours_p99_ms']:.1f} | "
            f"{row['baseline_p50_ms']:.1f} / {row['baseline_p99_ms']:.1f} | "
            f"{row['ours_cpu_ms']:.2f} / {row['baseline_cpu_ms']:.2f} | {errors} |"
        )
    print("\ngarbage collector, whole run (collections, total / longest pause ms, pauses > 5 ms):")
    for side, figures in pauses.items():
        generations = figures.get("generations", {})
        described = "; ".join(
            f"gen{g}: {v['collections']}, {v['total_ms']:.0f} / {v['max_ms']:.1f}, {v['over_5ms']}"
            for g, v in sorted(generations.items())
        )
        print(
            f"  {side:8} {described or 'not recorded'} (frozen objects: {figures.get('frozen_objects', '?')})"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = RESULTS_DIR / f"reports-{stamp}.json"
    output.write_text(
        json.dumps(
            {"arguments": vars(arguments), "summary": summary, "runs": results, "gc": pauses}, indent=2
        )
    )
    print(f"\nraw results: {output}")
    below = [s for s, row in summary.items() if row["ratio"] < 0.9]
    if below:
        print(f"below issue 13's 0.9× goal: {', '.join(below)}")
    tails = [s for s, row in summary.items() if row["ours_p99_ms"] > 3 * row["ours_p50_ms"]]
    if tails:
        print(f"ours p99 above 3× p50 (issue 13's bar): {', '.join(tails)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
