"""Submitting a report: the hottest write path, so it is a handful of statements, not an ORM flush.

One lookup reads the category; one statement finds the containing area and, only if there is one,
inserts the report, its first status record, the reporter as follower and the outbox event
(data-modifying CTEs run in the same transaction, so all of it lands or none of it). The answer is
rendered from what those statements returned, without reading the report back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.db import Reader, fetch_all, fetch_one, psycopg_sql
from core.identity import Identity
from geo.deadlines import due_at
from geo.errors import CategoryNotFound, CategoryNotSelectable, OutsideJurisdiction, PhotoNotFound
from geo.extra_fields import validate_answers
from geo.queries import CONTAINING_AREA_SQL, JurisdictionFields
from geo.schemas import ReportCreate
from geo.workflow import Status

CATEGORY_FOR_REPORT_SQL = """
SELECT c.id, c.code, c.name, c.department_id, c.handling_days, c.handling_day_kind, c.is_public, c.is_active,
       c.extra_fields, EXISTS (SELECT 1 FROM categories k WHERE k.parent_id = c.id) AS is_group
FROM categories c
WHERE c.jurisdiction_id = :jurisdiction_id AND c.code = :code
"""

SUBMIT_SQL = f"""
WITH area AS ({CONTAINING_AREA_SQL.replace("SELECT id FROM areas", "SELECT id, name, level FROM areas")}),
report AS (
    INSERT INTO reports (jurisdiction_id, category_id, department_id, area_id, location, address,
                         description, extra, status, is_public, reporter_account_id, reporter_email,
                         reporter_phone, version, due_at)
    SELECT :jurisdiction_id, :category_id, CAST(:department_id AS integer), area.id,
           ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326), CAST(:address AS varchar),
           CAST(:description AS text), CAST(:extra AS jsonb), 'submitted', CAST(:is_public AS boolean),
           :reporter, CAST(:email AS varchar), CAST(:phone AS varchar), 1, CAST(:due_at AS timestamptz)
    FROM area
    RETURNING id, area_id, created_at, updated_at
),
history AS (
    INSERT INTO report_status_changes (report_id, actor_account_id, to_status)
    SELECT id, :reporter, 'submitted' FROM report
    RETURNING created_at
),
follower AS (
    INSERT INTO report_followers (report_id, account_id) SELECT id, :reporter FROM report
),
event AS (
    INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)
    SELECT :jurisdiction_id, 'report.submitted', 'report', id,
           jsonb_build_object('report_id', id, 'category', CAST(:category_code AS text), 'area_id', area_id,
                              'status', 'submitted')
    FROM report
)
SELECT report.id, report.created_at, report.updated_at, area.id AS area_id, area.name AS area_name,
       area.level AS area_level, history.created_at AS history_at
FROM report, area, history
"""  # noqa: S608 -- a constant of this module is interpolated, never input

CLAIM_PHOTOS_SQL = """
UPDATE photos SET report_id = :report_id
WHERE id = ANY(:photo_ids) AND jurisdiction_id = :jurisdiction_id AND uploader_account_id = :uploader
  AND report_id IS NULL
