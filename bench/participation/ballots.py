"""Ballots cast through the API: throughput with the one-vote guarantee.

Creates a throw-away database on the local cluster, migrates it, prepares a round with codes, serves the
app with uvicorn (WORKERS processes) and fires BALLOTS requests (each code twice, concurrently, so the
one-vote lock is exercised) from CONCURRENCY connections. Prints ballots/s and checks that the stored
ballots and participations equal the number of distinct codes.

    .venv/bin/python bench/participation/ballots.py [BALLOTS] [CONCURRENCY] [WORKERS]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.local_postgres import ensure_local_cluster  # noqa: E402
from core.settings import PROJECT_DIR  # noqa: E402

PORT = 8765
APP = """
from api.app import create_app
from api.routers import participation
from core.settings import Settings
app = create_app(Settings(environment="development"))
app.include_router(participation.router)
"""


def main() -> None:
    ballots = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as connection:
        connection.execute('DROP DATABASE IF EXISTS "civicloop_bench_ballots" WITH (FORCE)')
        connection.execute('CREATE DATABASE "civicloop_bench_ballots"')
    url = cluster.url("civicloop_bench_ballots")
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")
    codes = asyncio.run(prepare(url, ballots // 2))
    (ROOT / ".civicloop" / "bench_app.py").write_text(APP)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": f"{ROOT}:{ROOT / '.civicloop'}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench_app:app",
            "--port",
            str(PORT),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{PORT}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        round_id, project_ids = codes[0], codes[1]
        elapsed, statuses = asyncio.run(fire(round_id, project_ids, codes[2], concurrency))
    finally:
        server.terminate()
        server.wait()
    with psycopg.connect(cluster.conninfo("civicloop_bench_ballots")) as connection:
        stored = connection.execute("SELECT count(*) FROM ballots").fetchone()[0]
        voters = connection.execute("SELECT count(*) FROM voter_participations").fetchone()[0]
    total = len(statuses)
    print(
        f"requests={total} concurrency={concurrency} workers={workers} seconds={elapsed:.2f} "
        f"rate={total / elapsed:.0f}/s statuses={ {s: statuses.count(s) for s in set(statuses)} } "
        f"distinct_codes={len(codes[2])} ballots={stored} participations={voters}"
    )
    assert stored == voters == len(codes[2])


async def prepare(url: str, count: int) -> tuple[int, list[int], list[str]]:
    from decimal import Decimal

    from core.db import make_engine, make_sessionmaker
    from core.settings import Settings
    from geo.models import Area, Jurisdiction
    from participation.electorate import ParticipationKeys, generate_codes
    from participation.models import BudgetRound, Proposal

    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        jurisdiction = Jurisdiction(slug="bench", name="Bench")
        session.add(jurisdiction)
        await session.flush()
        from sqlalchemy import text

        area_id = (
            await session.execute(
                text(
                    "INSERT INTO areas (jurisdiction_id, level, name, geom, properties) VALUES (:j, 'neighbourhood', 'B',"
                    " ST_Multi(ST_MakeEnvelope(4.88, 52.37, 4.90, 52.38, 4326)), '{}') RETURNING id"
                ),
                {"j": jurisdiction.id},
            )
        ).scalar_one()
        budget_round = BudgetRound(
            jurisdiction_id=jurisdiction.id,
            area_id=area_id,
            title="Bench",
            budget=Decimal(100000),
            phase="voting",
            ballot_type="approval",
            ballot_rules={"max_projects": 5},
        )
        session.add(budget_round)
        await session.flush()
        ids = []
        for i in range(10):
            proposal = Proposal(
                round_id=budget_round.id,
                title=f"P{i}",
                description="-",
                estimated_cost=Decimal(5000 + i * 1000),
                status="feasible",
            )
            session.add(proposal)
            await session.flush()
            ids.append(proposal.id)
        keys = ParticipationKeys.from_secret(Settings().secret_key.get_secret_value())
        codes = await generate_codes(
            session, keys=keys, budget_round=budget_round, area_id=area_id, count=count
        )
        await session.commit()
        _ = Area
    await engine.dispose()
    return budget_round.id, ids, codes


async def fire(round_id: int, ids: list[int], codes: list[str], concurrency: int) -> tuple[float, list[int]]:
    import random

    attempts = [c for c in codes for _ in range(2)]
    random.Random(1).shuffle(attempts)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in attempts:
        queue.put_nowait(code)
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", limits=limits, timeout=60) as client:

        async def worker() -> None:
            chooser = random.Random()
            while not queue.empty():
                code = queue.get_nowait()
                response = await client.post(
                    f"/api/v1/jurisdictions/bench/budget-rounds/{round_id}/ballots",
                    json={"code": code, "projects": chooser.sample(ids, 3)},
                )
                statuses.append(response.status_code)

        start = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return time.perf_counter() - start, statuses


if __name__ == "__main__":
    main()
