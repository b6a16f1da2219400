"""The payloads of the report events ``geo`` writes to the outbox (see ``core.events``)."""

from __future__ import annotations

from typing import ClassVar

from core.events import EventPayload


class ReportEvent(EventPayload):
    aggregate_type: ClassVar[str] = "report"
    report_id: int

    @property
    def aggregate_id(self) -> int:
        return self.report_id


class ReportSubmitted(ReportEvent):
    """Written by ``geo.submission``'s one statement (``jsonb_build_object`` there builds this shape)."""

    topic: ClassVar[str] = "report.submitted"
    category: str | None = None
    area_id: int | None = None
    status: str = "submitted"


class ReportStatusChanged(ReportEvent):
    topic: ClassVar[str] = "report.status_changed"
    from_status: str | None = None
    to_status: str
    reason: str | None = None
    public_message: str | None = None
    photo_id: int | None = None
    merged_into_id: int | None = None
    """Set on the closing of a duplicate; ``report.merged`` then tells the followers, this event nobody."""


class ReportMerged(ReportEvent):
    topic: ClassVar[str] = "report.merged"
    merged_into_id: int


class ReportSupported(ReportEvent):
    """A resident said "me too"; tells that resident (the ``account_id``) it was counted."""

    topic: ClassVar[str] = "report.supported"
    account_id: int | None = None
