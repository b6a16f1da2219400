"""The fast e-mail writer must say exactly what ``build_message`` says, or step aside for it."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest

from notifications.channels.email import (
    EVENT_HEADER,
    OutgoingEmail,
    build_message,
    header_value,
    render_message,
)

SENDER = "Gemeente Civicloop <noreply@civicloop.test>"
DOMAIN = "civicloop.test"
URL = "https://civicloop.test/api/v1/notifications/unsubscribe/" + "x" * 400


def mail(**changes: object) -> OutgoingEmail:
    values: dict[str, Any] = {
        "delivery_id": 7,
        "event_id": "0b8f6c1e-5c1d-4f7e-9a51-1d2f3e4a5b6c",
        "to": "voter1@bench.test",
        "subject": "Je stem is ontvangen",
        "body": "Hallo,\n\nBedankt voor je stem.\nhttps://civicloop.test/r/1\n",
        "unsubscribe_url": URL,
        "locale": "nl",
    }
    values.update(changes)
    return OutgoingEmail(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"unsubscribe_url": None},
        {"subject": "Stëm ontvangen — dank je wel, één keer", "body": "Hé daar,\r\nregel twee\r\n"},
        {"body": "zonder regeleinde aan het eind"},
        {"subject": "Buurt\rbudget\r\nBcc: iedereen@example.org\u2028en meer"},
        {"body": ".begint met een punt\n..en nog een\n"},
        {"locale": "en"},
    ],
)
def test_render_message_matches_build_message(changes: dict[str, object]) -> None:
    outgoing = mail(**changes)
    expected = build_message(outgoing, sender=SENDER, domain=DOMAIN)
    rendered = render_message(outgoing, sender=SENDER, domain=DOMAIN)
    assert rendered is not None
    envelope_from, data = rendered
    assert envelope_from == "noreply@civicloop.test"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    got = message_from_bytes(data, policy=default)
    want = message_from_bytes(bytes(expected), policy=default)
    assert sorted(got.keys()) == sorted(want.keys())
    for name in want.keys():
        if name != "Date":
            assert str(got[name]) == str(want[name]), name
    assert got.get_content() == want.get_content()
    assert got[EVENT_HEADER] == outgoing.event_id
    assert got["Content-Language"] == outgoing.locale
    if outgoing.unsubscribe_url:
        assert got["List-Unsubscribe"] == f"<{outgoing.unsubscribe_url}>"


@pytest.mark.parametrize(
    "changes",
    [
        {"to": "jöran@bench.test"},
        {"to": "Jan <jan@bench.test>"},
        {"body": "x" * 1200},
        {"unsubscribe_url": "https://civicloop.test/\r\nBcc: someone@evil.test"},
    ],
)
def test_unusual_mails_fall_back_to_build_message(changes: dict[str, object]) -> None:
    assert render_message(mail(**changes), sender=SENDER, domain=DOMAIN) is None


@pytest.mark.parametrize("build", ["render_message", "build_message"])
def test_a_subject_with_line_breaks_stays_one_header(build: str) -> None:
    """A resident's title reaches the subject: CR, LF and Unicode line separators never start a header."""
    outgoing = mail(subject="Speel\rtuin\r\nBcc: iedereen@example.org\n\u2028X-Spam: yes")
    if build == "render_message":
        rendered = render_message(outgoing, sender=SENDER, domain=DOMAIN)
        assert rendered is not None
        data = rendered[1]
    else:
        data = bytes(build_message(outgoing, sender=SENDER, domain=DOMAIN))
    parsed = message_from_bytes(data, policy=default)
    assert parsed["Subject"] == "Speel tuin Bcc: iedereen@example.org X-Spam: yes"
    assert parsed["Bcc"] is None and parsed["X-Spam"] is None


def test_header_value_removes_control_characters_and_bounds_the_length() -> None:
    assert header_value("a\x00b\tc\x7fd\x85e") == "a b c d e"
    assert header_value("  veel   ruimte  ") == "veel ruimte"
    long = header_value("x" * 500)
    assert len(long) == 200 and long.endswith("…")
