"""The map at a million reports: tile, clustered-viewport and GeoJSON latency, and API vs raw-SQL throughput.

Run from the repository root (the data set is the one ``bench/reports/load.py`` builds and reuses):

    .venv/bin/python bench/map/run.py                 # 1,000,000 reports in civicloop_bench
    .venv/bin/python bench/map/run.py --reports 20000 --seconds 5   # a quick smoke run

Steps:

1. ``bench/reports/load.py`` loads (or reuses) the data set. It migrates to ``head``; with several migration
   heads in the tree that is ambiguous, so this script hands it a migrate step that goes to ``heads``.
2. ``geo.tiles.refresh_map_cells`` builds the aggregated cells (timed), then ``ANALYZE``.
3. Latency, measured in-process around the very functions the routes call (``geo.tiles.report_tile``,
   ``geo.map_queries.clustered_viewport`` / ``reports_geojson``) on one async session each: that is database
   time plus the driver, without HTTP. Tiles: every zoom 10..18, up to 40 tiles per zoom drawn (seeded) from
   those covering Amsterdam, always including the tile over Dam square (the densest); each measured 3 times
   after a warm-up pass. Viewports: 1280×800 px at zooms 12..17 around random points of the inner city.
   GeoJSON: 500 features within 1280×800 px viewports at zooms 12..15.
4. Throughput: civicloop's app (``ours_app.py``) and a raw-SQL FastAPI app on a bare psycopg pool sending the
   same statements (``baseline_app.py``), each under uvicorn (1 worker, uvloop, httptools), driven by wrk over
   the same mixed list of tile and GeoJSON URLs, alternately, twice each; the medians are compared.

Results go to ``bench/out/map.json`` and are printed as the Markdown table ``docs/benchmarks-map.md`` quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from bench._servers import UvicornServer  # noqa: E402
from core.db import make_engine, make_sessionmaker, sync_url  # noqa: E402
from geo import map_queries, tiles  # noqa: E402

AMSTERDAM = (4.73, 52.28, 5.07, 52.43)
INNER_CITY = (4.84, 52.34, 4.94, 52.39)
DAM = (4.8927, 52.3731)
VIEWPORT_PX = (1280, 800)
OUT = ROOT / "bench" / "out" / "map.json"


def _loader() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_reports_load", ROOT / "bench" / "reports" / "load.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_data(reports: int) -> dict[str, Any]:
    from alembic import command
    from alembic.config import Config

    load = _loader()

    def migrate_heads(url: str) -> None:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["url"] = url
        command.upgrade(config, "heads")

    load._migrate = migrate_heads
    argv, sys.argv = sys.argv, ["load.py", "--reports", str(reports)]
    try:
        load.main()
    finally:
        sys.argv = argv
    return json.loads(load.STATE_FILE.read_text())


def tile_of(longitude: float, latitude: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    x = int((longitude + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(latitude))) / math.pi) / 2 * n)
    return x, y


def sample_tiles(zoom: int, rng: random.Random, count: int = 40) -> list[tuple[int, int, int]]:
    x0, y0 = tile_of(AMSTERDAM[0], AMSTERDAM[3], zoom)
    x1, y1 = tile_of(AMSTERDAM[2], AMSTERDAM[1], zoom)
    every = [(zoom, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    chosen = rng.sample(every, min(count, len(every)))
    dam = (zoom, *tile_of(*DAM, zoom))
    return [dam, *[t for t in chosen if t != dam]][:count]


def viewport(longitude: float, latitude: float, zoom: int) -> tuple[float, float, float, float]:
    """The WGS84 box a VIEWPORT_PX screen shows around a point at ``zoom`` (256-px tiles)."""
    metres_per_px = 2 * tiles.HALF_WORLD / (256 * 2**zoom)
    x = longitude * tiles.HALF_WORLD / 180
    y = math.log(math.tan((90 + latitude) * math.pi / 360)) * tiles.HALF_WORLD / math.pi
    half_w, half_h = VIEWPORT_PX[0] / 2 * metres_per_px, VIEWPORT_PX[1] / 2 * metres_per_px

    def to_lon_lat(mx: float, my: float) -> tuple[float, float]:
        return mx * 180 / tiles.HALF_WORLD, math.degrees(
            2 * math.atan(math.exp(my * math.pi / tiles.HALF_WORLD)) - math.pi / 2
        )

    (min_lon, min_lat), (max_lon, max_lat) = (
        to_lon_lat(x - half_w, y - half_h),
        to_lon_lat(x + half_w, y + half_h),
    )
    return min_lon, min_lat, max_lon, max_lat


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
    }


async def _measure(
    factory: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[Any]], repeat: int
) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        async with factory() as session:
            started = time.perf_counter()
            result = await work(session)
            times.append((time.perf_counter() - started) * 1000)
    return times, result


async def latency(url: str, jurisdiction_id: int) -> dict[str, Any]:
    engine = make_engine(url, pool_size=2)
    factory = make_sessionmaker(engine)
    rng = random.Random(7)
    flt = tiles.MapFilter(jurisdiction_id=jurisdiction_id)
    results: dict[str, Any] = {"tiles": {}, "viewport": {}, "geojson": {}}
    try:
        started = time.perf_counter()
        async with factory() as session:
            await tiles.refresh_map_cells(session)
            await session.commit()
        results["refresh_s"] = round(time.perf_counter() - started, 1)
        # As autovacuum would before long: set the rewritten rows' hint bits and visibility map, so the
        # first readers do not pay for them.
        import psycopg

        with psycopg.connect(sync_url(url), autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE report_map_cells")
        async with factory() as session:
            results["cells"] = await session.scalar(text("SELECT count(*) FROM report_map_cells"))
        print(f"map cells refreshed in {results['refresh_s']} s ({results['cells']:,} rows)", flush=True)

        for zoom in range(10, 19):
            chosen = sample_tiles(zoom, rng)
            for z, x, y in chosen:  # warm-up pass
                await _measure(factory, partial(tiles.report_tile, z=z, x=x, y=y, flt=flt), 1)
            times: list[float] = []
            largest = 0
            for z, x, y in chosen:
                measured, body = await _measure(
                    factory, partial(tiles.report_tile, z=z, x=x, y=y, flt=flt), 3
                )
                times += measured
                largest = max(largest, len(body))
            results["tiles"][zoom] = {**summary(times), "tiles": len(chosen), "largest_bytes": largest}
            print(f"tiles z{zoom}: {results['tiles'][zoom]}", flush=True)

        for zoom in range(12, 18):
            times = []
            for _ in range(30):
                box = viewport(
                    rng.uniform(INNER_CITY[0], INNER_CITY[2]), rng.uniform(INNER_CITY[1], INNER_CITY[3]), zoom
                )
                measured, _ = await _measure(
                    factory,
                    partial(map_queries.clustered_viewport, flt=flt, bbox=box, zoom=zoom),
                    2,
                )
                times += measured[1:]
            results["viewport"][zoom] = summary(times)
            print(f"viewport z{zoom}: {results['viewport'][zoom]}", flush=True)

        features: list[int] = []
        for zoom in (12, 13, 14, 15):
            times = []
            for _ in range(25):
                box = viewport(
                    rng.uniform(INNER_CITY[0], INNER_CITY[2]), rng.uniform(INNER_CITY[1], INNER_CITY[3]), zoom
                )
                measured, body = await _measure(
                    factory,
                    partial(map_queries.reports_geojson, flt=flt, bbox=box, limit=500),
                    2,
                )
                times += measured[1:]
                features.append(len(json.loads(body)["features"]))
            results["geojson"][zoom] = summary(times)
            print(f"geojson z{zoom}: {results['geojson'][zoom]}", flush=True)
        results["geojson_features"] = {"min": min(features), "median": statistics.median(features)}
    finally:
        await engine.dispose()
    return results


def start_server(module: str, port: int, database_url: str, log: Path) -> UvicornServer:
    environment = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_POOL_SIZE": "10",
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("DATABASE_URL", None)
    started = UvicornServer(
        module,
        f"{module}:app",
        app_dir=HERE,
        port=port,
        environment=environment,
        log=log,
        cwd=ROOT,
        graceful_shutdown_seconds=None,
    )
    started.wait_ready()
    return started


WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %%d, "duration_us": %%d, "errors": %%d, '
    .. '"p50_ms": %%.2f, "p95_ms": %%.2f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def throughput(database_url: str, seconds: int) -> dict[str, Any]:
    rng = random.Random(11)
    paths = []
    for zoom in range(12, 19):
        paths += [
            f"/tiles/reports/{z}/{x}/{y}.mvt?jurisdiction=amsterdam"
            for z, x, y in sample_tiles(zoom, rng, 12)
        ]
    for _ in range(24):
        box = viewport(
            rng.uniform(INNER_CITY[0], INNER_CITY[2]), rng.uniform(INNER_CITY[1], INNER_CITY[3]), 15
        )
        paths.append(
            "/api/v1/jurisdictions/amsterdam/reports.geojson?bbox=" + ",".join(f"{v:.6f}" for v in box)
        )
    rng.shuffle(paths)
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
    servers = {
        "ours": start_server("ours_app", 8211, database_url, OUT.parent / "map-ours.log"),
        "baseline": start_server(
            "baseline_app", 8212, sync_url(database_url), OUT.parent / "map-baseline.log"
        ),
    }
    try:
        for side, server in servers.items():  # same answers on both sides before timing anything
            for path in paths[:10]:
                with urllib.request.urlopen(server.url + path, timeout=10) as response:
                    assert response.status == 200, (side, path)
        for _ in range(2):
            for side in ("ours", "baseline"):
                command = [
                    "wrk",
                    "-t1",
                    "-c16",
                    f"-d{seconds}s",
                    "--timeout",
                    "5s",
                    "-s",
                    str(script),
                    servers[side].url,
                ]
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=seconds + 30, check=False
                )
                line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
                run = json.loads(line[6:])
                run["rps"] = round(run["requests"] / (run["duration_us"] / 1e6), 1)
                runs[side].append(run)
                print(f"{side}: {run}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
        script.unlink()
    ours = statistics.median(r["rps"] for r in runs["ours"])
    baseline = statistics.median(r["rps"] for r in runs["baseline"])
    return {"runs": runs, "ours_rps": ours, "baseline_rps": baseline, "ratio": round(ours / baseline, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per run")
    parser.add_argument("--skip-throughput", action="store_true")
    arguments = parser.parse_args()
    state = ensure_data(arguments.reports)
    url = state["database_url"]
    import psycopg

    with psycopg.connect(sync_url(url)) as connection:
        jurisdiction_id = connection.execute(
            "SELECT id FROM jurisdictions WHERE slug = 'amsterdam'"
        ).fetchone()[0]
    results: dict[str, Any] = {
        "reports": arguments.reports,
        "latency": asyncio.run(latency(url, jurisdiction_id)),
    }
    if not arguments.skip_throughput:
        results["throughput"] = throughput(url, arguments.seconds)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
