"""API shapes of notifications, in and out. Never the ORM tables themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Kind = Literal["report_updates", "area_alerts", "satisfaction", "participation"]
UserChannel = Literal["email", "push", "inbox"]
Locale = Literal["nl", "en"]
Topic = Annotated[str, StringConstraints(max_length=100)]
Text2000 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class InboxMessageRead(Output):
    id: int
    event_id: UUID
    topic: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class PreferenceChange(Input):
    kind: Kind
    channel: UserChannel
    enabled: bool


class PreferencesUpdate(Input):
    changes: list[PreferenceChange] = Field(min_length=1, max_length=12)


class AreaSubscriptionCreate(Input):
    area_id: int = Field(ge=1, le=2**31 - 1)
    frequency: Literal["instant", "daily"] = "instant"


class AreaSubscriptionRead(Output):
    id: int
    area_id: int
    frequency: str
    created_at: datetime


class PushKeys(Input):
    p256dh: Annotated[str, StringConstraints(min_length=80, max_length=100)]
    auth: Annotated[str, StringConstraints(min_length=16, max_length=32)]


class PushSubscriptionCreate(Input):
    """What ``PushSubscription.toJSON()`` gives in the browser (``expirationTime`` is ignored)."""

    endpoint: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    keys: PushKeys
    expirationTime: int | None = None


class PushSubscriptionRead(Output):
    id: int
    endpoint: str
    created_at: datetime


class VapidKey(BaseModel):
    public_key: str


class WebhookCreate(Input):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    topics: list[Topic] = Field(default_factory=list, max_length=50)
    include_personal_data: bool = False
    allow_private_network: bool = False
    is_active: bool = True


class WebhookUpdate(Input):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] | None = None
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    topics: list[Topic] | None = Field(default=None, max_length=50)
    include_personal_data: bool | None = None
    allow_private_network: bool | None = None
    is_active: bool | None = None
    rotate_secret: bool = False


class WebhookRead(Output):
    id: int
    url: str
    description: str | None
    topics: list[str]
    include_personal_data: bool
    allow_private_network: bool
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="shown once: verify X-Civicloop-Signature with it")


class DeadLetterRead(Output):
    id: int
    event_id: UUID
    topic: str
    channel: str
    recipient: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class ReplayResult(BaseModel):
    id: int
    replayed: Literal["delivery", "fan-out"]


class TemplateOverrideWrite(Input):
    topic: Annotated[str, StringConstraints(max_length=100)]
    status: Annotated[str, StringConstraints(max_length=32)] | None = None
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    locale: Locale
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class TemplateOverrideRead(Output):
    id: int
    topic: str
    status: str | None
    category_code: str | None
    locale: str
    subject: str
    body: str


class SatisfactionAnswer(Input):
    fixed: bool
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class SatisfactionRequestRead(Output):
    id: int
    report_id: int
    issued_at: datetime | None
    answered_at: datetime | None
    fixed: bool | None
    score: int | None


class SatisfactionAnswered(BaseModel):
    id: int
    report_id: int
    reopen_request_id: int | None


class ReopenRequestRead(BaseModel):
    id: int
    report_id: int
    status: str
    fixed: bool | None
    score: int | None
    comment: str | None
    created_at: datetime
    decided_at: datetime | None
    decision_message: str | None


class ReopenDecision(Input):
    accept: bool
    message: Text2000 | None = None


class LoopMetricsRow(BaseModel):
    group: str | None
    inputs: int
    outcome_messaged: int
    outcome_message_share: float | None
    median_hours_to_first_response: float | None
    median_hours_to_resolution: float | None
    deadline_due: int
    deadline_met: int
    deadline_compliance: float | None
    satisfaction_answers: int
    satisfaction_score: float | None
    fixed_share: float | None
    resolved: int
    reopened: int
    reopen_rate: float | None


class LoopMetrics(BaseModel):
    start: datetime
    end: datetime
    area_id: int | None
    category: str | None
    group_by: str
    rows: list[LoopMetricsRow]


class ParticipationLoopRow(BaseModel):
    group: str | None
    inputs: int
    reachable: int
    """Inputs with an account (a code or paper vote has none and cannot be told anything)."""
    outcome_messaged: int
    outcome_message_share: float | None
    reachable_outcome_share: float | None


class ParticipationLoopMetrics(BaseModel):
    start: datetime
    end: datetime
    area_id: int | None
    group_by: str
    votes: list[ParticipationLoopRow]
    consultation_responses: list[ParticipationLoopRow]


class UnsubscribePreview(BaseModel):
    """What a one-click unsubscribe link would switch off (GET changes nothing)."""

    kind: str
    channel: str
    action: str


class Unsubscribed(BaseModel):
    kind: str
    channel: str
    enabled: bool = Field(description="always false: this kind of message no longer comes on this channel")
