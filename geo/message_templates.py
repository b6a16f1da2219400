"""Public message templates: the ready texts field staff pick when they change a report's status.

A template is for one target status and either one category or all of them. Staff get the ones for the
status they are moving a report to, the category's own first; the text they send (edited or not) is
stored on the status change itself, so a template edited later never rewrites what residents were told.
Services flush, never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import MessageTemplateNotFound
from geo.models import Category, MessageTemplate
from geo.schemas import MessageTemplateCreate, MessageTemplateUpdate
from geo.service import get_category


def _translated(value: Any) -> dict[str, str]:
    """{nl, en} with English falling back to Dutch, as category names are stored."""
    return {"nl": value.nl, "en": value.en or value.nl}


async def render(session: AsyncSession, template: MessageTemplate) -> dict[str, Any]:
    code = None
    if template.category_id is not None:
        code = await session.scalar(select(Category.code).where(Category.id == template.category_id))
    return {
        "id": template.id,
        "status": template.status,
        "category": code,
        "title": template.title,
        "text": template.message,
        "updated_at": template.updated_at,
    }


async def list_templates(
    session: AsyncSession, *, jurisdiction_id: int, status: str | None, category: str | None
) -> list[dict[str, Any]]:
    """Templates for ``status`` (all statuses when None). With ``category``: that category's own and the
    general ones, the category's own first; without: every template."""
    statement = (
        select(MessageTemplate, Category.code)
        .outerjoin(Category, Category.id == MessageTemplate.category_id)
        .where(MessageTemplate.jurisdiction_id == jurisdiction_id)
    )
    if status is not None:
        statement = statement.where(MessageTemplate.status == status)
    if category is not None:
        found = await get_category(session, jurisdiction_id=jurisdiction_id, code=category)
        # A group's templates apply to its categories too.
        applicable = [found.id] + ([found.parent_id] if found.parent_id is not None else [])
        statement = statement.where(
            MessageTemplate.category_id.is_(None) | MessageTemplate.category_id.in_(applicable)
        ).order_by(MessageTemplate.category_id.is_(None), MessageTemplate.id)
    else:
        statement = statement.order_by(MessageTemplate.status, MessageTemplate.id)
    rows = (await session.execute(statement)).all()
    return [
        {
            "id": template.id,
            "status": template.status,
            "category": code,
            "title": template.title,
            "text": template.message,
            "updated_at": template.updated_at,
        }
        for template, code in rows
    ]


async def get_template(session: AsyncSession, *, jurisdiction_id: int, template_id: int) -> MessageTemplate:
    template = await session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.id == template_id, MessageTemplate.jurisdiction_id == jurisdiction_id
        )
    )
    if template is None:
        raise MessageTemplateNotFound(f"no message template {template_id} in this jurisdiction")
    return template


async def create_template(
    session: AsyncSession, *, jurisdiction_id: int, data: MessageTemplateCreate
) -> MessageTemplate:
    category_id = None
    if data.category is not None:
        category_id = (await get_category(session, jurisdiction_id=jurisdiction_id, code=data.category)).id
    template = MessageTemplate(
        jurisdiction_id=jurisdiction_id,
        status=data.status.value,
        category_id=category_id,
        title=_translated(data.title),
        message=_translated(data.text),
    )
    session.add(template)
    await session.flush()
    await session.refresh(template)
    return template


async def update_template(
    session: AsyncSession, *, jurisdiction_id: int, template_id: int, data: MessageTemplateUpdate
) -> MessageTemplate:
    template = await get_template(session, jurisdiction_id=jurisdiction_id, template_id=template_id)
    if "category" in data.model_fields_set:
        template.category_id = (
            None
            if data.category is None
            else (await get_category(session, jurisdiction_id=jurisdiction_id, code=data.category)).id
        )
    if data.title is not None:
        template.title = _translated(data.title)
    if data.text is not None:
        template.message = _translated(data.text)
    template.updated_at = datetime.now(UTC)
    await session.flush()
    return template


async def delete_template(session: AsyncSession, *, jurisdiction_id: int, template_id: int) -> None:
    template = await get_template(session, jurisdiction_id=jurisdiction_id, template_id=template_id)
    await session.delete(template)
    await session.flush()
