"""Rendering one report for the public or for staff. Contact data only ever enters the staff view."""

from __future__ import annotations

from typing import Any, cast

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import Area, Category, Jurisdiction, Photo, Report, ReportStatusChange, ReportSupporter
from geo.workflow import TRANSITIONS, Status


def photo_view(photo: Photo, *, base: str) -> dict[str, Any]:
    return {
        "id": photo.id,
        "url": f"{base}/photos/{photo.id}",
        "thumbnail_url": f"{base}/photos/{photo.id}/thumbnail",
        "width": photo.width,
        "height": photo.height,
        "kind": photo.kind,
    }


def point_geojson(location: WKBElement) -> dict[str, Any]:
    point = cast(Point, to_shape(location))  # a Geometry("POINT") column
    return {"type": "Point", "coordinates": [round(point.x, 7), round(point.y, 7)]}


async def render_report(session: AsyncSession, report: Report, *, staff: bool) -> dict[str, Any]:
    # session.get answers from the identity map when the caller already loaded these rows.
    jurisdiction = await session.get_one(Jurisdiction, report.jurisdiction_id)
    category = await session.get_one(Category, report.category_id)
    area = await session.get(Area, report.area_id) if report.area_id else None
    base = f"/api/v1/jurisdictions/{jurisdiction.slug}/reports/{report.id}"
    photos = list(await session.scalars(select(Photo).where(Photo.report_id == report.id).order_by(Photo.id)))
    by_id = {p.id: photo_view(p, base=base) for p in photos}
    changes = await session.scalars(
        select(ReportStatusChange)
        .where(ReportStatusChange.report_id == report.id)
        .order_by(ReportStatusChange.id)
    )
    history = []
    for change in changes:
        entry: dict[str, Any] = {
            "from_status": change.from_status,
            "to_status": change.to_status,
            "reason": change.reason,
            "public_message": change.public_message,
            "photo": by_id.get(change.photo_id) if change.photo_id else None,
            "created_at": change.created_at,
        }
        if staff:
            entry |= {"internal_note": change.internal_note, "actor_account_id": change.actor_account_id}
        history.append(entry)
    location = point_geojson(report.location)
    supporters = await session.scalar(select(func.count()).where(ReportSupporter.report_id == report.id))
    view: dict[str, Any] = {
        "id": report.id,
        "jurisdiction": jurisdiction.slug,
        "category": category.code,
        "category_name": category.name,
        "status": report.status,
        "status_reason": report.status_reason,
        "location": location,
        "address": report.address,
        "description": report.description,
        "extra": report.extra,
        "area": {"id": area.id, "name": area.name, "level": area.level} if area else None,
        "photos": [v for v in by_id.values() if v["kind"] == "report"],
        "supporters": supporters or 0,
        "merged_into_id": report.merged_into_id,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "due_at": report.due_at,
        "resolved_at": report.resolved_at,
        "history": history,
    }
    if staff:
        view |= {
            "version": report.version,
            "department_id": report.department_id,
            "reporter_account_id": report.reporter_account_id,
            "contact": {"email": report.reporter_email, "phone": report.reporter_phone},
            # The workflow table's row for this report: the app offers exactly these moves.
            "allowed_transitions": sorted(s.value for s in TRANSITIONS[Status(report.status)]),
        }
    return view
