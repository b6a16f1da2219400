"""A resident's inbox over HTTP (RESIDENT: their own messages only)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import RESIDENT
from api.deps import SessionDep
from api.routers.notifications.common import Id, router
from core.identity import Identity
from notifications import queries
from notifications.inbox import mark_read
from notifications.schemas import InboxMessageRead, UnreadCount


@router.get("/me/inbox", response_model=list[InboxMessageRead], summary="My messages, newest first")
async def inbox(
    jurisdiction: str,
    unread: bool = False,
    before_id: int | None = Query(default=None, ge=1, le=2**62),
    limit: int = Query(default=50, ge=1, le=200),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    return await queries.inbox_messages(
        session, account_id=identity.account_id, unread_only=unread, before_id=before_id, limit=limit
    )


@router.get("/me/inbox/unread-count", response_model=UnreadCount, summary="How many messages are unread")
async def inbox_unread_count(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    return {"unread": await queries.unread_count(session, account_id=identity.account_id)}


@router.post("/me/inbox/{message_id}/read", response_model=InboxMessageRead, summary="Mark one message read")
async def inbox_mark_read(
    jurisdiction: str,
    message_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Any:
    return await mark_read(session, account_id=identity.account_id, message_id=message_id)


@router.post("/me/inbox/read-all", response_model=UnreadCount, summary="Mark every message read")
async def inbox_mark_all_read(
    jurisdiction: str, session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Any:
    await queries.mark_all_read(session, account_id=identity.account_id)
    return {"unread": 0}
