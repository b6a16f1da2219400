"""E-mail over SMTP, with RFC 8058 one-click unsubscribe.

``smtplib`` on one persistent connection per worker loop, driven from a thread: a batch of mails is
one thread hop and one SMTP session, which is what makes hundreds of mails a second possible
without an extra dependency. Replies 5xx are permanent (dead letter at once); anything else (4xx,
a refused or dropped connection) is retried with back-off. The MTA that relays these mails must
DKIM-sign the ``List-Unsubscribe`` headers for RFC 8058 to take effect at the big mailbox providers.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr

from notifications.channels import DeliveryFailed
from notifications.settings import NotificationSettings

EVENT_HEADER = "X-Civicloop-Event-Id"
# RFC 5322 allows 998 characters a line; folding at 78 would turn the long one-click URL into an
# RFC 2047 encoded word, which mail clients do not recognise as a List-Unsubscribe URL.
POLICY = SMTP.clone(max_line_length=998)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_value(value: str, *, limit: int = 200) -> str:
    """A value that is safe in one header line: control characters (CR and LF above all, and the
    Unicode line separators Python's mail parser also breaks on) become one space, the length is
    bounded. A subject is often built from a resident's words (a proposal's title); a line break in it
    would start a header of the resident's choosing, or make the mail library refuse the whole message.
    """
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    delivery_id: int
    event_id: str
    to: str
    subject: str
    body: str
    unsubscribe_url: str | None
    locale: str


def build_message(mail: OutgoingEmail, *, sender: str, domain: str) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address))
    message["To"] = mail.to
    message["Subject"] = header_value(mail.subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    # Stable across retries: a receiving system can drop a second copy by Message-ID or event id.
    message["Message-ID"] = f"<{mail.event_id}.{mail.delivery_id}@{domain}>"
    message[EVENT_HEADER] = mail.event_id
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    # After set_content, which clears every Content-* header it finds.
    message["Content-Language"] = mail.locale
    return message


# The longest line RFC 5322 allows, without its CRLF.
MAX_LINE = 998


def _plain_header(value: str) -> bool:
    return "\r" not in value and "\n" not in value and len(value) <= MAX_LINE - 40


def render_message(mail: OutgoingEmail, *, sender: str, domain: str) -> tuple[str, bytes] | None:
    """The same message as :func:`build_message`, written straight to wire bytes, or None.

    Why: ``EmailMessage`` parses every header it is given through the header registry and folds it
    again on output; that was the largest single CPU cost of the worker (more than the fan-out), and
    the worker is one process under one GIL. Our headers are few and known, so the common case is
    written directly: ASCII headers as they are, a non-ASCII subject as an RFC 2047 encoded word, the
    body as 7bit/8bit UTF-8 text. Anything outside that (a line over 998 octets, CR/LF in a header,
    a non-ASCII or unusual address) returns None and goes through ``build_message`` as before.
    """
    to = mail.to
    if not (to.isascii() and _plain_header(to) and parseaddr(to)[1] == to and "@" in to):
        return None
    subject = header_value(mail.subject)
    if not _plain_header(mail.locale) or not mail.locale.isascii():
        return None
    if mail.unsubscribe_url is not None and not (
        mail.unsubscribe_url.isascii() and _plain_header(mail.unsubscribe_url)
    ):
        return None
    lines = mail.body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    encoded_lines = [line.encode() for line in lines]
    if any(len(line) > MAX_LINE for line in encoded_lines):
        return None
    name, address = parseaddr(sender)
    if not subject.isascii():
        subject = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    headers = [
        f"From: {formataddr((name, address))}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <{mail.event_id}.{mail.delivery_id}@{domain}>",
        f"{EVENT_HEADER}: {mail.event_id}",
        f"Content-Language: {mail.locale}",
        "Auto-Submitted: auto-generated",
    ]
    if mail.unsubscribe_url:
        headers.append(f"List-Unsubscribe: <{mail.unsubscribe_url}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers += [
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: " + ("7bit" if mail.body.isascii() else "8bit"),
        "MIME-Version: 1.0",
    ]
    head = "\r\n".join(headers).encode("ascii")
    return address, head + b"\r\n\r\n" + b"\r\n".join(encoded_lines) + b"\r\n"


class EmailSender:
    """One per worker loop; its one connection is used by one thread at a time (``_lock``)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        address = parseaddr(settings.smtp_from)[1]
        self.domain = address.rpartition("@")[2] or "civicloop.localhost"

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"cannot reach the SMTP server: {error}") from error
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None

    def _send_one(self, message: EmailMessage | tuple[str, str, bytes]) -> None:
        for attempt in (1, 2):
            smtp = self._connect()
            try:
                if isinstance(message, EmailMessage):
                    smtp.send_message(message)
                else:
                    smtp.sendmail(*message)
                return
            except smtplib.SMTPServerDisconnected as error:
                self._smtp = None
                if attempt == 2:
                    raise DeliveryFailed(f"the SMTP server hung up: {error}") from error
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                raise DeliveryFailed(
                    f"recipient refused: {error.recipients}", permanent=all(c >= 500 for c in codes)
                ) from error
            except smtplib.SMTPResponseException as error:
                self._reset()
                raise DeliveryFailed(
                    f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent=error.smtp_code >= 500
                ) from error
            except (OSError, smtplib.SMTPException) as error:
                self._smtp = None
                raise DeliveryFailed(f"SMTP failure: {error}") from error

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self._smtp = None

    def _message(self, mail: OutgoingEmail) -> EmailMessage | tuple[str, str, bytes]:
        rendered = render_message(mail, sender=self.settings.smtp_from, domain=self.domain)
        if rendered is None:
            return build_message(mail, sender=self.settings.smtp_from, domain=self.domain)
        envelope_from, data = rendered
        return envelope_from, mail.to, data

    def send_many(self, mails: list[OutgoingEmail]) -> list[DeliveryFailed | None]:
        """Send in order on one connection; once the server is unreachable, fail the rest fast.

        Whatever one mail raises is that mail's failure (a message the mail library refuses to build
        will be refused again: permanent), never the batch's or the worker's.
        """
        results: list[DeliveryFailed | None] = []
        unreachable: DeliveryFailed | None = None
        with self._lock:
            for mail in mails:
                if unreachable is not None:
                    results.append(unreachable)
                    continue
                try:
                    self._send_one(self._message(mail))
                    results.append(None)
                except DeliveryFailed as failure:
                    results.append(failure)
                    if self._smtp is None and not failure.permanent:
                        unreachable = failure
                except Exception as error:
                    self._reset()
                    results.append(DeliveryFailed(f"{type(error).__name__}: {error}", permanent=True))
        return results
