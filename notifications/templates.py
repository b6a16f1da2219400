"""Message templates: gettext catalogs per language, overridable per municipality.

The catalogs are ``locale/{nl,en}/LC_MESSAGES/messages.po``, read with babel's ``read_po`` at first
use: translators edit the ``.po`` files, and a fresh clone works without a compile step. A message
is keyed by its context (``topic|status|category|part``); the ``msgid`` is the English text, so the
English catalog only needs empty ``msgstr``s.

The lookup goes from specific to general: a municipality's override for this topic, status and
category, then for the topic and status, the topic and category, then the topic alone; then the
catalog the same way. A template is plain text with ``{placeholder}``s, substituted by a regex,
never ``str.format`` (an override written by a municipality must not reach attributes of Python
objects). A line whose
placeholders all render empty is dropped, so "Photo after the work: {photo_url}" disappears when
there is no photo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

from notifications.errors import UnknownPlaceholder, UnknownTemplate

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES = ("nl", "en")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = frozenset(
    {
        "reference",
        "category",
        "status",
        "reason",
        "message",
        "url",
        "photo_url",
        "master_reference",
        "master_url",
        "satisfaction_url",
        "area",
        "count",
        "report_list",
        "title",
        "projects",
        "actions",
    }
)


@lru_cache(maxsize=len(LOCALES))
def catalog(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    found: dict[str, str] = {}
    for message in parsed:
        if message.context and message.id:
            # Plural entries carry a tuple of ids and a list of strings; a template is never plural.
            string = message.string if isinstance(message.string, str) else ""
            found[message.context] = (string or message.id) if isinstance(message.id, str) else ""
    return found


def template_topics() -> frozenset[str]:
    return frozenset(key.split("|", 1)[0] for key in catalog("en") if "." in key.split("|", 1)[0])


def label(locale: str, group: str, value: str | None) -> str:
    if not value:
        return ""
    return catalog(_locale(locale)).get(f"{group}|{value}") or value.replace("_", " ")


def _locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "nl"


@dataclass(frozen=True, slots=True)
class Override:
    status: str | None
    category_code: str | None
    locale: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


def _catalog_text(locale: str, topic: str, variants: Sequence[str], part: str) -> str:
    messages = catalog(locale)
    for index in range(len(variants), -1, -1):
        key = "|".join([topic, *variants[:index], part])
        if key in messages:
            return messages[key]
    raise UnknownTemplate(f"no template for {topic!r}")


def choose(
    *,
    topic: str,
    locale: str,
    status: str | None = None,
    category: str | None = None,
    overrides: Sequence[Override] = (),
) -> tuple[str, str]:
    """(subject template, body template) for this message, most specific first."""
    locale = _locale(locale)
    for wanted_status, wanted_category in (
        (status, category),
        (status, None),
        (None, category),
        (None, None),
    ):
        for override in overrides:
            if (
                override.locale == locale
                and override.status == wanted_status
                and override.category_code == wanted_category
            ):
                return override.subject, override.body
    variants = [v for v in (status, category) if v] if status else []
    return (
        _catalog_text(locale, topic, variants, "subject"),
        _catalog_text(locale, topic, variants, "body"),
    )


def substitute(template: str, values: Mapping[str, object]) -> str:
    lines = []
    for line in template.split("\n"):
        names = PLACEHOLDER.findall(line)
        rendered = PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), line)
        if names and all(not values.get(name) for name in names):
            continue
        lines.append(rendered)
    return "\n".join(lines).strip()


def render(
    *,
    topic: str,
    locale: str,
    values: Mapping[str, object],
    status: str | None = None,
    category: str | None = None,
    overrides: Sequence[Override] = (),
) -> Rendered:
    subject, body = choose(topic=topic, locale=locale, status=status, category=category, overrides=overrides)
    # A subject is one line whatever the values hold (a title with CR, LF or U+2028 in it).
    return Rendered(subject=" ".join(substitute(subject, values).split()), body=substitute(body, values))


def check_template(text: str) -> None:
    """Refuse an override that uses a placeholder we never fill: it would silently render empty."""
    if unknown := sorted(set(PLACEHOLDER.findall(text)) - PLACEHOLDERS):
        raise UnknownPlaceholder(
            f"unknown placeholders: {', '.join(unknown)}",
            allowed=sorted(PLACEHOLDERS),
        )
    if re.search(r"\{(?![a-z_]+\})", text):
        raise UnknownPlaceholder(
            "a '{' must open a placeholder like {reference}",
            allowed=sorted(PLACEHOLDERS),
        )
