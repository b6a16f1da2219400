"""EXPLAIN (ANALYZE, BUFFERS) of the spatial queries on the bench database: do they use their indexes?

Run from the repository root, after ``bench/reports/load.py``:

    .venv/bin/python bench/reports/explain.py            # key plan lines and timings
    .venv/bin/python bench/reports/explain.py --full     # whole plans

The SQL is taken from ``geo.queries`` itself (not copied), so the plans are those of the code as it is:
the 50 m duplicate check, the near-list (500 m, first page of 50) and the containing-area assignment of a
new report. Each runs at several fixed places (dense Centrum, quieter Noord, Zuidoost), warm (after one
unmeasured run); the table gives the median execution time over ``--repeat`` runs per place.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from geo import queries  # noqa: E402

STATE_FILE = ROOT / ".civicloop" / "bench" / "reports.json"
PLACES = {"Dam (Centrum)": (4.8927, 52.3731), "Noord": (4.9300, 52.4000), "Zuidoost": (4.9700, 52.3150)}
KEY_LINE = re.compile(r"Index|Bitmap|Seq Scan|Sort|Limit|Rows Removed|Buffers|Execution Time|Planning Time")


def _psycopg_sql(sql: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


def _cases(connection: psycopg.Connection[Any], slug: str) -> dict[str, tuple[str, Any]]:
    jurisdiction_id = connection.execute("SELECT id FROM jurisdictions WHERE slug = %s", (slug,)).fetchone()[
        0
    ]
    category_id = connection.execute(
        "SELECT id FROM categories WHERE jurisdiction_id = %s AND code = 'pothole'", (jurisdiction_id,)
    ).fetchone()[0]
    near_sql, _ = queries.report_list_sql(
        queries.ReportFilter(jurisdiction_id=jurisdiction_id, near=(0.0, 0.0), radius_m=500, limit=50)
    )
    return {
        "duplicates (50 m)": (
            _psycopg_sql(queries.DUPLICATES_SQL),
            lambda lon, lat: {
                "jurisdiction_id": jurisdiction_id,
                "category_id": category_id,
                "longitude": lon,
                "latitude": lat,
                "radius": 50.0,
                "open_statuses": queries.OPEN_STATUS_LIST,
                "limit": 20,
            },
        ),
        "list near (500 m, 50)": (
            _psycopg_sql(near_sql),
            lambda lon, lat: {
                "jurisdiction_id": jurisdiction_id,
                "limit": 51,
                "near_lon": lon,
                "near_lat": lat,
                "radius": 500.0,
            },
        ),
        "containing area": (
            _psycopg_sql(queries.CONTAINING_AREA_SQL),
            lambda lon, lat: {"jurisdiction_id": jurisdiction_id, "longitude": lon, "latitude": lat},
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="print whole plans")
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    state = json.loads(STATE_FILE.read_text())
    url = state["database_url"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as connection:
        total = connection.execute("SELECT count(*) FROM reports").fetchone()[0]
        print(f"reports: {total:,}\n")
        table = []
        for name, (sql, params) in _cases(connection, state["jurisdiction"]).items():
            for place, (lon, lat) in PLACES.items():
                explain = "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql
                connection.execute(explain, params(lon, lat))  # warm
                times, plan = [], []
                for _ in range(arguments.repeat):
                    plan = [row[0] for row in connection.execute(explain, params(lon, lat))]
                    times.append(float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1)))
                rows = connection.execute(sql, params(lon, lat)).rowcount
                full = [
                    row[0]
                    for row in connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params(lon, lat))
                ]
                indexes = sorted(
                    set(re.findall(r"(?:using|Scan on) (ix_\w+|pk_\w+|uq_\w+)", "\n".join(full)))
                )
                seq = [line.strip() for line in full if "Seq Scan" in line]
                table.append((name, place, statistics.median(times), rows, ", ".join(indexes), bool(seq)))
                if place == "Dam (Centrum)":
                    print(f"== {name} at {place} ({lon}, {lat})")
                    for line in full:
                        if arguments.full or KEY_LINE.search(line):
                            print("   " + line)
                    print()
        print("| query | place | median execution (ms) | rows | indexes used | seq scan |")
        print("|---|---|---:|---:|---|---|")
        for name, place, median, row_count, used, seq_scan in table:
            print(
                f"| {name} | {place} | {median:.2f} | {row_count} | {used} | {'yes' if seq_scan else 'no'} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
