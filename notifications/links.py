"""Every URL a message carries, made from the public base URL in one place.

Pages of the residents' app are named in ``core.events.AppPage``; the few API addresses a message links
to directly (a report's photo, the one-click unsubscribe that mail clients POST to) are here.
Participation pages carry ``?j=<jurisdiction slug>`` so the link works on a phone that never opened the
app; report pages do not need it (report ids are global).
"""

from __future__ import annotations

from urllib.parse import urlencode

from core.events import AppPage, Link

__all__ = ["AppPage", "app_url", "public_url", "report_page"]

API_REPORT_PHOTO = "/api/v1/jurisdictions/{slug}/reports/{report_id}/photos/{photo_id}"
API_UNSUBSCRIBE = "/api/v1/notifications/unsubscribe/{token}"


def public_url(base_url: str, path: str, *, jurisdiction: str | None = None, **parts: object) -> str:
    """``base_url`` + ``path`` with its ``{placeholders}`` filled in (and ``?j=`` for ``jurisdiction``)."""
    url = base_url.rstrip("/") + path.format(**parts)
    return url if jurisdiction is None else f"{url}?{urlencode({'j': jurisdiction})}"


def app_url(base_url: str, link: Link, *, jurisdiction: str | None = None) -> str:
    return public_url(base_url, link.page, jurisdiction=jurisdiction, **link.ids)


def report_page(base_url: str, report_id: int) -> str:
    return public_url(base_url, AppPage.REPORT, report_id=report_id)
