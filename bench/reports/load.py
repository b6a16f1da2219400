"""Load a benchmark database: the Amsterdam reference data and a million reports, reproducibly.

Run from the repository root:

    .venv/bin/python bench/reports/load.py                      # civicloop_bench on the local cluster
    .venv/bin/python bench/reports/load.py --reports 200000     # a smaller data set
    .venv/bin/python bench/reports/load.py --database-url postgresql+psycopg://user@host/db

What it builds (and why it looks like this):

- the schema, by running the alembic migrations, exactly as ``civicloop migrate`` does;
- Amsterdam: the municipality polygon (CBS 2022) and its nine districts (stadsdelen), the same files the
  tests use; no neighbourhoods, so a point's containing area is its district, as in the test world;
- three departments and six categories (two groups, four selectable, one of them non-public);
- one resident account with a bearer token, issued through ``core.accounts``; the token is written to
  ``.civicloop/bench/reports.json`` for ``run.py``;
- ``--reports`` reports (default 1,000,000), spread over the districts in proportion to fixed weights (the
  centre is denser than the port), generated *inside* each district with ``ST_GeneratePoints`` and a
  fixed seed; ``created_at`` spread over three years, ~15% still open (more so among recent ones), the
  rest resolved or closed; ``area_id`` is the district; one status record per report.

The bulk load runs in SQL (``INSERT … SELECT``, one statement per district) with the reports table's
secondary indexes dropped and rebuilt afterwards from their own definitions (``pg_get_indexdef``), then
``VACUUM ANALYZE``. It is idempotent: a database already loaded with the requested count (recorded in a
comment on the database) is left alone, apart from removing rows a previous benchmark run created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from core.db import sync_url  # noqa: E402
from core.settings import PROJECT_DIR  # noqa: E402

DATABASE = "civicloop_bench"
SLUG = "amsterdam"
SEED = 42
STATE_FILE = PROJECT_DIR / ".civicloop" / "bench" / "reports.json"
GEO = PROJECT_DIR.parent / "shared" / "data" / "geo"
DISTRICTS_FILE = GEO / "amsterdam_stadsdelen.geojson"
MUNICIPALITIES_FILE = GEO / "nl_gemeenten_2022.geojson"
MARKER = "civicloop-bench-reports"

# Relative report density per district: busy centre and west, quiet port and rural north.
DISTRICT_WEIGHTS = {
    "Centrum": 0.20,
    "West": 0.15,
    "Zuid": 0.14,
    "Oost": 0.13,
    "Nieuw-West": 0.12,
    "Noord": 0.10,
    "Zuidoost": 0.08,
    "Westpoort": 0.03,
    "Weesp": 0.05,
}
# (code, parent, Dutch name, department, handling days, public); the groups have no department.
CATEGORIES = [
    ("street", None, "Straat", None, 5, True),
    ("pothole", "street", "Gat in de weg", "Wegen", 5, True),
    ("street-light", "street", "Straatverlichting", "Verlichting", 10, True),
    ("waste", None, "Afval", None, 5, True),
    ("dumped-waste", "waste", "Gedumpt afval", "Afval", 2, True),
    ("nuisance-neighbours", "waste", "Overlast door buren", "Afval", 5, False),
]
# Share of the reports per selectable category.
CATEGORY_WEIGHTS = {"pothole": 0.35, "street-light": 0.20, "dumped-waste": 0.40, "nuisance-neighbours": 0.05}


def _local_url() -> str:
    from core.local_postgres import create_database, ensure_local_cluster

    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    create_database(cluster, DATABASE)
    return cluster.url(DATABASE)


def _ensure_database(url: str) -> None:
    base, _, name = sync_url(url).rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")  # "heads": tolerate parallel branches, as the tests do


def _features(path: Path, name_property: str) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text())
    return {f["properties"][name_property]: f["geometry"] for f in data["features"]}


AREA_SQL = (
    "INSERT INTO areas (jurisdiction_id, parent_id, level, name, geom, properties) VALUES (%s, %s, %s, %s,"
    " ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)), 3)), '{}')"
    " RETURNING id"
)


async def _seed_reference(url: str) -> dict[str, Any]:
    """Jurisdiction, areas, departments, categories and the bench resident; reused when present."""
    from sqlalchemy import select

    from core import accounts
    from core.db import make_engine, make_sessionmaker
    from core.identity import Account
    from geo.models import Category, Department, Jurisdiction
    from geo.schemas import CategoryCreate
    from geo.service import create_category

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            jurisdiction = await session.scalar(select(Jurisdiction).where(Jurisdiction.slug == SLUG))
            if jurisdiction is None:
                jurisdiction = Jurisdiction(
                    slug=SLUG,
                    name="Amsterdam",
                    timezone="Europe/Amsterdam",
                    holiday_country="NL",
                    default_locale="nl",
                )
                session.add(jurisdiction)
                await session.flush()
                connection = await session.connection()
                raw = (await connection.get_raw_connection()).driver_connection
                async with raw.cursor() as cursor:
                    municipality = _features(MUNICIPALITIES_FILE, "gemeentenaam")["Amsterdam"]
                    await cursor.execute(
                        AREA_SQL,
                        (jurisdiction.id, None, "municipality", "Amsterdam", json.dumps(municipality)),
                    )
                    municipality_id = (await cursor.fetchone())[0]
                    for name, geometry in _features(DISTRICTS_FILE, "Stadsdeel").items():
                        await cursor.execute(
                            AREA_SQL,
                            (jurisdiction.id, municipality_id, "district", name, json.dumps(geometry)),
                        )
                departments: dict[str, int] = {}
                for name in ("Wegen", "Afval", "Verlichting"):
                    department = Department(jurisdiction_id=jurisdiction.id, name=name)
                    session.add(department)
                    await session.flush()
                    departments[name] = department.id
                for code, parent, name, department_name, days, public in CATEGORIES:
                    data: dict[str, Any] = {"code": code, "name": {"nl": name}, "is_public": public}
                    if parent:
                        data |= {
                            "parent": parent,
                            "department_id": departments[department_name],
                            "handling_days": days,
                        }
                    await create_category(
                        session, jurisdiction_id=jurisdiction.id, data=CategoryCreate.model_validate(data)
                    )
            email = "bench-resident@example.org"
            account = await session.scalar(
                select(Account).where(Account.jurisdiction_id == jurisdiction.id, Account.email == email)
            )
            if account is None:
                account, token = await accounts.register_account(
                    session,
                    jurisdiction_id=jurisdiction.id,
                    email=email,
                    password="bench resident password",
                    display_name="Bench resident",
                    locale="nl",
                    ttl_days=365,
                )
            else:
                token = await accounts.issue_token(
                    session, account_id=account.id, kind="session", ttl_days=365
                )
            categories = {
                c.code: c.id
                for c in await session.scalars(
                    select(Category).where(Category.jurisdiction_id == jurisdiction.id)
                )
            }
            await session.commit()
            return {
                "jurisdiction_id": jurisdiction.id,
                "account_id": account.id,
                "token": token,
                "categories": categories,
            }
    finally:
        await engine.dispose()


def _marker(connection: psycopg.Connection[Any], name: str) -> dict[str, Any] | None:
    row = connection.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    if not row or not row[0]:
        return None
    try:
        found = json.loads(row[0])
    except ValueError:
        return None
    return found if isinstance(found, dict) and found.get("marker") == MARKER else None


def _bulk_load(
    connection: psycopg.Connection[Any], *, jurisdiction_id: int, account_id: int, count: int
) -> None:
    t0 = time.perf_counter()
    districts = connection.execute(
        "SELECT id, name FROM areas WHERE jurisdiction_id = %s AND level = 'district' ORDER BY id",
        (jurisdiction_id,),
    ).fetchall()
    weights = {name: DISTRICT_WEIGHTS.get(name, 0.05) for _, name in districts}
    total_weight = sum(weights.values())
    counts = {name: int(count * w / total_weight) for name, w in weights.items()}
    counts[districts[0][1]] += count - sum(counts.values())

    connection.execute(
        "TRUNCATE reports, report_status_changes, report_followers, report_supporters, outbox_events CASCADE"
    )
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports' AND indexname <> 'pk_reports'"
    ).fetchall()
    for name, _ in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    connection.execute("SET LOCAL synchronous_commit = off")
    connection.execute("SET LOCAL work_mem = '256MB'")
    connection.execute("SET LOCAL maintenance_work_mem = '1GB'")
    connection.execute("SELECT setseed(%s)", (SEED / 100,))
    # One cumulative-weight table of the selectable categories, joined by a uniform draw.
    category_rows = []
    cumulative = 0.0
    for code, weight in CATEGORY_WEIGHTS.items():
        cumulative += weight
        category_rows.append((code, cumulative))
    category_rows[-1] = (category_rows[-1][0], 1.0)
    values = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(code), sql.Literal(upper)) for code, upper in category_rows
    )
    for index, (area_id, name) in enumerate(districts):
        n = counts[name]
        if n <= 0:
            continue
        started = time.perf_counter()
        statement = sql.SQL("""
