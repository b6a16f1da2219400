"""Reusable selects of public space. Hot read paths build their JSON in PostgreSQL.

Spatial predicates are written in their indexable form only: ``ST_DWithin(location::geography,
…)`` matches the expression index ``ix_reports_location_geography``; ``&&``/``ST_Intersects`` on
``location`` and ``areas.geom`` use their GiST indexes. A test asserts these plans. The near-list spells
``ST_DWithin`` out as its index test and its exact test, and walks the index in distance order; why is
told at ``REPORT_NEAR_SQL``.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Reader, fetch_all, fetch_tuple, fetch_value, psycopg_sql
from geo.errors import InvalidCursor
from geo.workflow import OPEN_STATUSES

OPEN_STATUS_LIST = sorted(s.value for s in OPEN_STATUSES)
# Spelled out in the SQL (not a parameter) so PostgreSQL can prove it matches the predicate of the
# partial index ``ix_reports_open_location_geography`` that serves the duplicate check.
OPEN_STATUS_SQL = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUS_LIST) + ")"

JURISDICTION_SQL = """
SELECT id, slug, name, timezone, holiday_country, default_locale FROM jurisdictions WHERE slug = :slug
"""


_JURISDICTION = psycopg_sql(JURISDICTION_SQL)


@dataclass(frozen=True, slots=True)
class JurisdictionRef:
    """What requests need of a jurisdiction; read on every request, so a plain row, not an ORM entity."""

    id: int
    slug: str
    name: str
    timezone: str
    holiday_country: str
    default_locale: str


class JurisdictionFields(Protocol):
    """What a rule reads of a jurisdiction: a ``JurisdictionRef`` and the ORM ``Jurisdiction`` both fit,
    so a caller that already holds the entity (the demo, Open311 by API key) need not read it again."""

    @property
    def id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def holiday_country(self) -> str: ...
    @property
    def default_locale(self) -> str: ...


async def jurisdiction_by_slug(source: Reader, slug: str) -> JurisdictionRef | None:
    row = await fetch_tuple(source, _JURISDICTION, {"slug": slug})
    return JurisdictionRef(*row) if row else None


JURISDICTIONS_SQL = """
SELECT j.slug, j.name, j.timezone, j.default_locale,
       (SELECT CASE WHEN e IS NULL THEN NULL
               ELSE ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] END
        FROM (SELECT ST_Extent(a.geom) AS e FROM areas a WHERE a.jurisdiction_id = j.id) AS extent) AS bbox
FROM jurisdictions j
ORDER BY j.slug
"""

# The most local first: a point in Amsterdam lies in a jurisdiction "nl" (all municipalities) and in
# "amsterdam"; the one whose smallest containing area is smallest is the one the resident means.
JURISDICTIONS_AT_SQL = """
SELECT j.slug, j.name, j.timezone, j.default_locale,
       (SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
        FROM (SELECT ST_Extent(a.geom) AS e FROM areas a WHERE a.jurisdiction_id = j.id) AS extent) AS bbox
FROM jurisdictions j
JOIN LATERAL (
    SELECT min(ST_Area(a.geom)) AS smallest FROM areas a
    WHERE a.jurisdiction_id = j.id
      AND ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326))
) AS here ON here.smallest IS NOT NULL
ORDER BY here.smallest, j.slug
"""


async def jurisdictions(
    session: AsyncSession, *, at: tuple[float, float] | None = None
) -> list[dict[str, Any]]:
    """Every jurisdiction with the bounding box of its areas; with ``at``, only those containing it."""
    if at is None:
        rows = await session.execute(text(JURISDICTIONS_SQL))
    else:
        rows = await session.execute(text(JURISDICTIONS_AT_SQL), {"longitude": at[0], "latitude": at[1]})
    return [dict(row._mapping) for row in rows]


CONTAINING_AREA_SQL = """
SELECT id FROM areas
WHERE jurisdiction_id = :jurisdiction_id
  AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326))
ORDER BY CASE level WHEN 'neighbourhood' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, id
LIMIT 1
"""

DUPLICATES_SQL = f"""
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326)::geography AS point)
SELECT r.id, c.code AS category, r.status, r.description, r.created_at,
       ST_AsGeoJSON(r.location)::json AS location,
       ST_Distance(r.location::geography, here.point) AS distance_m,
       (SELECT count(*) FROM report_supporters s WHERE s.report_id = r.id) AS supporters,
       (SELECT '/api/v1/jurisdictions/' || j.slug || '/reports/' || r.id || '/photos/' || p.id || '/thumbnail'
        FROM photos p WHERE p.report_id = r.id AND p.kind = 'report' ORDER BY p.id LIMIT 1) AS thumbnail_url
