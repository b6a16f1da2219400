"""The rules of public space: reports, their workflow, categories. Services flush, never commit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.blocking import image_processing
from core.db import Reader, fetch_all, fetch_value, psycopg_sql
from core.errors import Forbidden
from core.identity import Identity
from core.outbox import record_event
from geo import queries
from geo.errors import (
    CategoryExists,
    CategoryNotFound,
    CategoryTooDeep,
    DepartmentExists,
    DepartmentNotFound,
    JurisdictionNotFound,
    MergeIntoSelf,
    ReportNotFound,
    ReportNotOpen,
    StaleVersion,
    UnknownCategory,
)
from geo.events import ReportMerged, ReportStatusChanged, ReportSupported
from geo.media import MediaStore
from geo.models import (
    Category,
    Department,
    Photo,
    Report,
    ReportFollower,
    ReportStatusChange,
    ReportSupporter,
)
from geo.photos import process_photo
from geo.queries import JurisdictionRef
from geo.schemas import CategoryCreate, CategoryUpdate, MergeCreate, TransitionCreate
from geo.submission import SubmittedReport, claim_photos, submit_report  # noqa: F401 -- part of this API
from geo.workflow import OPEN_STATUSES, CloseReason, Status, check_transition


async def get_jurisdiction(source: Reader, slug: str) -> JurisdictionRef:
    """Looked up once per unit of work: the policy check and the route ask for the same one."""
    cache: dict[str, JurisdictionRef] | None = None
    if isinstance(source, AsyncSession):
        cache = source.info.setdefault("jurisdictions", {})
        if slug in cache:
            return cache[slug]
    jurisdiction = await queries.jurisdiction_by_slug(source, slug)
    if jurisdiction is None:
        raise JurisdictionNotFound(f"no jurisdiction {slug!r}")
    if cache is not None:
        cache[slug] = jurisdiction
    return jurisdiction


async def get_category(session: AsyncSession, *, jurisdiction_id: int, code: str) -> Category:
    category = await session.scalar(
        select(Category).where(Category.jurisdiction_id == jurisdiction_id, Category.code == code)
    )
    if category is None:
        raise CategoryNotFound(f"no category {code!r} in this jurisdiction")
    return category


_CATEGORY_ID = psycopg_sql(
    "SELECT id FROM categories WHERE jurisdiction_id = :jurisdiction_id AND code = :code"
)
_CATEGORY_CODES = psycopg_sql(
    "SELECT id, code, parent_id FROM categories WHERE jurisdiction_id = :jurisdiction_id"
)
_ALL_CATEGORY_CODES = psycopg_sql("SELECT id, code, parent_id FROM categories")


async def category_id(source: Reader, *, jurisdiction_id: int, code: str) -> int:
    found = await fetch_value(source, _CATEGORY_ID, {"jurisdiction_id": jurisdiction_id, "code": code})
    if found is None:
        raise CategoryNotFound(f"no category {code!r} in this jurisdiction")
    return found


async def category_ids_for_codes(
    source: Reader, *, jurisdiction_id: int | None, raw: str | None
) -> tuple[int, ...] | None:
    """The categories a comma-separated list of codes stands for; ``None`` (no filter) when empty.

    A group stands for itself and its categories. Without a jurisdiction (a map tile over all of them), a
    code names the category of that code in every jurisdiction. The one place codes become ids: the
    report list, the map and the work list all filter through it."""
    if not raw:
        return None
    wanted = {code.strip() for code in raw.split(",") if code.strip()}
    if not wanted:
        return None
    if jurisdiction_id is None:
        rows = await fetch_all(source, _ALL_CATEGORY_CODES, {})
    else:
        rows = await fetch_all(source, _CATEGORY_CODES, {"jurisdiction_id": jurisdiction_id})
    if unknown := sorted(wanted - {row.code for row in rows}):
        raise UnknownCategory(f"unknown categories {unknown}")
    chosen = {row.id for row in rows if row.code in wanted}
    chosen |= {row.id for row in rows if row.parent_id in chosen}
    return tuple(sorted(chosen))


async def _check_department(session: AsyncSession, jurisdiction_id: int, department_id: int | None) -> None:
    if department_id is None:
        return
    found = await session.scalar(
        select(Department.id).where(
            Department.id == department_id, Department.jurisdiction_id == jurisdiction_id
        )
    )
    if found is None:
        raise DepartmentNotFound(f"no department {department_id} in this jurisdiction")


async def department_ids(session: AsyncSession, *, jurisdiction_id: int) -> list[int]:
    return list(
        await session.scalars(select(Department.id).where(Department.jurisdiction_id == jurisdiction_id))
    )


async def create_department(session: AsyncSession, *, jurisdiction_id: int, name: str) -> Department:
    exists = await session.scalar(
        select(Department.id).where(Department.jurisdiction_id == jurisdiction_id, Department.name == name)
    )
    if exists is not None:
        raise DepartmentExists(f"a department named {name!r} exists")
    department = Department(jurisdiction_id=jurisdiction_id, name=name)
    session.add(department)
    await session.flush()
    return department


async def create_category(session: AsyncSession, *, jurisdiction_id: int, data: CategoryCreate) -> Category:
    """Categories form a two-level tree: a group and the categories residents pick from."""
    if await session.scalar(
        select(Category.id).where(Category.jurisdiction_id == jurisdiction_id, Category.code == data.code)
    ):
        raise CategoryExists(f"a category with code {data.code!r} exists")
    parent_id = None
    if data.parent is not None:
        parent = await get_category(session, jurisdiction_id=jurisdiction_id, code=data.parent)
        if parent.parent_id is not None:
            raise CategoryTooDeep("categories nest two levels deep at most")
        parent_id = parent.id
    await _check_department(session, jurisdiction_id, data.department_id)
    category = Category(
        jurisdiction_id=jurisdiction_id,
        parent_id=parent_id,
        code=data.code,
        name=data.name.model_dump(exclude_none=True),
        description=data.description.model_dump(exclude_none=True) if data.description else {},
        keywords=data.keywords,
        department_id=data.department_id,
        handling_days=data.handling_days,
        handling_day_kind=data.handling_day_kind,
        is_public=data.is_public,
        is_active=True,
        extra_fields=[f.model_dump(exclude_none=True) for f in data.extra_fields],
    )
    session.add(category)
    await session.flush()
    return category


async def update_category(
    session: AsyncSession, *, jurisdiction_id: int, code: str, data: CategoryUpdate
) -> Category:
    category = await get_category(session, jurisdiction_id=jurisdiction_id, code=code)
    changes = data.model_dump(exclude_unset=True)
    if "department_id" in changes:
        await _check_department(session, jurisdiction_id, changes["department_id"])
    for key, value in changes.items():
        if key in ("name", "description") and value is not None:
            value = {k: v for k, v in value.items() if v is not None}
        setattr(category, key, value)
    await session.flush()
    return category


async def store_photo(
    session: AsyncSession,
    media: MediaStore,
    *,
    jurisdiction_id: int,
    uploader: Identity,
    data: bytes,
    declared_content_type: str | None,
    kind: str = "report",
    max_bytes: int,
) -> Photo:
    # Decoding, re-encoding and writing the files run in a bounded thread pool: seconds of CPU for a
    # large photo must not stop the event loop (see core.blocking).
    processed = await image_processing.run(
        process_photo, data, declared_content_type=declared_content_type, max_bytes=max_bytes
    )
    suffix = processed.content_type.split("/")[1].replace("jpeg", "jpg")
    storage_key = await image_processing.run(media.put, processed.image, suffix=suffix)
    thumbnail_key = await image_processing.run(media.put, processed.thumbnail, suffix=suffix)
    photo = Photo(
        jurisdiction_id=jurisdiction_id,
        uploader_account_id=uploader.account_id,
        kind=kind,
        storage_key=storage_key,
        thumbnail_key=thumbnail_key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
    )
    session.add(photo)
    await session.flush()
    return photo


async def get_report(
    session: AsyncSession, *, jurisdiction_id: int, report_id: int, lock: bool = False
) -> Report:
    query = select(Report).where(Report.id == report_id, Report.jurisdiction_id == jurisdiction_id)
    if lock:
        query = query.with_for_update()
    report = await session.scalar(query)
    if report is None:
        raise ReportNotFound(f"no report {report_id} in this jurisdiction")
    return report


def can_view_private(identity: Identity | None, report: Report) -> bool:
    return identity is not None and identity.is_staff_of(report.jurisdiction_id, report.department_id)


async def get_visible_report(
    session: AsyncSession, *, jurisdiction_id: int, report_id: int, identity: Identity | None
) -> Report:
    """A report of a non-public category is visible to its reporter and staff only; others get 404."""
    report = await get_report(session, jurisdiction_id=jurisdiction_id, report_id=report_id)
    if not report.is_public and not (
        can_view_private(identity, report)
        or (identity is not None and identity.account_id == report.reporter_account_id)
    ):
        raise ReportNotFound(f"no report {report_id} in this jurisdiction")
    return report


async def add_supporter(
    session: AsyncSession, *, jurisdiction_id: int, report_id: int, resident: Identity
) -> Report:
    """A "me too": counts once per resident, and makes the resident a follower."""
    report = await get_visible_report(
        session, jurisdiction_id=jurisdiction_id, report_id=report_id, identity=resident
    )
    if report.merged_into_id is not None:
        report = await get_report(session, jurisdiction_id=jurisdiction_id, report_id=report.merged_into_id)
    if Status(report.status) not in OPEN_STATUSES:
        raise ReportNotOpen("this report is no longer open; submit a new one if the problem is back")
    inserted = await session.execute(
        pg_insert(ReportSupporter)
        .values(report_id=report.id, account_id=resident.account_id)
        .on_conflict_do_nothing()
        .returning(ReportSupporter.report_id)
    )
    await follow(session, report_id=report.id, account_id=resident.account_id)
    if inserted.scalar_one_or_none() is not None:
        await record_event(
            session,
            jurisdiction_id=jurisdiction_id,
            event=ReportSupported(report_id=report.id, account_id=resident.account_id),
        )
    return report


async def follow(session: AsyncSession, *, report_id: int, account_id: int) -> None:
    await session.execute(
        pg_insert(ReportFollower).values(report_id=report_id, account_id=account_id).on_conflict_do_nothing()
    )


async def unfollow(
    session: AsyncSession, *, jurisdiction_id: int, report_id: int, resident: Identity
) -> None:
    await get_visible_report(session, jurisdiction_id=jurisdiction_id, report_id=report_id, identity=resident)
    await session.execute(
        delete(ReportFollower).where(
            ReportFollower.report_id == report_id, ReportFollower.account_id == resident.account_id
        )
    )


async def supporter_count(session: AsyncSession, report_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(ReportSupporter.report_id == report_id)) or 0)


def _check_version(report: Report, expected_version: int | None) -> None:
    if expected_version is not None and report.version != expected_version:
        raise StaleVersion(
            f"the report changed since you read it (now version {report.version})",
            current_version=report.version,
        )


async def transition_report(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    report_id: int,
    actor: Identity,
    data: TransitionCreate,
    expected_version: int,
) -> Report:
    """Move a report one step; the row lock makes the version check and the write one atomic step."""
    report = await get_report(session, jurisdiction_id=jurisdiction_id, report_id=report_id, lock=True)
    if not actor.is_staff_of(jurisdiction_id, report.department_id):
        raise Forbidden("only field staff of this report's department or an administrator may do this")
    _check_version(report, expected_version)
    check_transition(report.status, data.status.value, reason=data.reason.value if data.reason else None)
    if data.photo_id is not None:
        await claim_photos(
            session,
            photo_ids=[data.photo_id],
            jurisdiction_id=jurisdiction_id,
            uploader=actor,
            report_id=report.id,
        )
    await _apply_status(
        session,
        report,
        actor=actor,
        to_status=data.status.value,
        reason=data.reason.value if data.reason else None,
        public_message=data.public_message,
        internal_note=data.internal_note,
        photo_id=data.photo_id,
    )
    return report


async def _apply_status(
    session: AsyncSession,
    report: Report,
    *,
    actor: Identity,
    to_status: str,
    reason: str | None,
    public_message: str | None,
    internal_note: str | None = None,
    photo_id: int | None = None,
    merged_into_id: int | None = None,
) -> None:
    from_status = report.status
    now = datetime.now(UTC)
    report.status = to_status
    report.status_reason = reason
    report.version += 1
    report.updated_at = now
    if to_status == Status.RESOLVED:
        report.resolved_at = now
    elif to_status == Status.REOPENED:
        report.resolved_at = None
    session.add(
        ReportStatusChange(
            report_id=report.id,
            actor_account_id=actor.account_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            public_message=public_message,
            internal_note=internal_note,
            photo_id=photo_id,
        )
    )
    event = ReportStatusChanged(
        report_id=report.id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        public_message=public_message,
        photo_id=photo_id,
    )
    if merged_into_id is not None:
        event = event.model_copy(update={"merged_into_id": merged_into_id})
    await record_event(session, jurisdiction_id=report.jurisdiction_id, event=event)
    await session.flush()


async def merge_reports(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    report_id: int,
    actor: Identity,
    data: MergeCreate,
    expected_version: int,
) -> Report:
    """Close a duplicate into its master; its followers and "me too"s carry over to the master."""
    if data.into_report_id == report_id:
        raise MergeIntoSelf("a report cannot be merged into itself")
    first, second = sorted((report_id, data.into_report_id))
    locked = {
        r.id: r
        for r in [
            await get_report(session, jurisdiction_id=jurisdiction_id, report_id=first, lock=True),
            await get_report(session, jurisdiction_id=jurisdiction_id, report_id=second, lock=True),
        ]
    }
    duplicate, master = locked[report_id], locked[data.into_report_id]
    if not (
        actor.is_staff_of(jurisdiction_id, duplicate.department_id)
        and actor.is_staff_of(jurisdiction_id, master.department_id)
    ):
        raise Forbidden("merging needs staff rights on both reports")
    _check_version(duplicate, expected_version)
    if master.merged_into_id is not None or Status(master.status) not in OPEN_STATUSES:
        raise ReportNotOpen("the master report must be open and not itself merged")
    check_transition(duplicate.status, Status.CLOSED.value, reason=CloseReason.DUPLICATE.value)
    for table in (ReportFollower, ReportSupporter):
        await session.execute(
            pg_insert(table)
            .from_select(
                ["report_id", "account_id"],
                select(func.cast(literal(master.id), table.report_id.type), table.account_id).where(
                    table.report_id == duplicate.id
                ),
            )
            .on_conflict_do_nothing()
        )
    if duplicate.reporter_account_id is not None:
        await follow(session, report_id=master.id, account_id=duplicate.reporter_account_id)
        await session.execute(
            pg_insert(ReportSupporter)
            .values(report_id=master.id, account_id=duplicate.reporter_account_id)
            .on_conflict_do_nothing()
        )
    duplicate.merged_into_id = master.id
    await _apply_status(
        session,
        duplicate,
        actor=actor,
        to_status=Status.CLOSED.value,
        reason=CloseReason.DUPLICATE.value,
        public_message=data.public_message,
        merged_into_id=master.id,
    )
    await record_event(
        session,
        jurisdiction_id=jurisdiction_id,
        event=ReportMerged(report_id=duplicate.id, merged_into_id=master.id),
    )
    return duplicate
