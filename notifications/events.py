"""The payloads of the events ``notifications`` itself schedules (see ``core.events``)."""

from __future__ import annotations

from typing import ClassVar

from core.events import EventPayload


class SatisfactionRequested(EventPayload):
    """Asks one follower of a resolved report whether it was fixed (``satisfaction_requests``)."""

    topic: ClassVar[str] = "report.satisfaction_requested"
    aggregate_type: ClassVar[str] = "report"
    report_id: int
    satisfaction_request_id: int
    account_id: int | None = None

    @property
    def aggregate_id(self) -> int:
        return self.report_id


class ReopenRejected(EventPayload):
    """Tells the resident who asked to reopen a report that the municipality said no, and why."""

    topic: ClassVar[str] = "report.reopen_rejected"
    aggregate_type: ClassVar[str] = "report"
    report_id: int
    reopen_request_id: int | None = None
    account_id: int | None = None
    message: str | None = None

    @property
    def aggregate_id(self) -> int:
        return self.report_id


class AreaDigest(EventPayload):
    """One subscriber's daily list of the new public reports in an area."""

    topic: ClassVar[str] = "alerts.digest"
    aggregate_type: ClassVar[str] = "area"
    account_id: int | None = None
    area_id: int
    report_ids: list[int] = []

    @property
    def aggregate_id(self) -> int:
        return self.area_id
