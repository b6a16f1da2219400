"""Public message templates: staff read the ones for the status they move a report to; administrators
write them. See ``geo/message_templates.py``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, STAFF
from api.deps import SessionDep
from api.idempotency import idempotent
from core.identity import Identity
from geo import message_templates, service
from geo.schemas import MessageTemplateCreate, MessageTemplateRead, MessageTemplateUpdate
from geo.workflow import Status

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["field staff"])
TemplateId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "/message-templates",
    response_model=list[MessageTemplateRead],
    summary="Ready public messages for a status change (the category's own first)",
)
async def list_templates(
    jurisdiction: str,
    status: Status | None = Query(default=None, description="the status the report moves to"),
    category: str | None = Query(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
    session: AsyncSession = SessionDep,
    _: Identity = Depends(STAFF),
) -> list[dict[str, Any]]:
    found = await service.get_jurisdiction(session, jurisdiction)
    return await message_templates.list_templates(
        session,
        jurisdiction_id=found.id,
        status=status.value if status is not None else None,
        category=category,
    )


@router.post(
    "/message-templates",
    status_code=201,
    response_model=MessageTemplateRead,
    summary="Add a public message template",
)
async def create_template(
    jurisdiction: str,
    body: MessageTemplateCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(ADMIN),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)

    async def produce() -> tuple[int, object, dict[str, str]]:
        template = await message_templates.create_template(session, jurisdiction_id=found.id, data=body)
        return 201, MessageTemplateRead.model_validate(await message_templates.render(session, template)), {}

    return await idempotent(request, session, scope=f"account:{identity.account_id}", produce=produce)


@router.patch(
    "/message-templates/{template_id}",
    response_model=MessageTemplateRead,
    summary="Change a public message template",
)
async def update_template(
    jurisdiction: str,
    template_id: TemplateId,
    body: MessageTemplateUpdate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> dict[str, Any]:
    found = await service.get_jurisdiction(session, jurisdiction)
    template = await message_templates.update_template(
        session, jurisdiction_id=found.id, template_id=template_id, data=body
    )
    return await message_templates.render(session, template)


@router.delete(
    "/message-templates/{template_id}", status_code=204, summary="Remove a public message template"
)
async def delete_template(
    jurisdiction: str,
    template_id: TemplateId,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    await message_templates.delete_template(session, jurisdiction_id=found.id, template_id=template_id)
    return Response(status_code=204)