FROM reports r JOIN categories c ON c.id = r.category_id
     JOIN jurisdictions j ON j.id = r.jurisdiction_id, here
WHERE r.jurisdiction_id = :jurisdiction_id
  AND r.category_id = :category_id
  AND r.status IN {OPEN_STATUS_SQL}
  AND r.merged_into_id IS NULL
  AND r.is_public
  AND ST_DWithin(r.location::geography, here.point, :radius)
ORDER BY distance_m, r.id
LIMIT :limit
"""  # noqa: S608 -- the constant OPEN_STATUS_SQL, never input


DUPLICATES_JSON_SQL = f"""
SELECT coalesce(json_agg(candidate ORDER BY candidate.distance_m, candidate.id), '[]')::text
FROM ({DUPLICATES_SQL}) AS candidate
"""  # noqa: S608 -- a constant of this module is interpolated, never input


_DUPLICATES_JSON = psycopg_sql(DUPLICATES_JSON_SQL)


async def duplicate_candidates_json(
    source: Reader,
    *,
    jurisdiction_id: int,
    category_id: int,
    longitude: float,
    latitude: float,
    radius_m: float,
    limit: int = 20,
) -> str:
    """The duplicate suggestions as a JSON array built by PostgreSQL (the mobile app asks on every draft)."""
    found = await fetch_value(
        source,
        _DUPLICATES_JSON,
        {
            "jurisdiction_id": jurisdiction_id,
            "category_id": category_id,
            "longitude": longitude,
            "latitude": latitude,
            "radius": radius_m,
            "limit": limit,
        },
    )
    return str(found)


@dataclass(frozen=True, slots=True)
class ReportFilter:
    jurisdiction_id: int
    area_id: int | None = None
    category_ids: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float] | None = None
    radius_m: float | None = None
    cursor: tuple[float | datetime, int] | None = None
    limit: int = 50


def encode_cursor(position: float | datetime, report_id: int) -> str:
    """An opaque keyset position: the creation time (newest first) or the distance (nearest first)."""
    raw = f"t{position.isoformat()}" if isinstance(position, datetime) else f"d{position!r}"
    return base64.urlsafe_b64encode(f"{raw}|{report_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, nearest: bool) -> tuple[float | datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position, report_id = raw.split("|")
        if nearest and position.startswith("d"):
            distance = float(position[1:])
            if not 0 <= distance < 1e7:
                raise ValueError
            return distance, int(report_id)
        if not nearest and position.startswith("t"):
            parsed = datetime.fromisoformat(position[1:])
            if parsed.tzinfo is None:
                raise ValueError
            return parsed, int(report_id)
        raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API handed out") from None


_REPORT_ITEM = """json_build_object(
    'id', r.id, 'category', c.code, 'status', r.status, 'status_reason', r.status_reason,
    'location', ST_AsGeoJSON(r.location, 7)::json, 'address', r.address,
    'description', left(r.description, 280), 'area_id', r.area_id,
    'created_at', r.created_at, 'updated_at', r.updated_at, 'due_at', r.due_at
)::text"""
REPORT_LIST_SQL = f"""
SELECT r.id, r.created_at, NULL::float8 AS distance_m, {_REPORT_ITEM} AS item
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE {{where}}
ORDER BY r.created_at DESC, r.id DESC
LIMIT :limit
"""  # noqa: S608 -- constants of this module are interpolated, never input
_NEAR_POINT = "ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)::geography"
_NEAR_ORDER = f"r.location::geography <-> {_NEAR_POINT}"
# On the sphere, as ``<->`` orders, so the keyset cursor agrees with the order.
_NEAR_DISTANCE = f"ST_Distance(r.location::geography, {_NEAR_POINT}, false)"
# Nearest first in two steps, because PostgreSQL 15 walks a GiST index in distance order (KNN) only when
# the distance is the *whole* ORDER BY: with the tie-breaker ``, r.id`` it fetched every report in the
# radius (15-32k at Dam square for 500 m) and sorted them all, 100-160 ms a page. The inner select walks
# the index in ``<->`` order and stops after the page, keeping every row tied with its last one (WITH
# TIES), so the outer sort by (distance, id) over those few rows gives exactly the rows and order of a
# full sort. Only the page's rows reach the JSON.
REPORT_NEAR_SQL = f"""
SELECT r.id, r.created_at, {_NEAR_DISTANCE} AS distance_m, {_REPORT_ITEM} AS item
FROM (
    SELECT r.id, r.category_id, r.status, r.status_reason, r.location, r.address, r.description,
           r.area_id, r.created_at, r.updated_at, r.due_at
    FROM reports r
    WHERE {{where}}
    ORDER BY {_NEAR_ORDER}
    FETCH FIRST :limit ROWS WITH TIES
) r JOIN categories c ON c.id = r.category_id
ORDER BY {_NEAR_ORDER}, r.id
LIMIT :limit
"""  # noqa: S608 -- constants of this module are interpolated, never input
# ``ST_DWithin(geography, geography, radius)`` spelled as the two halves it stands for: the box test its
# support function hands the index (``&&`` with ``_ST_Expand``) and the exact test on the spheroid (the same
# C function, ``geography_dwithin``). Written whole, the support function estimates a 500 m disc at ~100 of
# a million reports (28k in the box at Dam square); at that estimate the KNN page above is costed at ~400k,
# past ``jit_above_cost``, and every execution paid 10-30 ms of JIT compilation for a sub-millisecond scan.
_NEAR_WITHIN = (
    f"r.location::geography && _ST_Expand({_NEAR_POINT}, :radius)"
    f" AND _ST_DWithin(r.location::geography, {_NEAR_POINT}, :radius, true)"
)


def add_report_filters(
    where: list[str],
    params: dict[str, Any],
    *,
    category_ids: Iterable[int] | None,
    statuses: Iterable[str] | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> None:
    """The filters every public report list shares (the API's and Open311's), on reports aliased ``r``:
    categories, statuses, and a half-open creation range ``[after, before)`` (``api.parameters``)."""
    if category_ids is not None:
        where.append("r.category_id = ANY(:category_ids)")
        params["category_ids"] = list(category_ids)
    if statuses is not None:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = list(statuses)
    if created_after is not None:
        where.append("r.created_at >= :created_after")
        params["created_after"] = created_after
    if created_before is not None:
        where.append("r.created_at < :created_before")
        params["created_before"] = created_before


def report_list_sql(flt: ReportFilter) -> tuple[str, dict[str, Any]]:
    """The public report list as rows of JSON built by PostgreSQL.

    Newest first; with ``near``, nearest first instead, walked through the geography index (KNN
    ``<->``), so "what was reported around me" costs the same in a quiet suburb and on Dam square.
    """
    where = ["r.jurisdiction_id = :jurisdiction_id", "r.is_public"]
    params: dict[str, Any] = {"jurisdiction_id": flt.jurisdiction_id, "limit": flt.limit + 1}
    if flt.area_id is not None:
        where.append("ST_Intersects(r.location, (SELECT geom FROM areas WHERE id = :area_id))")
        params["area_id"] = flt.area_id
    add_report_filters(
        where,
        params,
        category_ids=flt.category_ids,
        statuses=flt.statuses,
        created_after=flt.created_after,
        created_before=flt.created_before,
    )
    if flt.bbox is not None:
        where.append("r.location && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)")
        params.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"), flt.bbox, strict=True))
    if flt.near is not None:
        template = REPORT_NEAR_SQL
        where.append(_NEAR_WITHIN)
        params.update(near_lon=flt.near[0], near_lat=flt.near[1], radius=flt.radius_m)
        if flt.cursor is not None:
            where.append(f"({_NEAR_DISTANCE}, r.id) > (:cursor_distance, :cursor_id)")
            params.update(cursor_distance=flt.cursor[0], cursor_id=flt.cursor[1])
    else:
        template = REPORT_LIST_SQL
        if flt.cursor is not None:
            where.append("(r.created_at, r.id) < (:cursor_at, :cursor_id)")
            params.update(cursor_at=flt.cursor[0], cursor_id=flt.cursor[1])
    # Only the fixed clause strings above are put in; every value travels as a bind parameter.
    return template.replace("{where}", " AND ".join(where)), params


# The list's SQL comes in a few hundred shapes at most (which filters are set); converting each once
# saves a regular-expression pass over 1.5 kB on every request (3 % of a near-list request's CPU).
_list_sql_for_psycopg = functools.lru_cache(maxsize=1024)(psycopg_sql)


async def list_reports_json(source: Reader, flt: ReportFilter) -> str:
    sql, params = report_list_sql(flt)
    rows = await fetch_all(source, _list_sql_for_psycopg(sql), params)
    page, more = rows[: flt.limit], len(rows) > flt.limit
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = encode_cursor(last.distance_m if flt.near else last.created_at, last.id)
    items = ",".join(row.item for row in page)
    cursor_json = f'"{next_cursor}"' if next_cursor else "null"
    return f'{{"items":[{items}],"next_cursor":{cursor_json}}}'


AREA_WITHIN_SQL = psycopg_sql("""
WITH RECURSIVE up AS (
    SELECT id, parent_id FROM areas WHERE id = :area_id
    UNION ALL SELECT a.id, a.parent_id FROM areas a JOIN up ON a.id = up.parent_id
)
SELECT coalesce(bool_or(id = ANY(:ancestors)), false) FROM up
""")


async def area_within(session: AsyncSession, *, area_id: int, ancestors: frozenset[int]) -> bool:
    """Is ``area_id`` one of ``ancestors`` or inside one of them? A council member's own areas
    include every neighbourhood of the district they were granted."""
    if area_id in ancestors:
        return True
    if not ancestors:
        return False
    return bool(
        await fetch_value(session, AREA_WITHIN_SQL, {"area_id": area_id, "ancestors": sorted(ancestors)})
    )


_WORKLIST_COLUMNS = """r.id, c.code AS category, c.name AS category_name, r.status, r.description, r.address,
       r.due_at, r.version, r.created_at, ST_AsGeoJSON(r.location)::json AS location"""
_WORKLIST_WHERE = """r.jurisdiction_id = :jurisdiction_id
  AND r.department_id = ANY(:department_ids)
  AND r.status = ANY(:statuses)
  AND r.merged_into_id IS NULL
  AND (CAST(:category_ids AS int[]) IS NULL OR r.category_id = ANY(:category_ids))"""
WORKLIST_ANYWHERE_SQL = f"""
SELECT {_WORKLIST_COLUMNS}, NULL::float8 AS distance_m
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE {_WORKLIST_WHERE}
ORDER BY r.due_at NULLS LAST, r.id
LIMIT :limit
"""  # noqa: S608 -- constants of this module are interpolated, never input
_HERE = "ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326)::geography"
# Nearest first through the geography index (KNN ``<->``), in two steps for the reason told at
# ``REPORT_NEAR_SQL``: with the id tie-breaker in the same ORDER BY, every open report of the departments
# was read and sorted (45-250 ms at a million reports; 1.5-10 ms now).
WORKLIST_NEAR_SQL = f"""
SELECT {_WORKLIST_COLUMNS}, ST_Distance(r.location::geography, {_HERE}) AS distance_m
FROM (
    SELECT r.id, r.category_id, r.status, r.description, r.address, r.due_at, r.version, r.created_at,
           r.location
    FROM reports r
    WHERE {_WORKLIST_WHERE}
    ORDER BY r.location::geography <-> {_HERE}
    FETCH FIRST :limit ROWS WITH TIES
) r JOIN categories c ON c.id = r.category_id
ORDER BY r.location::geography <-> {_HERE}, r.id
LIMIT :limit
"""  # noqa: S608 -- constants of this module are interpolated, never input


async def worklist(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    department_ids: list[int],
    statuses: list[str],
    longitude: float | None,
    latitude: float | None,
    limit: int,
    category_ids: tuple[int, ...] | None = None,
) -> list[dict[str, Any]]:
    result = await session.execute(
        text(WORKLIST_ANYWHERE_SQL if longitude is None or latitude is None else WORKLIST_NEAR_SQL),
        {
            "jurisdiction_id": jurisdiction_id,
            "department_ids": department_ids,
            "statuses": statuses,
            "category_ids": list(category_ids) if category_ids is not None else None,
            "longitude": longitude,
            "latitude": latitude,
            "limit": limit,
        },
    )
    return [dict(row._mapping) for row in result]


WORKLIST_SUMMARY_SQL = """
SELECT r.status, count(*) AS reports, count(*) FILTER (WHERE r.due_at < now()) AS overdue
FROM reports r
WHERE r.jurisdiction_id = :jurisdiction_id
  AND r.department_id = ANY(:department_ids)
  AND r.status = ANY(:statuses)
  AND r.merged_into_id IS NULL
  AND (CAST(:category_ids AS int[]) IS NULL OR r.category_id = ANY(:category_ids))
