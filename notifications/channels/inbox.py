"""The in-app inbox: a delivery becomes a row the mobile app lists, in the worker's transaction.

Insert and "delivered" commit together; the unique ``(event_id, account_id)`` makes a replay a no-op.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

INSERT_SQL = text("""
INSERT INTO inbox_messages (account_id, event_id, topic, title, body, data)
VALUES (:account_id, :event_id, :topic, :title, :body, CAST(:data AS jsonb))
ON CONFLICT (event_id, account_id) DO NOTHING
""")


async def deliver(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    await session.execute(
        INSERT_SQL,
        [
            {
                "account_id": row["account_id"],
                "event_id": row["event_id"],
                "topic": row["topic"],
                "title": row["subject"],
                "body": row["body"],
                "data": json.dumps(row["data"]),
            }
            for row in rows
        ],
    )
