"""Keys and tokens never reach a log line: the access log of uvicorn and every other log record.

Secrets travel in URLs where a client or a link puts them: Open311's ``api_key`` in the query string,
voting codes (``/vote?code=…``), the tokens of unsubscribe, satisfaction, account links in paths
(``/unsubscribe/<token>``, ``/feedback/<token>``, …), and bearer tokens in any message that quotes a
header. A filter on the log handlers rewrites each record's message and arguments before it is
formatted; installing it is idempotent (``install``, called by the app factory and by ``civicloop serve``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# Query parameters whose value is a secret (case-insensitive names).
_SECRET_PARAMETERS = ("api_key", "apikey", "key", "token", "code", "password", "secret", "access_token")
_QUERY = re.compile(r"(?i)([?&;](?:" + "|".join(_SECRET_PARAMETERS) + r")=)[^&#\s\"']*")
# Path segments that follow these words are tokens (API links and the app's own link pages).
_PATH = re.compile(
    r"(?i)(/(?:unsubscribe|satisfaction|feedback|tokens|reset|confirm|account-links|password-reset)/)"
    r"[^/?#\s\"']+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    """``text`` with every secret this module knows of replaced by ``[redacted]``."""
    text = _QUERY.sub(lambda m: m.group(1) + REDACTED, text)
    text = _PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and string arguments (uvicorn's access log passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return True


_FILTER = RedactingFilter()
_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "civicloop", "fastapi")


def install() -> None:
    """Add the filter to the loggers that write access and error lines and to every handler they have
    now (a filter on a handler also sees the records that propagate to it from child loggers)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on its handlers from the first line on."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["filters"] = {"redact": {"()": "core.log_redaction.RedactingFilter"}}
    config["handlers"] = {
        name: {**handler, "filters": ["redact"]} for name, handler in LOGGING_CONFIG["handlers"].items()
    }
    return config