GROUP BY r.status
ORDER BY r.status
"""


async def worklist_summary(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    department_ids: list[int],
    category_ids: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Open reports of these departments per status, and how many are past their due date."""
    rows = (
        await session.execute(
            text(WORKLIST_SUMMARY_SQL),
            {
                "jurisdiction_id": jurisdiction_id,
                "department_ids": department_ids,
                "statuses": OPEN_STATUS_LIST,
                "category_ids": list(category_ids) if category_ids is not None else None,
            },
        )
    ).all()
    statuses = [{"status": row.status, "reports": row.reports, "overdue": row.overdue} for row in rows]
    return {
        "total": sum(row.reports for row in rows),
        "overdue": sum(row.overdue for row in rows),
        "statuses": statuses,
    }


# Open reports near a report that staff could merge it into: the same index as the duplicate check
# (the partial GiST on open, unmerged reports), nearest first, the same category before others.
_MERGE_CANDIDATES = """
SELECT r.id, c.code AS category, c.name AS category_name, r.status, left(r.description, 280) AS description,
       r.address, ST_AsGeoJSON(r.location)::json AS location,
       ST_Distance(r.location::geography, {_HERE}) AS distance_m,
       (SELECT count(*) FROM report_supporters s WHERE s.report_id = r.id) AS supporters,
       r.category_id = :category_id AS same_category, r.created_at
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE r.jurisdiction_id = :jurisdiction_id
  AND r.id <> :report_id
  AND r.merged_into_id IS NULL
  AND r.status IN {OPEN_STATUS_SQL}
  AND ST_DWithin(r.location::geography, {_HERE}, :radius)
  AND (CAST(:department_ids AS int[]) IS NULL OR r.department_id = ANY(:department_ids))
ORDER BY r.category_id = :category_id DESC, distance_m, r.id
LIMIT :limit
"""
MERGE_CANDIDATES_SQL = _MERGE_CANDIDATES.replace("{_HERE}", _HERE).replace(
    "{OPEN_STATUS_SQL}", OPEN_STATUS_SQL
)