RETURNING id, kind, width, height
"""
_CATEGORY_FOR_REPORT = psycopg_sql(CATEGORY_FOR_REPORT_SQL)
_SUBMIT = psycopg_sql(SUBMIT_SQL)
_CLAIM_PHOTOS = psycopg_sql(CLAIM_PHOTOS_SQL)


@dataclass(frozen=True, slots=True)
class SubmittedReport:
    """A report just written, with what its first rendering needs."""

    id: int
    jurisdiction_id: int
    jurisdiction_slug: str
    category_code: str
    category_name: dict[str, str]
    is_public: bool
    location: tuple[float, float]
    address: str | None
    description: str
    extra: dict[str, Any]
    area: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    history_at: datetime
    photos: list[dict[str, Any]] = field(default_factory=list)
    status: str = Status.SUBMITTED.value
    version: int = 1

    def public_view(self) -> dict[str, Any]:
        base = f"/api/v1/jurisdictions/{self.jurisdiction_slug}/reports/{self.id}"
        return {
            "id": self.id,
            "jurisdiction": self.jurisdiction_slug,
            "category": self.category_code,
            "category_name": self.category_name,
            "status": self.status,
            "status_reason": None,
            "location": {
                "type": "Point",
                "coordinates": [round(self.location[0], 7), round(self.location[1], 7)],
            },
            "address": self.address,
            "description": self.description,
            "extra": self.extra,
            "area": self.area,
            "photos": [
                photo
                | {
                    "url": f"{base}/photos/{photo['id']}",
                    "thumbnail_url": f"{base}/photos/{photo['id']}/thumbnail",
                }
                for photo in self.photos
            ],
            "supporters": 0,
            "merged_into_id": None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "due_at": self.due_at,
            "resolved_at": None,
            "history": [
                {
                    "from_status": None,
                    "to_status": self.status,
                    "reason": None,
                    "public_message": None,
                    "photo": None,
                    "created_at": self.history_at,
                }
            ],
        }


async def claim_photos(
    unit: Reader, *, photo_ids: list[int], jurisdiction_id: int, uploader: Identity, report_id: int
) -> list[dict[str, Any]]:
    """Attach uploaded photos to a report; only the uploader's own, not yet used photos qualify."""
    if not photo_ids:
        return []
    rows = await fetch_all(
        unit,
        _CLAIM_PHOTOS,
        {
            "report_id": report_id,
            "photo_ids": photo_ids,
            "jurisdiction_id": jurisdiction_id,
            "uploader": uploader.account_id,
        },
    )
    if missing := sorted(set(photo_ids) - {row.id for row in rows}):
        raise PhotoNotFound(
            f"photos {missing} are not yours to attach, or already attached", photo_ids=missing
        )
    order = {photo_id: index for index, photo_id in enumerate(photo_ids)}
    return [row._asdict() for row in sorted(rows, key=lambda row: order[row.id])]


async def submit_report(
    unit: Reader, *, jurisdiction: JurisdictionFields, data: ReportCreate, reporter: Identity
) -> SubmittedReport:
    """``unit``: the request's unit of work, a session or (the API's create) a plain transaction."""
    category = await fetch_one(
        unit, _CATEGORY_FOR_REPORT, {"jurisdiction_id": jurisdiction.id, "code": data.category}
    )
    if category is None:
        raise CategoryNotFound(f"no category {data.category!r} in this jurisdiction")
    if not category.is_active:
        raise CategoryNotSelectable(f"category {category.code!r} no longer takes reports")
    if category.is_group:
        raise CategoryNotSelectable(f"{category.code!r} is a group; pick one of its categories")
    extra = validate_answers(category.extra_fields, data.extra)
    deadline = due_at(
        datetime.now(UTC),
        days=category.handling_days,
        kind=category.handling_day_kind,
        timezone=jurisdiction.timezone,
        country=jurisdiction.holiday_country,
    )
    contact = data.contact
    row = await fetch_one(
        unit,
        _SUBMIT,
        {
            "jurisdiction_id": jurisdiction.id,
            "category_id": category.id,
            "category_code": category.code,
            "department_id": category.department_id,
            "longitude": data.location.longitude,
            "latitude": data.location.latitude,
            "address": data.address or None,
            "description": data.description,
            "extra": json.dumps(extra),
            "is_public": category.is_public,
            "reporter": reporter.account_id,
            "email": str(contact.email).lower() if contact and contact.email else None,
            "phone": contact.phone if contact else None,
            "due_at": deadline,
        },
    )
    if row is None:
        raise OutsideJurisdiction(
            f"the location lies outside {jurisdiction.name}; the municipality cannot act there"
        )
    photos = await claim_photos(
        unit,
        photo_ids=data.photo_ids,
        jurisdiction_id=jurisdiction.id,
        uploader=reporter,
        report_id=row.id,
    )
    return SubmittedReport(
        id=row.id,
        jurisdiction_id=jurisdiction.id,
        jurisdiction_slug=jurisdiction.slug,
        category_code=category.code,
        category_name=category.name,
        is_public=category.is_public,
        location=data.location.coordinates,
        address=data.address or None,
        description=data.description,
        extra=extra,
        area={"id": row.area_id, "name": row.area_name, "level": row.area_level},
        created_at=row.created_at,
        updated_at=row.updated_at,
        due_at=deadline,
        history_at=row.history_at,
        photos=photos,
    )