INSERT INTO reports (jurisdiction_id, category_id, department_id, area_id, location, address, description,
                     extra, status, status_reason, is_public, reporter_account_id, version, due_at,
                     created_at, updated_at, resolved_at)
SELECT {jurisdiction_id}, c.id, c.department_id, {area_id}, p.geom, NULL,
       'Melding ' || p.path[1] || ' in ' || {name} || ': ' || c.code,
       '{{}}'::jsonb, s.status,
       CASE WHEN s.status = 'closed' THEN 'duplicate' END,
       c.is_public, {account_id}, 1,
       p.created_at + make_interval(days => c.handling_days),
       p.created_at,
       CASE WHEN s.status = 'submitted' THEN p.created_at ELSE p.created_at + interval '2 days' END,
       CASE WHEN s.status IN ('resolved', 'closed') THEN p.created_at + interval '3 days' END
FROM (
    SELECT d.path, d.geom, random() AS pick, random() AS state_draw,
           now() - (random() * interval '1095 days') AS created_at
    FROM ST_Dump(ST_GeneratePoints((SELECT geom FROM areas WHERE id = {area_id}), {n}, {seed})) AS d
) p
CROSS JOIN LATERAL (
    SELECT cat.id, cat.code, cat.department_id, cat.is_public, cat.handling_days
    FROM (VALUES {values}) AS w(code, upper)
    JOIN categories cat ON cat.code = w.code AND cat.jurisdiction_id = {jurisdiction_id}
    WHERE p.pick <= w.upper
    ORDER BY w.upper LIMIT 1
) c
CROSS JOIN LATERAL (
    -- ~15% open overall: recent reports are open more often than old ones.
    SELECT CASE
        WHEN p.state_draw < (CASE WHEN p.created_at > now() - interval '60 days' THEN 0.75 ELSE 0.12 END)
        THEN (ARRAY['submitted', 'accepted', 'scheduled', 'in_progress', 'on_hold', 'reopened'])
             [1 + floor(p.state_draw * 1000)::int % 6]
        WHEN p.state_draw < 0.93 THEN 'resolved'
        ELSE 'closed'
    END AS status
) s
""").format(
            jurisdiction_id=sql.Literal(jurisdiction_id),
            area_id=sql.Literal(area_id),
            name=sql.Literal(name),
            account_id=sql.Literal(account_id),
            n=sql.Literal(n),
            seed=sql.Literal(SEED + index),
            values=values,
        )
        connection.execute(statement)
        print(f"  {name:12} {n:>9,} reports in {time.perf_counter() - started:5.1f} s", flush=True)
    started = time.perf_counter()
    connection.execute("""