async def merge_candidates(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    report_id: int,
    category_id: int,
    longitude: float,
    latitude: float,
    radius: float,
    department_ids: list[int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """``department_ids`` None: every department (an administrator)."""
    result = await session.execute(
        text(MERGE_CANDIDATES_SQL),
        {
            "jurisdiction_id": jurisdiction_id,
            "report_id": report_id,
            "category_id": category_id,
            "longitude": longitude,
            "latitude": latitude,
            "radius": radius,
            "department_ids": department_ids,
            "limit": limit,
        },
    )
    return [dict(row._mapping) for row in result]


# The reports an account made or follows, newest first: two index range scans (the reporter index and
# the followers' account index) instead of a scan of the jurisdiction's reports.
MY_REPORTS_SQL = """
WITH mine AS (
    SELECT id FROM reports
    WHERE reporter_account_id = :account_id AND jurisdiction_id = :jurisdiction_id
      AND (CAST(:before_id AS bigint) IS NULL OR id < :before_id)
      AND (CAST(:report_id AS bigint) IS NULL OR id = :report_id)
    UNION
    SELECT f.report_id FROM report_followers f
    WHERE f.account_id = :account_id
      AND (CAST(:before_id AS bigint) IS NULL OR f.report_id < :before_id)
      AND (CAST(:report_id AS bigint) IS NULL OR f.report_id = :report_id)
)
SELECT coalesce(json_agg(item ORDER BY item.id DESC), '[]')::text FROM (
    SELECT r.id, c.code AS category, c.name AS category_name, r.status, r.status_reason,
           left(r.description, 280) AS description, r.address, r.created_at, r.updated_at, r.due_at,
           r.resolved_at, r.reporter_account_id IS NOT DISTINCT FROM :account_id AS reported,
           EXISTS (SELECT 1 FROM report_followers f
                   WHERE f.report_id = r.id AND f.account_id = :account_id) AS following,
           (SELECT '/api/v1/jurisdictions/' || :slug || '/reports/' || r.id || '/photos/' || p.id
                   || '/thumbnail'
            FROM photos p WHERE p.report_id = r.id AND p.kind = 'report' ORDER BY p.id LIMIT 1)
               AS thumbnail_url
    FROM reports r JOIN categories c ON c.id = r.category_id
    WHERE r.id IN (SELECT id FROM mine) AND r.jurisdiction_id = :jurisdiction_id
    ORDER BY r.id DESC
    LIMIT :limit
) AS item
"""


async def my_reports_json(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    slug: str,
    account_id: int,
    before_id: int | None,
    report_id: int | None,
    limit: int,
) -> str:
    """JSON array of the account's own and followed reports (the resident sees their own private ones)."""
    found = await session.scalar(
        text(MY_REPORTS_SQL),
        {
            "jurisdiction_id": jurisdiction_id,
            "slug": slug,
            "account_id": account_id,
            "before_id": before_id,
            "report_id": report_id,
            "limit": limit,
        },
    )
    return str(found)
