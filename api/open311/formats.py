"""The two wire formats of GeoReport v2, and its error format.

Every response is built as plain data first (lists of ordered dicts), then written either as JSON or as the
XML the specification shows: a root element (``services``, ``service_requests``, ``service_definition``,
``discovery``, ``errors``) whose repeated children are named in the singular (``service``, ``request``,
``attribute``, ``value``, ``endpoint``, ``format``, ``error``). Booleans are ``true``/``false`` in both,
absent values are empty elements in XML and ``null`` in JSON. Dates are W3C date-times with the
jurisdiction's offset.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from xml.etree import ElementTree

from fastapi.responses import Response

Format = Literal["xml", "json"]
FORMATS: tuple[Format, ...] = ("xml", "json")
MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json"}

# Children of a list-valued field, named as the specification names them.
_SINGULAR = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "updates": "update",
}


def w3c(moment: datetime | None) -> str | None:
    """``2026-11-24T09:10:00+01:00``: seconds precision, explicit offset, as W3C-DTF asks."""
    if moment is None:
        return None
    return moment.replace(microsecond=0).isoformat()


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value) or ""
    return str(value)


def _append(parent: ElementTree.Element, name: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ElementTree.Element, name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        child = _SINGULAR.get(name, "item")
        for item in value:
            _append(element, child, item)
    else:
        element.text = _scalar(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, value)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def respond(fmt: Format, root: str, value: Any, *, status_code: int = 200) -> Response:
    """``value`` as JSON, or as XML under ``root``."""
    if fmt == "json":
        body = json.dumps(value, default=_json_default, ensure_ascii=False).encode()
    else:
        body = to_xml(root, value)
    return Response(body, status_code=status_code, media_type=MEDIA_TYPES[fmt])


def error_response(fmt: Format, status_code: int, descriptions: list[str]) -> Response:
    """The specification's error list: ``[{code, description}]`` / ``<errors><error>…``."""
    errors = [{"code": status_code, "description": text} for text in descriptions]
    return respond(fmt, "errors", errors, status_code=status_code)
