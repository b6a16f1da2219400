"""The baseline: the same work as civicloop's report endpoints, with no ORM or framework layer of ours.

A minimal FastAPI app on a raw ``psycopg_pool.AsyncConnectionPool``. Every endpoint sends, in the same
order and inside one transaction, the statements civicloop's endpoint sends (captured with SQLAlchemy's
``echo=True`` against the bench database; see docs/benchmarks.md), with the same text where civicloop
writes its SQL by hand and the text SQLAlchemy compiles where it does not. What is left out is exactly
what the benchmark is about: the ORM's unit of work and identity map, geoalchemy2's WKB round trips,
our dependency tree (session, policy), ``jsonable_encoder`` and response-model validation. The JSON it
answers carries the same fields, so both sides also pay for the same bytes on the wire.

Domain computations that are not "layers" (the due date from working days and holidays) call the same
functions civicloop calls, so they cost both sides the same.

Started by ``run.py``; by hand:

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/civicloop_bench \\
        .venv/bin/uvicorn --app-dir bench/reports baseline_app:served --port 8102 \\
        --loop uvloop --http httptools
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.reports.pauses import wrap as with_pause_report  # noqa: E402
from geo.deadlines import due_at  # noqa: E402  (domain rule, shared on purpose)

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))
OPEN_STATUSES = ["accepted", "in_progress", "on_hold", "reopened", "scheduled", "submitted"]


def _named(sql: str) -> str:
    """SQLAlchemy ``text()`` parameters (``:name``) to psycopg's (``%(name)s``); ``::casts`` stay."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


# --- The SQL civicloop sends, imported from the modules that send it ---------------------------------
from api.auth import IDENTITY_SQL as _IDENTITY  # noqa: E402
from geo import queries  # noqa: E402
from geo import service as geo_service  # noqa: E402
from geo.submission import CATEGORY_FOR_REPORT_SQL, SUBMIT_SQL  # noqa: E402

IDENTITY_SQL = _named(_IDENTITY)
JURISDICTION_SQL = _named(queries.JURISDICTION_SQL)
CATEGORY_FOR_REPORT = _named(CATEGORY_FOR_REPORT_SQL)
SUBMIT = _named(SUBMIT_SQL)
DUPLICATES_JSON_SQL = _named(queries.DUPLICATES_JSON_SQL)
CATEGORY_ID_BY_CODE = geo_service._CATEGORY_ID  # already in psycopg's style
CATEGORY_CODES = geo_service._CATEGORY_CODES


class Location(BaseModel):
    type: str = Field(pattern="^Point$")
    coordinates: tuple[float, float]


class Contact(BaseModel):
    email: str | None = None
    phone: str | None = None


class ReportIn(BaseModel):
    category: str = Field(max_length=64)
    location: Location
    description: str = Field(min_length=1, max_length=5000)
    address: str | None = Field(default=None, max_length=300)
    extra: dict[str, Any] = Field(default_factory=dict)
    photo_ids: list[int] = Field(default_factory=list, max_length=3)
    contact: Contact | None = None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=lambda o: o.isoformat(), separators=(",", ":")).encode()


def _problem(status: int, code: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code}
    return Response(_dumps(body), status_code=status, media_type="application/problem+json")


