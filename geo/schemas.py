"""Pydantic shapes of public space, in and out. Input models forbid unknown fields."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from geo.workflow import CloseReason, Status

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")]


def _refuse_nul(value: Any) -> None:
    """PostgreSQL text cannot hold NUL; refuse it at the edge instead of failing in the database."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data)
        return data


Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
SmallId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Translated(Input):
    """A text in the residents' languages; Dutch is required, English falls back to Dutch."""

    nl: ShortText
    en: ShortText | None = None


class Point(Input):
    """A GeoJSON Point in WGS84 (longitude, latitude)."""

    type: Literal["Point"]
    coordinates: tuple[StrictFloat | StrictInt, StrictFloat | StrictInt]

    @field_validator("coordinates")
    @classmethod
    def _in_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        longitude, latitude = float(value[0]), float(value[1])
        if not (math.isfinite(longitude) and math.isfinite(latitude)):
            raise ValueError("coordinates must be finite numbers")
        if not -180 <= longitude <= 180:
            raise ValueError("longitude must lie between -180 and 180")
        if not -90 <= latitude <= 90:
            raise ValueError("latitude must lie between -90 and 90")
        return longitude, latitude

    @property
    def longitude(self) -> float:
        return self.coordinates[0]

    @property
    def latitude(self) -> float:
        return self.coordinates[1]


FieldType = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class FieldOption(Input):
    key: Code
    label: Translated


class ExtraField(Input):
    code: Code
    label: Translated
    type: FieldType
    required: bool = False
    order: int = Field(default=0, ge=0, le=1000)
    description: Translated | None = None
    options: list[FieldOption] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _options_only_for_lists(self) -> ExtraField:
        is_list = self.type in ("singlevaluelist", "multivaluelist")
        if is_list and not self.options:
            raise ValueError(f"a {self.type} field needs options")
        if not is_list and self.options:
            raise ValueError(f"a {self.type} field takes no options")
        if len({o.key for o in self.options}) != len(self.options):
            raise ValueError("option keys must be unique")
        return self


class CategoryCreate(Input):
    code: Code
    name: Translated
    description: Translated | None = None
    parent: Code | None = None
    department_id: SmallId | None = None
    handling_days: int = Field(default=5, ge=0, le=365)
    handling_day_kind: Literal["working", "calendar"] = "working"
    is_public: bool = True
    keywords: list[ShortText] = Field(default_factory=list, max_length=50)
    extra_fields: list[ExtraField] = Field(default_factory=list, max_length=50)

    @field_validator("extra_fields")
    @classmethod
    def _unique_codes(cls, value: list[ExtraField]) -> list[ExtraField]:
        if len({f.code for f in value}) != len(value):
            raise ValueError("extra field codes must be unique")
        return value


class CategoryUpdate(Input):
    name: Translated | None = None
    description: Translated | None = None
    department_id: SmallId | None = None
    handling_days: int | None = Field(default=None, ge=0, le=365)
    handling_day_kind: Literal["working", "calendar"] | None = None
    is_public: bool | None = None
    is_active: bool | None = None
    keywords: list[ShortText] | None = Field(default=None, max_length=50)
    extra_fields: list[ExtraField] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _only_clearable_fields_take_null(self) -> CategoryUpdate:
        clearable = {"description", "department_id"}
        if nulls := sorted(k for k in self.model_fields_set - clearable if getattr(self, k) is None):
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        return self


class CategoryRead(BaseModel):
    id: int
    code: str
    parent: str | None
    name: dict[str, str]
    description: dict[str, str]
    department_id: int | None
    handling_days: int
    handling_day_kind: str
    is_public: bool
    is_active: bool
    keywords: list[str]
    extra_fields: list[dict[str, Any]]


class DepartmentCreate(Input):
    name: ShortText


class DepartmentRead(BaseModel):
    id: int
    name: str


class Contact(Input):
    email: EmailStr | None = None
    phone: Phone | None = None


