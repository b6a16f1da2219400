"""Stored answers to writes that carried an ``Idempotency-Key``.

The key row is inserted in the same transaction as the write it guards. A concurrent retry blocks
on the unique index until the first transaction ends, then reads the stored answer, so no
duplicate row can ever be created, and a failed first attempt leaves no key behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, LargeBinary, PrimaryKeyConstraint, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, psycopg_sql


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (PrimaryKeyConstraint("scope", "key"),)


# The three statements of an ``Idempotency-Key`` (api.idempotency), sent on whatever the request's unit
# of work is: an ORM session or the plain transaction of the report create (core.db.fetch_one).
CLAIM_KEY_SQL = """
INSERT INTO idempotency_records (scope, key, fingerprint) VALUES (:scope, :key, :fingerprint)
ON CONFLICT DO NOTHING
RETURNING key
"""
STORED_ANSWER_SQL = """
SELECT fingerprint, status_code, response FROM idempotency_records WHERE scope = :scope AND key = :key
"""
STORE_ANSWER_SQL = """
UPDATE idempotency_records SET status_code = :status_code, response = CAST(:response AS jsonb)
WHERE scope = :scope AND key = :key
"""
CLAIM_KEY = psycopg_sql(CLAIM_KEY_SQL)
STORED_ANSWER = psycopg_sql(STORED_ANSWER_SQL)
STORE_ANSWER = psycopg_sql(STORE_ANSWER_SQL)