pool = AsyncConnectionPool(
    os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:54329/civicloop_bench"),
    min_size=POOL_SIZE,
    max_size=2 * POOL_SIZE,  # SQLAlchemy's pool_size + max_overflow in core.db.make_engine
    open=False,
    # psycopg_pool's documented way to type the rows: the class names the row type the factory makes.
    connection_class=AsyncConnection[DictRow],
    kwargs={"row_factory": dict_row},
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/api/v1/jurisdictions/{jurisdiction}/reports", status_code=201)
async def submit_report(jurisdiction: str, body: ReportIn, request: Request) -> Response:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _problem(401, "not-authenticated", "sign in first")
    longitude, latitude = body.location.coordinates
    async with pool.connection() as connection:  # commits on exit, before the response is sent
        cursor = connection.cursor()
        await cursor.execute(IDENTITY_SQL, {"token_hash": hashlib.sha256(token.strip().encode()).digest()})
        identity = await cursor.fetchone()
        if identity is None:
            return _problem(401, "invalid-token", "the token is unknown, expired or revoked")
        await cursor.execute(JURISDICTION_SQL, {"slug": jurisdiction})
        found = await cursor.fetchone()
        if found is None:
            return _problem(404, "jurisdiction-not-found", jurisdiction)
        if found["id"] != identity["jurisdiction_id"]:
            return _problem(403, "wrong-jurisdiction", "your account belongs to another jurisdiction")
        await cursor.execute(CATEGORY_FOR_REPORT, {"jurisdiction_id": found["id"], "code": body.category})
        category = await cursor.fetchone()
        if category is None or not category["is_active"] or category["is_group"]:
            return _problem(404, "category-not-found", body.category)
        due = due_at(
            datetime.now(UTC),
            days=category["handling_days"],
            kind=category["handling_day_kind"],
            timezone=found["timezone"],
            country=found["holiday_country"],
        )
        contact = body.contact
        await cursor.execute(
            SUBMIT,
            {
                "jurisdiction_id": found["id"],
                "category_id": category["id"],
                "category_code": category["code"],
                "department_id": category["department_id"],
                "longitude": longitude,
                "latitude": latitude,
                "address": body.address or None,
                "description": body.description,
                "extra": json.dumps(body.extra),
                "is_public": category["is_public"],
                "reporter": identity["id"],
                "email": contact.email.lower() if contact and contact.email else None,
                "phone": contact.phone if contact else None,
                "due_at": due,
            },
        )
        report = await cursor.fetchone()
        if report is None:
            return _problem(
                422, "location-outside-jurisdiction", "the location lies outside the jurisdiction"
            )
    base = f"/api/v1/jurisdictions/{found['slug']}/reports/{report['id']}"
    view = {
        "id": report["id"],
        "jurisdiction": found["slug"],
        "category": category["code"],
        "category_name": category["name"],
        "status": "submitted",
        "status_reason": None,
        "location": {"type": "Point", "coordinates": [round(longitude, 7), round(latitude, 7)]},
        "address": body.address or None,
        "description": body.description,
        "extra": body.extra,
        "area": {"id": report["area_id"], "name": report["area_name"], "level": report["area_level"]},
        "photos": [],
        "supporters": 0,
        "merged_into_id": None,
        "created_at": report["created_at"],
        "updated_at": report["updated_at"],
        "due_at": due,
        "resolved_at": None,
        "history": [
            {
                "from_status": None,
                "to_status": "submitted",
                "reason": None,
                "public_message": None,
                "photo": None,
                "created_at": report["history_at"],
            }
        ],
    }
    return Response(_dumps(view), status_code=201, media_type="application/json", headers={"Location": base})


@app.get("/api/v1/jurisdictions/{jurisdiction}/reports")
async def list_reports(
    jurisdiction: str,
    category: str | None = Query(default=None, max_length=2000),
    near: str | None = Query(default=None, max_length=100),
    radius: float = Query(default=500, gt=0, le=50_000),
    limit: int = Query(default=50, ge=1, le=500),
) -> Response:
    async with pool.connection() as connection:
        cursor = connection.cursor()
        await cursor.execute(JURISDICTION_SQL, {"slug": jurisdiction})
        found = await cursor.fetchone()
        if found is None:
            return _problem(404, "jurisdiction-not-found", jurisdiction)
        flt: dict[str, Any] = {"jurisdiction_id": found["id"], "limit": limit}
        if near is not None:
            lon, lat = (float(v) for v in near.split(","))
            flt |= {"near": (lon, lat), "radius_m": radius}
        if category is not None:
            await cursor.execute(CATEGORY_CODES, {"jurisdiction_id": found["id"]})
            rows = await cursor.fetchall()
            by_code = {r["code"]: r["id"] for r in rows}
            wanted = [c for c in category.split(",") if c]
            if unknown := [c for c in wanted if c not in by_code]:
                return _problem(422, "unknown-category", str(unknown))
            chosen = {by_code[c] for c in wanted}
            chosen |= {r["id"] for r in rows if r["parent_id"] in chosen}
            flt["category_ids"] = tuple(sorted(chosen))
        sql, params = queries.report_list_sql(queries.ReportFilter(**flt))
        await cursor.execute(_named(sql), params)
        rows = await cursor.fetchall()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = queries.encode_cursor(last["distance_m"] if near else last["created_at"], last["id"])
    items = ",".join(row["item"] for row in page)
    cursor_json = f'"{next_cursor}"' if next_cursor else "null"
    return Response(f'{{"items":[{items}],"next_cursor":{cursor_json}}}', media_type="application/json")


@app.get("/api/v1/jurisdictions/{jurisdiction}/reports/duplicates")
async def duplicate_candidates(
    jurisdiction: str,
    category: str = Query(max_length=64),
    longitude: float = Query(ge=-180, le=180, allow_inf_nan=False),
    latitude: float = Query(ge=-90, le=90, allow_inf_nan=False),
    radius: float | None = Query(default=None, gt=0, le=1000, allow_inf_nan=False),
) -> Response:
    async with pool.connection() as connection:
        cursor = connection.cursor()
        await cursor.execute(JURISDICTION_SQL, {"slug": jurisdiction})
        found = await cursor.fetchone()
        if found is None:
            return _problem(404, "jurisdiction-not-found", jurisdiction)
        await cursor.execute(CATEGORY_ID_BY_CODE, {"jurisdiction_id": found["id"], "code": category})
        chosen = await cursor.fetchone()
        if chosen is None:
            return _problem(404, "category-not-found", category)
        await cursor.execute(
            DUPLICATES_JSON_SQL,
            {
                "jurisdiction_id": found["id"],
                "category_id": chosen["id"],
                "longitude": longitude,
                "latitude": latitude,
                "radius": radius or 50.0,
                "open_statuses": queries.OPEN_STATUS_LIST,
                "limit": 20,
            },
        )
        row = await cursor.fetchone()
    assert row is not None  # an aggregate: always one row
    return Response(next(iter(row.values())), media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


served = with_pause_report(app)  # what run.py serves: the app, its GC pauses timed (pauses.py)
