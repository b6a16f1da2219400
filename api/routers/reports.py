"""Residents' side of reports: photos, submit, duplicates, "me too", follow, public reads."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT, path_jurisdiction
from api.deps import (
    SessionDep,
    UnitOfWorkDep,
    get_media,
    get_settings,
    on_plain_transaction,
    plain_transactions,
)
from api.idempotency import idempotent
from api.parameters import (
    DEFAULT_NEAR_RADIUS_M,
    BboxQuery,
    CreatedAfterQuery,
    CreatedBeforeQuery,
    CursorQuery,
    LatitudeQuery,
    LimitQuery,
    LongitudeQuery,
    NearQuery,
    NearRadiusQuery,
    StatusQuery,
    position_and_radius,
    radius_query,
    report_list_query,
)
from core.db import Reader
from core.errors import RoleRequired
from core.identity import Identity
from core.settings import Settings
from geo import queries, service
from geo.errors import PhotoNotFound
from geo.media import MediaStore
from geo.models import Photo
from geo.schemas import DuplicateCandidate, MyReportPage, ReportCreate, ReportPage, ReportPublic, SupportRead
from geo.views import render_report

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["reports"])
ReportId = Annotated[int, Path(ge=1, le=2**62)]


class PhotoUploaded(BaseModel):
    """An uploaded photo, not yet attached: pass its ``id`` in a report's ``photo_ids``."""

    id: int
    kind: str
    content_type: str
    width: int
    height: int