INSERT INTO report_status_changes (report_id, actor_account_id, from_status, to_status, created_at)
SELECT id, reporter_account_id, NULL, 'submitted', created_at FROM reports
""")
    print(f"  status records in {time.perf_counter() - started:5.1f} s", flush=True)
    for name, definition in indexes:
        started = time.perf_counter()
        connection.execute(definition)
        print(f"  index {name:32} {time.perf_counter() - started:5.1f} s", flush=True)
    print(f"bulk load: {time.perf_counter() - t0:.1f} s", flush=True)


def remove_benchmark_rows(connection: psycopg.Connection[Any], max_id: int) -> int:
    """Delete what benchmark runs created (reports above ``max_id`` and their rows), fast.

    ``reports.merged_into_id`` has no index, so the foreign key's ``ON DELETE SET NULL`` check scans the
    whole table once per deleted report (minutes for a few thousand at 1M rows). Benchmark reports are
    never merge targets, so the check is skipped (``session_replication_role = replica``, this transaction
    only) and the child rows are deleted explicitly.
    """
    with connection.transaction():
        connection.execute("SET LOCAL session_replication_role = replica")
        for table in ("report_status_changes", "report_followers", "report_supporters", "photos"):
            connection.execute(
                sql.SQL("DELETE FROM {} WHERE report_id > %s").format(sql.Identifier(table)), (max_id,)
            )
        deleted = connection.execute("DELETE FROM reports WHERE id > %s", (max_id,)).rowcount
        connection.execute("DELETE FROM outbox_events")
        connection.execute("DELETE FROM idempotency_records")
    return deleted


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help=f"a PostGIS database (default: {DATABASE} on the local cluster)"
    )
    parser.add_argument(
        "--reports", type=int, default=1_000_000, help="number of reports (default 1,000,000)"
    )
    parser.add_argument("--force", action="store_true", help="reload even when the count matches")
    arguments = parser.parse_args()

    if arguments.database_url:
        url = arguments.database_url
        _ensure_database(url)
    else:
        url = _local_url()
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    database = sync_url(url).rpartition("/")[2]
    started = time.perf_counter()
    _migrate(url)
    reference = asyncio.run(_seed_reference(url))

    with psycopg.connect(sync_url(url), autocommit=True) as connection:
        marker = _marker(connection, database)
        if marker and marker.get("reports") == arguments.reports and not arguments.force:
            # Rows created by earlier benchmark runs go, so every run starts from the same data.
            remove_benchmark_rows(connection, marker["max_id"])
            print(f"{database}: already holds {arguments.reports:,} bench reports; reused")
        else:
            print(f"{database}: loading {arguments.reports:,} reports", flush=True)
            with connection.transaction():
                _bulk_load(
                    connection,
                    jurisdiction_id=reference["jurisdiction_id"],
                    account_id=reference["account_id"],
                    count=arguments.reports,
                )
            started_vacuum = time.perf_counter()
            connection.execute("VACUUM ANALYZE")
            print(f"vacuum analyze: {time.perf_counter() - started_vacuum:.1f} s", flush=True)
            max_id = connection.execute("SELECT coalesce(max(id), 0) FROM reports").fetchone()[0]
            marker = {"marker": MARKER, "reports": arguments.reports, "max_id": max_id, "seed": SEED}
            connection.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database), sql.Literal(json.dumps(marker))
                )
            )
        summary = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')),"
            " min(created_at)::date, max(created_at)::date FROM reports"
        ).fetchone()
    print(
        f"reports: {summary[0]:,} ({summary[1] / max(summary[0], 1):.1%} open),"
        f" created {summary[2]} .. {summary[3]}"
    )
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(
        json.dumps(
            {
                "database_url": url,
                "jurisdiction": SLUG,
                "token": reference["token"],
                "reports": arguments.reports,
                "max_id": marker["max_id"],
            },
            indent=2,
        )
    )
    STATE_FILE.chmod(0o600)
    print(f"state (URL, bench token) written to {STATE_FILE}; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
