"""A municipality's own wording of a message, per topic and optionally per report status and
category. An override is checked when it is saved (a known topic and status, only placeholders we
fill, a category of this jurisdiction), so a delivery never meets a template it cannot render.
Rendering is :mod:`notifications.templates`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from geo import service as geo_service
from geo.workflow import Status
from notifications import queries, templates
from notifications.errors import TemplateOverrideNotFound, UnknownTemplate
from notifications.models import TemplateOverride


async def put_template_override(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    topic: str,
    status: str | None,
    category_code: str | None,
    locale: str,
    subject: str,
    body: str,
) -> TemplateOverride:
    """Create the override of this topic, status, category and locale, or replace its wording."""
    if topic not in templates.template_topics():
        raise UnknownTemplate(f"no template {topic!r}", allowed=sorted(templates.template_topics()))
    if status is not None and (topic != "report.status_changed" or status not in set(Status)):
        raise UnknownTemplate(
            f"no {topic!r} template for status {status!r}", allowed=sorted(s.value for s in Status)
        )
    templates.check_template(subject)
    templates.check_template(body)
    if category_code is not None:
        await geo_service.get_category(session, jurisdiction_id=jurisdiction_id, code=category_code)
    override = await queries.template_override(
        session,
        jurisdiction_id=jurisdiction_id,
        topic=topic,
        status=status,
        category_code=category_code,
        locale=locale,
    )
    if override is None:
        override = TemplateOverride(
            jurisdiction_id=jurisdiction_id,
            topic=topic,
            status=status,
            category_code=category_code,
            locale=locale,
            subject=subject,
            body=body,
        )
        session.add(override)
    else:
        override.subject, override.body, override.updated_at = subject, body, datetime.now(UTC)
    await session.flush()
    return override


async def delete_template_override(session: AsyncSession, *, jurisdiction_id: int, override_id: int) -> None:
    if not await queries.delete_template_override(
        session, jurisdiction_id=jurisdiction_id, override_id=override_id
    ):
        raise TemplateOverrideNotFound(f"no template override {override_id}")