@router.post(
    "/photos", status_code=201, response_model=PhotoUploaded, summary="Upload a photo (before a report)"
)
async def upload_photo(
    jurisdiction: str,
    request: Request,
    file: UploadFile = File(description="JPEG, PNG, WebP or HEIC; re-encoded, all metadata removed"),
    kind: str = Form(default="report", pattern="^(report|after)$"),
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    media: MediaStore = Depends(get_media),
    identity: Identity = Depends(RESIDENT),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    if kind == "after" and not identity.is_staff_of(found.id, None) and not identity.department_ids:
        raise RoleRequired("only field staff upload 'after' photos")
    data = await file.read(settings.max_photo_bytes + 1)

    async def produce() -> tuple[int, object, dict[str, str]]:
        photo = await service.store_photo(
            session,
            media,
            jurisdiction_id=found.id,
            uploader=identity,
            data=data,
            declared_content_type=file.content_type,
            kind=kind,
            max_bytes=settings.max_photo_bytes,
        )
        return 201, PhotoUploaded.model_validate(photo, from_attributes=True), {}

    fingerprint = b"\0".join([kind.encode(), (file.filename or "").encode(), data])
    return await idempotent(
        request, session, scope=f"account:{identity.account_id}", produce=produce, body=fingerprint
    )


@router.post("/reports", status_code=201, response_model=ReportPublic, summary="Submit a report")
@on_plain_transaction
async def submit_report(
    jurisdiction: str,
    body: ReportCreate,
    request: Request,
    unit: Reader = UnitOfWorkDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    # The hottest write runs on a plain transaction, not an ORM session (``on_plain_transaction``):
    # the policy's identity and device write limit, the idempotency key and the submission in one
    # transaction on one psycopg connection (docs/benchmarks.md, "create off the ORM session").
    found = await path_jurisdiction(request, unit, jurisdiction)

    async def produce() -> tuple[int, object, dict[str, str]]:
        report = await service.submit_report(unit, jurisdiction=found, data=body, reporter=identity)
        return (
            201,
            report.public_view(),
            {"Location": f"/api/v1/jurisdictions/{found.slug}/reports/{report.id}"},
        )

    return await idempotent(request, unit, scope=f"account:{identity.account_id}", produce=produce)


@router.get(
    "/reports",
    summary="List public reports",
    response_model=ReportPage,
)
async def list_reports(
    jurisdiction: str,
    request: Request,
    bbox: BboxQuery = None,
    near: NearQuery = None,
    radius: NearRadiusQuery = DEFAULT_NEAR_RADIUS_M,
    status: StatusQuery = None,
    created_after: CreatedAfterQuery = None,
    created_before: CreatedBeforeQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    area_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    category: str | None = Query(default=None, max_length=2000, description="comma-separated codes"),
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    filters = report_list_query(
        bbox=bbox,
        near=near,
        radius=radius,
        status=status,
        created_after=created_after,
        created_before=created_before,
        cursor=cursor,
        limit=limit,
    )
    near_by, page = filters.near, filters.page
    # A public read: a plain connection, no ORM session (docs/benchmarks.md, "issue 13").
    async with plain_transactions(request).transaction() as connection:
        found = await service.get_jurisdiction(connection, jurisdiction)
        flt = queries.ReportFilter(
            jurisdiction_id=found.id,
            area_id=area_id,
            category_ids=await service.category_ids_for_codes(
                connection, jurisdiction_id=found.id, raw=category
            ),
            statuses=filters.statuses,
            created_after=filters.created.start,
            created_before=filters.created.end,
            bbox=filters.bbox,
            near=near_by.point if near_by else None,
            radius_m=near_by.radius_m if near_by else None,
            cursor=queries.decode_cursor(page.cursor, nearest=near_by is not None) if page.cursor else None,
            limit=page.limit,
        )
        body = await queries.list_reports_json(connection, flt)
    return Response(body, media_type="application/json")


@router.get(
    "/me/reports",
    summary="My reports: the ones I made or follow, newest first",
    response_model=MyReportPage,
)
async def my_reports(
    jurisdiction: str,
    before_id: int | None = Query(default=None, ge=1, le=2**62, description="page: ids below this one"),
    report_id: int | None = Query(default=None, ge=1, le=2**62, description="only this report, if mine"),
    limit: int = Query(default=50, ge=1, le=200),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    items = await queries.my_reports_json(
        session,
        jurisdiction_id=found.id,
        slug=found.slug,
        account_id=identity.account_id,
        before_id=before_id,
        report_id=report_id,
        limit=limit + 1,
    )
    rows = orjson.loads(items)
    more = len(rows) > limit
    rows = rows[:limit]
    page = {"items": rows, "next_before_id": rows[-1]["id"] if more else None}
    return Response(orjson.dumps(page), media_type="application/json")


@router.get(
    "/reports/duplicates",
    response_model=list[DuplicateCandidate],
    summary="Open reports of the same category nearby, nearest first",
)
async def duplicate_candidates(
    jurisdiction: str,
    request: Request,
    longitude: LongitudeQuery = None,
    latitude: LatitudeQuery = None,
    category: str = Query(max_length=64),
    radius: float | None = radius_query(maximum=1000, description="metres around the position"),
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    around = position_and_radius(longitude, latitude, radius, maximum=1000)
    # The default radius from the app's settings, not a ``Depends(get_settings)``: one dependency less
    # to solve on a hot public read.
    settings: Settings = request.app.state.settings
    async with plain_transactions(request).transaction() as connection:
        found = await service.get_jurisdiction(connection, jurisdiction)
        category_id = await service.category_id(connection, jurisdiction_id=found.id, code=category)
        candidates = await queries.duplicate_candidates_json(
            connection,
            jurisdiction_id=found.id,
            category_id=category_id,
            longitude=around.point.longitude,
            latitude=around.point.latitude,
            radius_m=around.radius_m or settings.duplicate_radius_m,
        )
    return Response(candidates, media_type="application/json")


@router.get("/reports/{report_id}", response_model=ReportPublic, summary="One report, public view")
async def read_report(
    jurisdiction: str,
    report_id: ReportId,
    session: AsyncSession = SessionDep,
    identity: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    found = await service.get_jurisdiction(session, jurisdiction)
    report = await service.get_visible_report(
        session, jurisdiction_id=found.id, report_id=report_id, identity=identity
    )
    return await render_report(session, report, staff=False)


async def _photo_file(
    session: AsyncSession,
    media: MediaStore,
    *,
    jurisdiction: str,
    report_id: int,
    photo_id: int,
    identity: Identity | None,
    thumbnail: bool,
) -> FileResponse:
    found = await service.get_jurisdiction(session, jurisdiction)
    report = await service.get_visible_report(
        session, jurisdiction_id=found.id, report_id=report_id, identity=identity
    )
    photo = await session.scalar(select(Photo).where(Photo.id == photo_id, Photo.report_id == report_id))
    if photo is None:
        raise PhotoNotFound(f"no photo {photo_id} on report {report_id}")
    key = photo.thumbnail_key if thumbnail else photo.storage_key
    # A photo's bytes never change (content-addressed), but only a public report's may sit in shared
    # caches (a CDN, a proxy); a non-public one is for its reporter and staff only, and kept nowhere.
    cache = "public, max-age=31536000, immutable" if report.is_public else "private, no-store"
    return FileResponse(media.path(key), media_type=photo.content_type, headers={"Cache-Control": cache})


@router.get("/reports/{report_id}/photos/{photo_id}", response_class=FileResponse)
async def read_photo(
    jurisdiction: str,
    report_id: ReportId,
    photo_id: int = Path(ge=1, le=2**63 - 1),
    session: AsyncSession = SessionDep,
    media: MediaStore = Depends(get_media),
    identity: Identity | None = Depends(PUBLIC),
) -> FileResponse:
    return await _photo_file(
        session,
        media,
        jurisdiction=jurisdiction,
        report_id=report_id,
        photo_id=photo_id,
        identity=identity,
        thumbnail=False,
    )


@router.get("/reports/{report_id}/photos/{photo_id}/thumbnail", response_class=FileResponse)
async def read_photo_thumbnail(
    jurisdiction: str,
    report_id: ReportId,
    photo_id: int = Path(ge=1, le=2**63 - 1),
    session: AsyncSession = SessionDep,
    media: MediaStore = Depends(get_media),
    identity: Identity | None = Depends(PUBLIC),
) -> FileResponse:
    return await _photo_file(
        session,
        media,
        jurisdiction=jurisdiction,
        report_id=report_id,
        photo_id=photo_id,
        identity=identity,
        thumbnail=True,
    )


@router.post(
    "/reports/{report_id}/supporters",
    status_code=201,
    response_model=SupportRead,
    summary='"Me too": I see this problem as well',
)
async def support_report(
    jurisdiction: str,
    report_id: ReportId,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)

    async def produce() -> tuple[int, object, dict[str, str]]:
        report = await service.add_supporter(
            session, jurisdiction_id=found.id, report_id=report_id, resident=identity
        )
        count = await service.supporter_count(session, report.id)
        return 201, SupportRead(report_id=report.id, supporters=count, following=True), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.put("/reports/{report_id}/followers/me", status_code=204, summary="Follow a report")
async def follow_report(
    jurisdiction: str,
    report_id: ReportId,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    report = await service.get_visible_report(
        session, jurisdiction_id=found.id, report_id=report_id, identity=identity
    )
    await service.follow(
        session, report_id=report.merged_into_id or report.id, account_id=identity.account_id
    )
    return Response(status_code=204)


@router.delete("/reports/{report_id}/followers/me", status_code=204, summary="Stop following a report")
async def unfollow_report(
    jurisdiction: str,
    report_id: ReportId,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    await service.unfollow(session, jurisdiction_id=found.id, report_id=report_id, resident=identity)
    return Response(status_code=204)