class ReportCreate(Input):
    category: Code
    location: Point
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    photo_ids: list[Id] = Field(default_factory=list, max_length=3)
    contact: Contact | None = None

    @field_validator("photo_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("photo ids must be distinct")
        return value


class TransitionCreate(Input):
    status: Status
    reason: CloseReason | None = None
    public_message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    internal_note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None
    photo_id: Id | None = None
    expected_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class MergeCreate(Input):
    into_report_id: Id
    public_message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    expected_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class PhotoRead(BaseModel):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int
    kind: str


class StatusChangeRead(BaseModel):
    from_status: str | None
    to_status: str
    reason: str | None
    public_message: str | None
    photo: PhotoRead | None = None
    created_at: datetime


class StaffStatusChangeRead(StatusChangeRead):
    internal_note: str | None
    actor_account_id: int | None


class AreaRef(BaseModel):
    id: int
    name: str
    level: str


class ReportPublic(BaseModel):
    """What anyone may see. Contact data and internal notes never appear here."""

    id: int
    jurisdiction: str
    category: str
    category_name: dict[str, str]
    status: str
    status_reason: str | None
    location: dict[str, Any]
    address: str | None
    description: str
    extra: dict[str, Any]
    area: AreaRef | None
    photos: list[PhotoRead]
    supporters: int
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    history: list[StatusChangeRead]


class ReportStaff(ReportPublic):
    version: int
    department_id: int | None
    reporter_account_id: int | None
    contact: dict[str, str | None]
    # Staff see each change with more fields: a narrower item type, which pydantic allows and list's
    # invariance does not.
    history: list[StaffStatusChangeRead]  # type: ignore[assignment]
    allowed_transitions: list[str]


class DuplicateCandidate(BaseModel):
    id: int
    category: str
    status: str
    description: str
    location: dict[str, Any]
    distance_m: float
    supporters: int
    thumbnail_url: str | None = None  # the first photo's thumbnail: "is this the one?" at a glance
    created_at: datetime


class WorkItem(BaseModel):
    id: int
    category: str
    category_name: dict[str, str]
    status: str
    description: str
    address: str | None
    location: dict[str, Any]
    distance_m: float | None
    due_at: datetime | None
    version: int
    created_at: datetime


class WorkStatusCount(BaseModel):
    status: str
    reports: int
    overdue: int


class WorkSummary(BaseModel):
    """The open reports of my departments: how many, per status, and how many are past their due date."""

    total: int
    overdue: int
    statuses: list[WorkStatusCount]


class MergeCandidate(BaseModel):
    id: int
    category: str
    category_name: dict[str, str]
    status: str
    description: str
    address: str | None
    location: dict[str, Any]
    distance_m: float
    supporters: int
    same_category: bool
    created_at: datetime


MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TranslatedMessage(Input):
    """A public message in the residents' languages; Dutch is required, English falls back to Dutch."""

    nl: MessageText
    en: MessageText | None = None


class MessageTemplateCreate(Input):
    """A ready public message staff pick when they change a report's status, and may edit before sending."""

    status: Status
    category: Code | None = None
    title: Translated
    text: TranslatedMessage

    @field_validator("status")
    @classmethod
    def _not_submitted(cls, value: Status) -> Status:
        if value is Status.SUBMITTED:
            raise ValueError("no report is ever moved to submitted; choose another status")
        return value


class MessageTemplateUpdate(Input):
    category: Code | None = None
    title: Translated | None = None
    text: TranslatedMessage | None = None

    @model_validator(mode="after")
    def _only_category_takes_null(self) -> MessageTemplateUpdate:
        if nulls := sorted(k for k in self.model_fields_set - {"category"} if getattr(self, k) is None):
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        if not self.model_fields_set:
            raise ValueError("change at least one field")
        return self


class MessageTemplateRead(BaseModel):
    id: int
    status: str
    category: str | None
    title: dict[str, str]
    text: dict[str, str]
    updated_at: datetime


class AreaRead(BaseModel):
    id: int
    name: str
    level: str
    code: str | None
    parent_id: int | None


class JurisdictionRead(BaseModel):
    slug: str
    name: str
    timezone: str
    default_locale: str


class ReportCount(BaseModel):
    category: str
    status: str
    reports: int
    overdue: int


class AreaReportSummary(BaseModel):
    """Reports in an area per category and status (non-public categories too, as counts only)."""

    area_id: int
    rows: list[ReportCount]
    total: int


# Read schemas of the pre-rendered lists and the map (issue 13, item 4). Their JSON is built by
# PostgreSQL and sent as bytes on the hot paths; these models only describe it (the OpenAPI), and the
# tests check every answer against them (``tests/response_schemas.py``).


class PointRead(BaseModel):
    """A GeoJSON Point in WGS84 (longitude, latitude), as ``ST_AsGeoJSON`` writes it."""

    type: Literal["Point"]
    coordinates: tuple[float, float]


class ReportListItem(BaseModel):
    """A report in the public list: the description cut at 280 characters."""

    id: int
    category: str
    status: Status
    status_reason: str | None
    location: PointRead
    address: str | None
    description: str
    area_id: int | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None


class ReportPage(BaseModel):
    """A page of public reports; pass ``next_cursor`` as ``cursor`` for the next one (``null``: the last)."""

    items: list[ReportListItem]
    next_cursor: str | None


class MyReport(BaseModel):
    """A report I made (``reported``) or follow (``following``); my own non-public ones too."""

    id: int
    category: str
    category_name: dict[str, str]
    status: Status
    status_reason: str | None
    description: str
    address: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    reported: bool
    following: bool
    thumbnail_url: str | None


class MyReportPage(BaseModel):
    """Newest first; pass ``next_before_id`` as ``before_id`` for the next page (``null``: the last)."""

    items: list[MyReport]
    next_before_id: int | None


class SupportRead(BaseModel):
    """After a "me too": the report's supporters, and that I now follow it."""

    report_id: int
    supporters: int
    following: bool


class ClusterReport(BaseModel):
    """The one report of a cluster of one. From zoom 19 on (reports themselves) it carries ``area_id``,
    ``updated_at`` and ``due_at``; below, its ``location`` (the cluster's point is the cell's centre)."""

    id: int
    category: str
    status: Status
    description: str
    created_at: datetime
    location: PointRead | None = None
    area_id: int | None = None
    updated_at: datetime | None = None
    due_at: datetime | None = None


class ClusterProperties(BaseModel):
    count: int
    report: ClusterReport | None


class ClusterFeature(BaseModel):
    type: Literal["Feature"]
    geometry: PointRead
    properties: ClusterProperties


class ClusterCollection(BaseModel):
    """An RFC 7946 FeatureCollection of clusters at ``zoom``, with a foreign member ``zoom``."""

    type: Literal["FeatureCollection"]
    zoom: int
    features: list[ClusterFeature]


class HotspotCriteria(BaseModel):
    radius_m: float
    min_reports: int
    days: int
    since: datetime


class Hotspot(BaseModel):
    """Reports of one category that keep coming back within ``radius_m`` of ``centre``."""

    category: str
    reports: int
    open_reports: int
    centre: PointRead
    radius_m: float
    first_reported_at: datetime
    last_reported_at: datetime
    latest_report_ids: list[int]


class HotspotsRead(BaseModel):
    criteria: HotspotCriteria
    hotspots: list[Hotspot]
