"""Ballots cast through the API under load: throughput with the one-vote guarantee, variants side by side.

    .venv/bin/python bench/participation/ballots.py
    .venv/bin/python bench/participation/ballots.py --variants group:1:0 window20:1:0.02 --rounds 3

What runs: a throw-away database ``civicloop_bench_ballots`` on the local cluster (migrated with alembic),
one budget round per measured segment (approval, 10 feasible projects, ``--codes`` voting codes), and one
uvicorn server per variant (``ballots_app.py`` = ``api.app.create_app``; uvloop, httptools, no access log).
``wrk -t1`` drives one server at a time with ``--connections`` connections: every request casts a ballot
with a letter's code for 3 random projects. A share ``--duplicates`` of the codes (default 0.2; 1 = all)
is sent **twice in a row**, so the two attempts travel on two connections at once and the one-vote lock is
exercised all along (the second one is either refused with 409 ``ballot-in-progress`` or replaces the
first ballot). The sequence wraps around when a segment sends more requests than it holds (later sends
are ballot changes).

A variant is ``NAME:WORKERS:MIXER_DELAY[:GITREF]`` (uvicorn workers, seconds the ballot mixer waits to
fill a batch, 0 = write as soon as the previous batch committed). With a git revision the server runs that
revision's code (``git archive``, read-only, into a temporary directory) with its own default mixer, so an
earlier implementation can be measured in the same run, e.g. ``previous:1:0.02:ba4d115`` (the ballot path
before the rework: ORM session, 20 ms batching window, ~8 statements per cast).

Each round runs every variant, alternating the order, after a warm-up per variant, so machine noise lands
on all of them; the table gives medians over rounds and the ratio of each variant to the first one, per
round. A calibration (CPU of one ``SELECT 1`` + ``COMMIT``) before and after tells how fast the machine was.

The table's ``ballots (201)/s`` counts every accepted answer, including a duplicate that replaced its
own first ballot; ``voters/s`` counts the distinct voters whose ballot is stored (participations).

After the load, each segment's round is checked: as many ballots as participations, and the set of ballot
ids equal to ``HMAC(round ‖ voter key)`` of the participations — one ballot per voter who took part, none
without, none twice. Any mismatch fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench._servers import UvicornServer, cpu_of  # noqa: E402
from core.local_postgres import ensure_local_cluster  # noqa: E402
from core.settings import PROJECT_DIR, Settings  # noqa: E402

DATABASE = "civicloop_bench_ballots"
SLUG = "bench"

LUA = r"""
local codes = {}
for line in io.lines("CODES_FILE") do codes[#codes + 1] = line end  -- one line per request
local projects = {PROJECTS}
local headers = {["Content-Type"] = "application/json"}
local path = "PATH"
math.randomseed(SEED)
sent = 0
counts = {}

request = function()
  local code = codes[(sent % #codes) + 1]
  sent = sent + 1
  local a = math.random(#projects)
  local b = a
  while b == a do b = math.random(#projects) end
  local c = a
  while c == a or c == b do c = math.random(#projects) end
  local body = string.format(
    '{"code":"%s","projects":[%d,%d,%d]}', code, projects[a], projects[b], projects[c])
  return wrk.format("POST", path, headers, body)
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

local threads = {}
setup = function(thread) table.insert(threads, thread) end

done = function(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do statuses[status] = (statuses[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(statuses) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_timeout":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    table.concat(parts, ",")))
end
"""


@dataclass
class Variant:
    name: str
    workers: int
    delay: float
    port: int
    revision: str | None = None


@dataclass
class Segment:
    variant: str
    label: str
    round_id: int
    project_ids: list[int]
    codes: list[str]
    duplicates: float
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def sequence(self) -> list[str]:
        """The requests' codes in order: a seeded share of the codes twice in a row."""
        chooser = random.Random(self.round_id)
        return [c for c in self.codes for _ in range(2 if chooser.random() < self.duplicates else 1)]


def _parse_variant(text: str, port: int) -> Variant:
    name, workers, delay, *revision = text.split(":")
    return Variant(name, int(workers), float(delay), port, revision[0] if revision else None)


PREVIOUS_APP = """
from api.app import create_app
from core.settings import Settings

app = create_app(Settings())
"""


def _checkout(revision: str, directory: Path) -> Path:
    """The code of ``revision`` in ``directory`` (read-only for the repository: ``git archive``)."""
    tree = directory / f"tree-{revision}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    (tree / "bench_previous_app.py").write_text(PREVIOUS_APP)
    return tree


def _prepare_database(url: str) -> None:
    import psycopg
    from alembic import command
    from alembic.config import Config

    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")


async def _create_rounds(
    url: str, count: int, codes_per_round: int
) -> list[tuple[int, list[int], list[str]]]:
    """``count`` rounds in the voting phase, each with 10 feasible projects and its own codes."""
    from sqlalchemy import text

    from core.db import make_engine, make_sessionmaker
    from geo.models import Jurisdiction
    from participation.electorate import ParticipationKeys, generate_codes
    from participation.models import BudgetRound, Proposal

    keys = ParticipationKeys.from_secret(Settings().secret_key.get_secret_value())
    engine = make_engine(url, pool_size=1)
    made = []
    async with make_sessionmaker(engine)() as session:
        jurisdiction = Jurisdiction(slug=SLUG, name="Bench")
        session.add(jurisdiction)
        await session.flush()
        area_id = (
            await session.execute(
                text(
                    "INSERT INTO areas (jurisdiction_id, level, name, geom, properties)"
                    " VALUES (:j, 'neighbourhood', 'Bench',"
                    " ST_Multi(ST_MakeEnvelope(4.88, 52.37, 4.90, 52.38, 4326)), '{}') RETURNING id"
                ),
                {"j": jurisdiction.id},
            )
        ).scalar_one()
        for number in range(count):
            budget_round = BudgetRound(
                jurisdiction_id=jurisdiction.id,
                area_id=area_id,
                title=f"Bench {number}",
                budget=Decimal(100000),
                phase="voting",
                ballot_type="approval",
                ballot_rules={"max_projects": 5},
            )
            session.add(budget_round)
            await session.flush()
            proposals = [
                Proposal(
                    round_id=budget_round.id,
                    title=f"Project {i}",
                    description="-",
                    estimated_cost=Decimal(5000 + 1000 * i),
                    status="feasible",
                )
                for i in range(10)
            ]
            session.add_all(proposals)
            await session.flush()
            codes = await generate_codes(
                session, keys=keys, budget_round=budget_round, area_id=area_id, count=codes_per_round
            )
            made.append((budget_round.id, [p.id for p in proposals], codes))
        await session.commit()
    await engine.dispose()
    return made


async def _check_rounds(url: str, segments: list[Segment], connections: int) -> bool:
    """One ballot per participating voter, keyed by that voter, none else: the one-vote guarantee.

    wrk counts only the responses it read before its time was up; up to ``connections`` more requests
    were in flight and completed on the server, hence the slack in the last bound."""
    from sqlalchemy import text

    from core.db import make_engine
    from participation.electorate import ParticipationKeys

    keys = ParticipationKeys.from_secret(Settings().secret_key.get_secret_value())
    engine = make_engine(url, pool_size=1)
    ok = True
    async with engine.connect() as connection:
        for segment in segments:
            voter_keys = list(
                await connection.scalars(
                    text("SELECT voter_key FROM voter_participations WHERE round_id = :r"),
                    {"r": segment.round_id},
                )
            )
            ballot_ids = set(
                await connection.scalars(
                    text("SELECT id FROM ballots WHERE round_id = :r"), {"r": segment.round_id}
                )
            )
            expected = {keys.ballot_id(segment.round_id, bytes(k)) for k in voter_keys}
            accepted = int(segment.result.get("statuses", {}).get("201", 0))
            codes = {keys.code_hash(code) for code in segment.codes}
            good = (
                len(ballot_ids) == len(voter_keys)  # as many ballots as voters who took part
                and ballot_ids == expected  # each of them holding exactly their own ballot
                and all(bytes(k) in codes for k in voter_keys)  # and only voters of this segment
                and len(voter_keys) <= accepted + connections  # each seen accepted (or in flight at the end)
            )
            segment.result.update(ballots=len(ballot_ids), participations=len(voter_keys), one_vote=good)
            ok &= good
    await engine.dispose()
    return ok


def start_server(variant: Variant, url: str, pool_size: int, log: Path) -> UvicornServer:
    """The variant's uvicorn (master + workers), on this tree or on the named revision's checkout."""
    code = _checkout(variant.revision, log.parent) if variant.revision else ROOT
    app, app_dir = ("bench_previous_app:app", code) if variant.revision else ("ballots_app:app", HERE)
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "CIVICLOOP_DB_POOL_SIZE": str(pool_size),
        "BENCH_MIXER_DELAY": str(variant.delay),
        "PYTHONPATH": str(code),
    }
    return UvicornServer(
        variant.name,
        app,
        app_dir=app_dir,
        port=variant.port,
        environment=environment,
        log=log,
        cwd=code,
        workers=variant.workers,
    )


def _database_cpu(conninfo: str) -> dict[int, float]:
    """CPU seconds of every server process attached to the bench database, by pid."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as connection:
        pids = [
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (DATABASE,)
            )
        ]
    return {pid: cpu_of(pid) for pid in pids}


def _calibrate(conninfo: str, rounds: int = 3000) -> float:
    """Machine speed at this moment: CPU microseconds of one ``SELECT 1`` + ``COMMIT`` through psycopg.

    The absolute figures of a run only compare with another run's at the same calibration (on the shared
    2-core reference box it moved between ~100 and ~320 µs within an hour at a similar load average).
    """
    import psycopg

    with psycopg.connect(conninfo) as connection:
        for _ in range(200):
            connection.execute("SELECT 1")
            connection.commit()
        started = time.process_time()
        for _ in range(rounds):
            connection.execute("SELECT 1")
            connection.commit()
        return 1e6 * (time.process_time() - started) / rounds


def _wrk(server: UvicornServer, script: Path, *, duration: int, connections: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script)]
    result = subprocess.run(
        [*command, server.url], capture_output=True, text=True, timeout=duration + 60, check=False
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise RuntimeError(f"wrk gave no summary:\n{result.stdout}\n{result.stderr}")


def _write_script(directory: Path, segment: Segment, seed: int) -> Path:
    codes_file = directory / f"codes-{segment.round_id}.txt"
    codes_file.write_text("\n".join(segment.sequence) + "\n")
    text = (
        LUA.replace("CODES_FILE", str(codes_file))
        .replace("{PROJECTS}", "{" + ",".join(map(str, segment.project_ids)) + "}")
        .replace("PATH", f"/api/v1/jurisdictions/{SLUG}/budget-rounds/{segment.round_id}/ballots")
        .replace("SEED", str(seed))
    )
    path = directory / f"round-{segment.round_id}.lua"
    path.write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["group-1w:1:0", "window20-1w:1:0.02", "group-2w:2:0"],
        help="NAME:WORKERS:MIXER_DELAY_SECONDS; the first is the reference of the ratios",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per (round, variant)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool-size", type=int, default=16, help="CIVICLOOP_DB_POOL_SIZE per worker")
    parser.add_argument("--codes", type=int, default=12000, help="voting codes per segment")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of codes sent twice at once")
    parser.add_argument("--port", type=int, default=8765, help="first port; one per variant")
    arguments = parser.parse_args()
    if arguments.duration > 120 or arguments.rounds > 10:
        parser.error("keep runs bounded: --duration <= 120 and --rounds <= 10")
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (Debian/Ubuntu)", file=sys.stderr)
        return 2
    variants = [_parse_variant(v, arguments.port + i) for i, v in enumerate(arguments.variants)]

    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    url = cluster.url(DATABASE)
    _prepare_database(url)
    plan = [(v.name, "warm-up") for v in variants]
    for number in range(arguments.rounds):
        order = variants if number % 2 == 0 else list(reversed(variants))
        plan += [(v.name, f"round {number + 1}") for v in order]
    started = time.perf_counter()
    rounds = asyncio.run(_create_rounds(url, len(plan), arguments.codes))
    segments = [
        Segment(name, label, round_id, ids, codes, arguments.duplicates)
        for (name, label), (round_id, ids, codes) in zip(plan, rounds, strict=True)
    ]
    print(
        f"prepared {len(segments)} rounds x {arguments.codes} codes in {time.perf_counter() - started:.1f} s"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"load average before: {os.getloadavg()}")
    calibration = [_calibrate(cluster.conninfo(DATABASE))]
    print(f"calibration before: {calibration[0]:.0f} µs CPU per SELECT 1 + COMMIT (psycopg)")
    print(
        f"wrk -t1 -c{arguments.connections}, {arguments.rounds} rounds x {arguments.duration} s,"
        f" warm-up {arguments.warmup} s, pool {arguments.pool_size} (x2) per worker,"
        f" {arguments.duplicates:.0%} of the codes sent twice at once"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="civicloop-bench-ballots-") as temporary:
        servers: dict[str, UvicornServer] = {}
        try:
            for variant in variants:
                servers[variant.name] = start_server(
                    variant, url, arguments.pool_size, Path(temporary) / f"{variant.name}.log"
                )
            for server in servers.values():
                server.wait_ready()
            for index, segment in enumerate(segments):
                server = servers[segment.variant]
                script = _write_script(Path(temporary), segment, seed=index + 1)
                duration = arguments.warmup if segment.label == "warm-up" else arguments.duration
                database_before = _database_cpu(cluster.conninfo(DATABASE))
                cpu_before = server.cpu_seconds()
                run = _wrk(server, script, duration=duration, connections=arguments.connections)
                run["cpu_s"] = server.cpu_seconds() - cpu_before
                database_after = _database_cpu(cluster.conninfo(DATABASE))
                run["db_cpu_s"] = sum(
                    cpu - database_before.get(pid, 0.0) for pid, cpu in database_after.items()
                )
                run["rps"] = run["requests"] / (run["duration_us"] / 1e6)
                run["accepted_ps"] = run["statuses"].get("201", 0) / (run["duration_us"] / 1e6)
                segment.result = run
                errors = sum(v for k, v in run.items() if k.startswith("errors_"))
                print(
                    f"  {segment.label:8} {segment.variant:14} {run['rps']:7.0f} req/s"
                    f" {run['accepted_ps']:7.0f} ballots/s  p50 {run['p50_us'] / 1000:6.1f} ms"
                    f"  p99 {run['p99_us'] / 1000:6.1f} ms  statuses {run['statuses']}"
                    f"  app CPU {1000 * run['cpu_s'] / max(run['requests'], 1):.2f} ms/req"
                    f"  db CPU {1000 * run['db_cpu_s'] / max(run['requests'], 1):.2f} ms/req"
                    + (f"  SOCKET ERRORS {errors}" if errors else ""),
                    flush=True,
                )
        finally:
            for server in servers.values():
                server.stop()
            for name, server in servers.items():
                log = Path(server.log.name).read_text()
                if log.strip():
                    print(f"--- {name} server log (tail) ---\n{log[-3000:]}")
        ok = asyncio.run(_check_rounds(url, segments, arguments.connections))

    calibration.append(_calibrate(cluster.conninfo(DATABASE)))
    print(f"\nload average after: {os.getloadavg()}")
    print(f"calibration after: {calibration[1]:.0f} µs CPU per SELECT 1 + COMMIT (psycopg)")
    print(
        "\n| variant | workers | mixer delay | req/s | ballots (201)/s | voters/s | ratio to first (range)"
        " | p50 / p99 ms | app CPU ms/req | db CPU ms/req | one-vote check |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    measured = [s for s in segments if s.label != "warm-up"]
    reference = variants[0].name
    for variant in variants:
        runs = [s.result for s in measured if s.variant == variant.name]
        ratios = [
            own.result["rps"] / ref.result["rps"]
            for own, ref in zip(
                [s for s in measured if s.variant == variant.name],
                [s for s in measured if s.variant == reference],
                strict=True,
            )
        ]
        requests = max(sum(r["requests"] for r in runs), 1)
        checks = [s.result.get("one_vote") for s in segments if s.variant == variant.name]
        ballots = sum(s.result.get("ballots", 0) for s in segments if s.variant == variant.name)
        print(
            f"| {variant.name}{f' ({variant.revision})' if variant.revision else ''}"
            f" | {variant.workers} | {variant.delay * 1000:.0f} ms"
            f" | {statistics.median(r['rps'] for r in runs):.0f}"
            f" | {statistics.median(r['accepted_ps'] for r in runs):.0f}"
            # Distinct voters whose ballot is stored (a 201 may also be a replacement of one's own ballot).
            f" | {statistics.median(r.get('participations', 0) / (r['duration_us'] / 1e6) for r in runs):.0f}"
            f" | {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            f" | {statistics.median(r['p50_us'] for r in runs) / 1000:.1f}"
            f" / {statistics.median(r['p99_us'] for r in runs) / 1000:.1f}"
            f" | {1000 * sum(r['cpu_s'] for r in runs) / requests:.2f}"
            f" | {1000 * sum(r['db_cpu_s'] for r in runs) / requests:.2f}"
            f" | {'ok' if all(checks) else 'FAILED'} ({ballots} ballots = participations) |"
        )
    results = ROOT / ".civicloop" / "bench" / f"ballots-{time.strftime('%Y%m%dT%H%M%S')}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "calibration_us": calibration,
                "segments": [
                    {"variant": s.variant, "label": s.label, "round_id": s.round_id, **s.result}
                    for s in segments
                ],
            },
            indent=1,
        )
    )
    print(f"\nraw figures: {results}")
    if not ok:
        print("ONE-VOTE CHECK FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    random.seed(1)
    sys.exit(main())
