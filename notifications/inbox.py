"""A resident's inbox: marking messages read. Listing and counting are plain reads in
:mod:`notifications.queries`; the messages are written by the inbox channel when delivered."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import queries
from notifications.errors import InboxMessageNotFound
from notifications.models import InboxMessage


async def mark_read(session: AsyncSession, *, account_id: int, message_id: int) -> InboxMessage:
    """Another account's message is not found; a message read already keeps its first ``read_at``."""
    message = await queries.inbox_message(session, account_id=account_id, message_id=message_id)
    if message is None:
        raise InboxMessageNotFound(f"no message {message_id} in your inbox")
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
        await session.flush()
    return message
