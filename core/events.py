"""Typed outbox payloads: the contract between the package that emits an event and its readers.

Each event's payload is a pydantic model owned by the package that emits it (``geo.events`` for reports,
``participation.events`` for rounds, consultations and motions, ``notifications.events`` for what the
notifications package itself schedules, ``core.account_links`` for account mails). The class names its
``topic`` and ``aggregate_type``; ``core.outbox.record_event`` takes an instance, so a caller cannot
write a topic with the wrong shape. Defining a subclass registers it in :data:`EVENT_TYPES`, which is how
a reader that may not import the emitter (``notifications`` never imports ``participation``) finds the
type of a stored payload.

An event about people (a participation event) also says *what* it tells them as a :class:`Notice`:
whom, with which title and message, and which page of the residents' app. The emitter decides that;
``notifications`` decides how (preferences, channels, templates, the URL from the public base URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

Text = str | dict[str, str]
"""A text in one language, or per language (``{"nl": …, "en": …}``)."""


class EventPayload(BaseModel):
    """Base of every outbox payload. Stored as ``model_dump(mode="json", exclude_unset=True)``: the keys the
    emitter set, no more (webhook receivers get the stored payload as the event's ``data``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    aggregate_type: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        topic = cls.__dict__.get("topic")
        if topic is not None:
            if topic in EVENT_TYPES and EVENT_TYPES[topic].__qualname__ != cls.__qualname__:
                raise TypeError(f"two payload types for topic {topic!r}: {EVENT_TYPES[topic]} and {cls}")
            EVENT_TYPES[topic] = cls

    @property
    def aggregate_id(self) -> int:
        """The id of the row the event is about (``outbox_events.aggregate_id``)."""
        raise NotImplementedError

    def stored(self) -> dict[str, Any]:
        """The JSON the outbox row holds."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    def notice(self) -> Notice | None:
        """What this event tells the people it names; ``None`` for events that tell nobody by themselves."""
        return None


EVENT_TYPES: dict[str, type[EventPayload]] = {}
"""Topic → payload type, filled as the emitting packages' ``events`` modules are imported."""


class AppPage(StrEnum):
    """Pages of the residents' app that messages link to (paths relative to the public base URL).

    One list, so that a change of the app's routes is made here and nowhere else; the URL itself is made
    by ``notifications.links.app_url``."""

    REPORT = "/reports/{report_id}"
    ROUND_VOTE = "/rounds/{round_id}/vote"
    ROUND_RESULTS = "/rounds/{round_id}/results"
    PROJECT = "/rounds/{round_id}/projects/{project_id}"
    CONSULTATION_ROUND = "/consultation-rounds/{round_id}"
    CONSULTATION_RESULTS = "/consultation-rounds/{round_id}/results"
    FEEDBACK = "/feedback/{token}"
    UNSUBSCRIBE = "/unsubscribe/{token}"


@dataclass(frozen=True, slots=True)
class Link:
    """A page of the app with the ids its path needs."""

    page: AppPage
    ids: dict[str, int]


@dataclass(frozen=True, slots=True)
class Notice:
    """What an event tells the people concerned, as the emitting package sees it.

    ``account_ids`` are the people concerned (the emitter knows the whole list: voters, authors,
    followers, respondents); ``area_id`` also tells the area's subscribers (and those of the areas
    containing it). ``url`` is an explicit address that wins over ``link``; a receipt has neither."""

    account_ids: list[int]
    title: Text
    area_id: int | None = None
    message: Text | None = None
    status: str | None = None
    """A progress status, rendered with the ``progress`` labels."""
    link: Link | None = None
    url: str | None = None
    items: list[tuple[Text, Link | None]] = field(default_factory=list)
    """Things listed with a link each (the funded projects of a round)."""
    actions: list[Text] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    """Ids the inbox message and push payload carry (``round_id``, ``project_id``, ``consultation_id``)."""
