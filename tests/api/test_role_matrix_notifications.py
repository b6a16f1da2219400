"""The role × route matrix of notifications: the inbox, preferences, area alerts, web push, signed links,
satisfaction answers, reopen decisions, webhooks, dead letters, templates and the loop metrics.

Residents manage their own inbox, preferences and subscriptions: another account's message, push
subscription or question is a 404 to them. Field staff decide the reopen requests of their department's
reports (another department's is a 403); administrators run their own jurisdiction's webhooks, dead
letters and templates (another jurisdiction's object is a 404 under their path, and their token a 403
``wrong-jurisdiction`` under another's); council members read the loop metrics of their own area and
what lies inside it. The two link routes are PUBLIC and answer the same to every caller: the signed
token is the only authority, so a tampered, expired, re-purposed or foreign-signed one is a 4xx, never a
500. A genuine link names no jurisdiction and needs none: a Utrecht resident's mailed link works.

The module runs the machinery of ``test_role_matrix`` with an app of its own, because the signed links
need a known secret key and the SSRF guard an operator allowlist: the notification settings are the
app's, and the setups let the real worker (real SMTP server, aiosmtpd) do what it does after a request
(fan out, issue the due satisfaction questions, deliver). Webhook and push targets are public addresses
that are checked at registration and never contacted: no row with a webhook or a push subscription runs
the worker.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from api.app import create_app
from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT, STAFF
from core.outbox import record_event
from core.settings import Settings
from geo.events import ReportSubmitted
from notifications import fanout, tokens
from notifications.settings import NotificationSettings
from notifications.worker import Worker
from tests.api.role_matrix import (
    AMSTERDAM_ACCOUNTS,
    CONTACT,
    STAFF_CALLERS,
    Bug,
    Call,
    Case,
    Expected,
    J,
    MatrixRun,
    Setup,
    cells,
    everyone,
    on_utrecht_path,
    residents,
    restricted,
    run_cell,
)
from tests.conftest import UTRECHT_DOM, World, report_body
from tests.notifications.conftest import SmtpSink, free_port, start_smtp

LINKS = "/api/v1/notifications"
SECRET = "matrix-secret-key-for-signed-links"
OTHER_KEY = "the-secret-key-of-another-deployment"
ALLOWLISTED = "10.20.0.0/16"  # the municipality's own network, opened by the operator
PUBLIC_ADDRESS = "93.184.216.34"  # globally routable; registration checks it, nothing connects to it
NOBODY = 2**40  # an id no row has
MESSAGE_NOT_FOUND = (404, "inbox-message-not-found")
SUBSCRIPTION_NOT_FOUND = (404, "subscription-not-found")
QUESTION_NOT_FOUND = (404, "satisfaction-request-not-found")
REOPEN_NOT_FOUND = (404, "reopen-request-not-found")
WEBHOOK_NOT_FOUND = (404, "webhook-not-found")
FORBIDDEN_TARGET = (422, "forbidden-target")
INVALID_LINK = (403, "invalid-link-token")
COUNCIL_SIDE = ("council", "admin")
# Who reports and who handles, per jurisdiction and category.
PEOPLE = {
    ("amsterdam", "pothole"): ("resident", "roads_staff"),
    ("amsterdam", "nuisance-neighbours"): ("resident", "waste_staff"),
    ("utrecht", "pothole"): ("utrecht_resident", "utrecht_staff"),
}
# Events that other modules committed are not this module's business: settle them inside its transaction.
QUIET_QUEUE = (
    "UPDATE outbox_events SET processed_at = now() WHERE processed_at IS NULL",
    "UPDATE notification_deliveries SET next_attempt_at = 'infinity' WHERE status IN ('pending', 'sending')",
    "UPDATE satisfaction_requests SET cancelled_at = now() WHERE issued_at IS NULL AND cancelled_at IS NULL",
    "UPDATE area_subscriptions SET last_digest_at = now()",
)


@dataclass
class Loop:
    """The notification side of the module's app: the settings it signs links with, its worker, its
    SMTP server. The builders are module constants (the route-policy test reads the table), so the
    runner fixture hands them the running loop here."""

    settings: NotificationSettings
    worker: Worker
    smtp: SmtpSink


RUNNING: list[Loop] = []


def running() -> Loop:
    [loop] = RUNNING
    return loop


@pytest.fixture(scope="module")
async def matrix_run(
    engine: AsyncEngine, world: World, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MatrixRun]:
    files = tmp_path_factory.mktemp("notifications-matrix")
    smtp = SmtpSink(port=free_port())
    controller = start_smtp(smtp)
    settings = Settings(
        environment="test",
        rate_limits=False,
        database_url=database_url,
        media_dir=files / "media",
        secret_key=SecretStr(SECRET),
        public_base_url="https://civicloop.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        vapid_private_key_file=files / "vapid_private.pem",
        satisfaction_delay_seconds=0,
        network_allowlist=[ALLOWLISTED],
        run_worker=False,
        smtp_timeout_seconds=2,
        http_timeout_seconds=2,
        worker_schedule_seconds=0.0,
    )
    notification_settings = settings.notifications
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            for statement in QUIET_QUEUE:
                await connection.execute(text(statement))
            sessionmaker = async_sessionmaker(
                bind=connection,
                expire_on_commit=False,
                autoflush=False,
                join_transaction_mode="create_savepoint",
            )
            app = create_app(settings, sessionmaker=sessionmaker)
            app.state.notification_settings = notification_settings
            app.state.map_refresh_checked_at = math.inf  # no background refresh of the map cells
            worker = Worker(sessionmaker, notification_settings)
            RUNNING.append(Loop(notification_settings, worker, smtp))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
                    run = MatrixRun(connection, sessionmaker, client, world)
                    yield run
                    await run.leave_row()
            finally:
                RUNNING.clear()
                await worker.aclose()
                await transaction.rollback()
    finally:
        controller.stop()


# Setups.


def path_of(jurisdiction: str) -> str:
    return J.format(jurisdiction=jurisdiction)


async def settle() -> None:
    """What the worker does after these requests: fan out, ask the due questions, deliver."""
    loop = running()
    await loop.worker.run_until_idle()
    loop.smtp.clear()


async def report_in(setup: Setup, jurisdiction: str = "amsterdam", category: str = "pothole") -> int:
    """A report with the reporter's contact data, which no answer outside the staff may show."""
    if jurisdiction == "amsterdam":
        return int((await setup.report(category))["id"])
    reporter, _ = PEOPLE[(jurisdiction, category)]
    body = report_body(category, UTRECHT_DOM, contact=CONTACT)
    created = await setup.ok("POST", f"{path_of(jurisdiction)}/reports", reporter, 201, json=body)
    return int(created["id"])


async def move(setup: Setup, jurisdiction: str, report_id: int, staff: str, *statuses: str) -> None:
    base = path_of(jurisdiction)
    for status in statuses:
        view = await setup.ok("GET", f"{base}/reports/{report_id}/staff-view", staff, 200)
        body = {"status": status, "expected_version": view["version"]}
        await setup.ok("POST", f"{base}/reports/{report_id}/transitions", staff, 200, json=body)


@dataclass(frozen=True)
class Question:
    report_id: int
    request_id: int
    token: str


async def question(setup: Setup, jurisdiction: str = "amsterdam", category: str = "pothole") -> Question:
    """A report its staff resolved, and the satisfaction question the worker then put to the reporter;
    the link's token is taken from the reporter's inbox, as the app shows it."""
    reporter, staff = PEOPLE[(jurisdiction, category)]
    report_id = await report_in(setup, jurisdiction, category)
    await move(setup, jurisdiction, report_id, staff, "accepted", "resolved")
    await settle()
    base = path_of(jurisdiction)
    asked = await setup.ok("GET", f"{base}/me/satisfaction-requests", reporter, 200)
    [request_id] = [item["id"] for item in asked if item["report_id"] == report_id]
    inbox = await setup.ok("GET", f"{base}/me/inbox", reporter, 200)
    [token] = [
        item["data"]["answer_token"]
        for item in inbox
        if item["topic"] == "report.satisfaction_requested" and item["data"]["report_id"] == report_id
    ]
    return Question(report_id, request_id, token)


async def reopen_request(setup: Setup, jurisdiction: str = "amsterdam", category: str = "pothole") -> int:
    """The reporter answers "not fixed": a reopen request for the report's staff."""
    reporter, _ = PEOPLE[(jurisdiction, category)]
    asked = await question(setup, jurisdiction, category)
    answered = await setup.ok(
        "POST",
        f"{path_of(jurisdiction)}/satisfaction-requests/{asked.request_id}/answer",
        reporter,
        201,
        json={"fixed": False, "score": 1, "comment": "Het gat is er nog"},
    )
    return int(answered["reopen_request_id"])


def encode(claims: dict[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        .rstrip(b"=")
        .decode()
    )


def forged(token: str, claims: dict[str, Any]) -> str:
    """The link with its claims rewritten (another account, another question), its signature kept."""
    return f"{encode(claims)}.{token.partition('.')[2]}"


def unsubscribe_token(setup: Setup, account: str = "resident", kind: str = "report_updates") -> str:
    """The token of the List-Unsubscribe link the app puts in every e-mail to this account."""
    url = fanout.unsubscribe_url(
        running().settings, f"account:{setup.world.accounts[account]}", kind, "email"
    )
    return url.rsplit("/", 1)[1]


async def unread_counts(setup: Setup) -> dict[str, int]:
    async with setup.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT account_id, count(*) FROM inbox_messages WHERE read_at IS NULL GROUP BY account_id")
        )
        counts = {account_id: int(count) for account_id, count in rows}
    return {caller: counts.get(setup.world.accounts[caller], 0) for caller in AMSTERDAM_ACCOUNTS}


def push_keys() -> dict[str, str]:
    """A browser's subscription keys: a real P-256 public point and a 16-byte auth secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
        "auth": base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode(),
    }


def push_body(endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": push_keys(), "expirationTime": None}


def webhook_body(url: str | None = None, **extra: Any) -> dict[str, Any]:
    target = url or f"https://{PUBLIC_ADDRESS}/civicloop/{uuid.uuid4().hex[:8]}"
    return {"url": target, "description": "Zaaksysteem", "topics": ["report.submitted"], **extra}


async def webhook(setup: Setup, jurisdiction: str = "amsterdam") -> int:
    admin = "admin" if jurisdiction == "amsterdam" else "utrecht_admin"
    created = await setup.ok("POST", f"{path_of(jurisdiction)}/webhooks", admin, 201, json=webhook_body())
    return int(created["id"])


def override_body(**changes: Any) -> dict[str, Any]:
    return {
        "topic": "report.status_changed",
        "status": "resolved",
        "category": "pothole",
        "locale": "nl",
        "subject": "Opgelost: melding {reference}",
        "body": "Het gat is gedicht.\n{url}",
        **changes,
    }


async def template_override(setup: Setup, jurisdiction: str = "amsterdam") -> int:
    admin = "admin" if jurisdiction == "amsterdam" else "utrecht_admin"
    base = path_of(jurisdiction)
    created = await setup.ok("PUT", f"{base}/notification-templates", admin, 200, json=override_body())
    return int(created["id"])


async def dead_fan_out(setup: Setup, jurisdiction: str = "amsterdam") -> int:
    """An event about a report that is gone: its fan-out fails and the worker dead-letters it."""
    jurisdiction_id = setup.world.amsterdam if jurisdiction == "amsterdam" else setup.world.utrecht
    async with setup.sessionmaker() as session:
        event = await record_event(
            session, jurisdiction_id=jurisdiction_id, event=ReportSubmitted(report_id=NOBODY)
        )
        event_id = event.id
        await session.commit()
    await settle()
    return await dead_letter_of(setup, "outbox_event_id = :id", event_id)


async def refused_mail(setup: Setup) -> int:
    """The reporter's mail server refuses the confirmation (550): a dead delivery."""
    smtp = running().smtp
    smtp.reject.add(CONTACT["email"])
    try:
        report_id = await report_in(setup)
        await settle()
    finally:
        smtp.reject.clear()
    return await dead_letter_of(
        setup,
        "channel = 'email' AND outbox_event_id IN"
        " (SELECT id FROM outbox_events WHERE aggregate_type = 'report' AND aggregate_id = :id)",
        report_id,
    )


async def dead_letter_of(setup: Setup, where: str, value: int) -> int:
    async with setup.sessionmaker() as session:
        found = await session.scalar(
            text(f"SELECT id FROM notification_deliveries WHERE status = 'dead' AND {where}"), {"id": value}
        )
    assert found is not None, "no dead letter"
    return int(found)


# Builders of valid requests: the inbox, preferences and subscriptions.


async def nothing(setup: Setup) -> Call:
    return Call()


async def inbox_message(setup: Setup) -> Call:
    """The resident's confirmation of their report, in their inbox only."""
    report_id = await report_in(setup)
    await settle()
    inbox = await setup.ok("GET", f"{setup.base}/me/inbox", "resident", 200)
    [message] = [item for item in inbox if item["data"].get("report_id") == report_id]
    counts = await unread_counts(setup)
    assert counts["resident"] >= 1, counts
    return Call(path={"message_id": message["id"]}, facts={"message_id": message["id"], "unread": counts})


def lists_own_messages_only(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {item["id"] for item in response.json()}
    assert (call.facts["message_id"] in ids) is (caller == "resident"), (caller, ids)


def counts_own_messages(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json() == {"unread": call.facts["unread"][caller]}, caller


def marked_read(response: httpx.Response, call: Call, caller: str) -> None:
    body = response.json()
    assert body["id"] == call.facts["message_id"] and body["read_at"] is not None, body


def none_unread(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json() == {"unread": 0}


async def preference_change(setup: Setup) -> Call:
    return Call(json={"changes": [{"kind": "area_alerts", "channel": "email", "enabled": False}]})


def switched_off(response: httpx.Response, call: Call, caller: str) -> None:
    preferences = response.json()
    assert preferences["area_alerts"]["email"] is False and preferences["report_updates"]["email"] is True


async def following_dam(setup: Setup) -> Call:
    area_id = setup.world.areas["Dam"]
    body = {"area_id": area_id, "frequency": "daily"}
    await setup.ok("PUT", f"{setup.base}/me/area-subscriptions", "resident", 200, json=body)
    return Call(path={"area_id": area_id}, facts={"area_id": area_id})


def lists_own_subscriptions_only(response: httpx.Response, call: Call, caller: str) -> None:
    areas = {item["area_id"] for item in response.json()}
    assert (call.facts["area_id"] in areas) is (caller == "resident"), (caller, areas)


def follow(area: str) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(json={"area_id": setup.world.areas[area], "frequency": "instant"})

    return build


async def vapid(setup: Setup) -> Call:
    return Call()


def is_a_p256_point(response: httpx.Response, call: Call, caller: str) -> None:
    assert len(response.json()["public_key"]) == 87, response.text


def new_push(endpoint: str) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(json=push_body(endpoint.format(unique=uuid.uuid4().hex)))

    return build


async def registered_push(setup: Setup) -> Call:
    endpoint = f"https://{PUBLIC_ADDRESS}/push/{uuid.uuid4().hex}"
    created = await setup.ok(
        "POST", f"{setup.base}/me/push-subscriptions", "resident", 201, json=push_body(endpoint)
    )
    return Call(path={"subscription_id": created["id"]})


# Builders: signed links.


def unsubscribe_link(kind: str = "report_updates") -> Any:
    async def build(setup: Setup) -> Call:
        return Call(path={"token": unsubscribe_token(setup, kind=kind)}, facts={"kind": kind})

    return build


def unsubscribed(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json() == {"kind": call.facts["kind"], "channel": "email", "enabled": False}


def previewed(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json()["kind"] == call.facts["kind"], response.text


async def unsubscribe_link_for_another_account(setup: Setup) -> Call:
    """The resident's link, rewritten to switch off the other resident's mail."""
    token = unsubscribe_token(setup)
    claims = {"r": f"account:{setup.world.accounts['other_resident']}", "k": "report_updates", "c": "email"}
    return Call(path={"token": forged(token, claims)})


async def unsubscribe_link_of_another_key(setup: Setup) -> Call:
    claims = {"r": f"account:{setup.world.accounts['resident']}", "k": "report_updates", "c": "email"}
    return Call(path={"token": tokens.sign(OTHER_KEY, "unsubscribe", claims)})


async def expired_unsubscribe_link(setup: Setup) -> Call:
    """The app's unsubscribe links do not expire (old mail must keep working), but the verifier honours
    an expiry wherever a token carries one."""
    claims = {"r": f"account:{setup.world.accounts['resident']}", "k": "report_updates", "c": "email"}
    return Call(path={"token": tokens.sign(SECRET, "unsubscribe", claims, ttl_seconds=-60)})


async def unsubscribe_link_of_another_jurisdiction(setup: Setup) -> Call:
    return Call(
        path={"token": unsubscribe_token(setup, "utrecht_resident")}, facts={"kind": "report_updates"}
    )


async def satisfaction_link_as_unsubscribe_link(setup: Setup) -> Call:
    """A token signed for answering, with unsubscribe claims: the purpose is part of the signature."""
    claims = {"r": f"account:{setup.world.accounts['resident']}", "k": "report_updates", "c": "email"}
    return Call(path={"token": tokens.sign(SECRET, "satisfaction", claims)})


async def not_a_link(setup: Setup) -> Call:
    return Call(path={"token": "not-a-signed-token"})


ANSWER = {"fixed": True, "score": 4, "comment": "Netjes gedaan"}


def answer_link(jurisdiction: str = "amsterdam", *, answered: bool = False) -> Any:
    async def build(setup: Setup) -> Call:
        asked = await question(setup, jurisdiction)
        if answered:
            first = await setup.client.post(f"{LINKS}/satisfaction/{asked.token}", json=ANSWER)
            assert first.status_code == 201, first.text
        return Call(path={"token": asked.token}, json=ANSWER, facts={"question": asked})

    return build


def asks_about_the_report(response: httpx.Response, call: Call, caller: str) -> None:
    asked: Question = call.facts["question"]
    body = response.json()
    assert (body["id"], body["report_id"]) == (asked.request_id, asked.report_id), body


def answered_happily(response: httpx.Response, call: Call, caller: str) -> None:
    asked: Question = call.facts["question"]
    body = response.json()
    assert body == {"id": asked.request_id, "report_id": asked.report_id, "reopen_request_id": None}, body


async def expired_answer_link(setup: Setup) -> Call:
    asked = await question(setup)
    token = tokens.sign(SECRET, "satisfaction", {"id": asked.request_id}, ttl_seconds=-60)
    return Call(path={"token": token}, json=ANSWER)


async def answer_link_for_another_question(setup: Setup) -> Call:
    """Two followers of one resolved report, each asked; the resident's link, rewritten to answer the
    other resident's question."""
    report_id = await report_in(setup)
    await setup.ok("PUT", f"{setup.base}/reports/{report_id}/followers/me", "other_resident", 204)
    await move(setup, "amsterdam", report_id, "roads_staff", "accepted", "resolved")
    await settle()
    inbox = await setup.ok("GET", f"{setup.base}/me/inbox", "resident", 200)
    [token] = [
        item["data"]["answer_token"]
        for item in inbox
        if item["topic"] == "report.satisfaction_requested" and item["data"]["report_id"] == report_id
    ]
    theirs = await setup.ok("GET", f"{setup.base}/me/satisfaction-requests", "other_resident", 200)
    [other] = [item["id"] for item in theirs if item["report_id"] == report_id]
    return Call(path={"token": forged(token, {"id": other, "exp": 4_000_000_000})}, json=ANSWER)


async def answer_link_of_another_key(setup: Setup) -> Call:
    asked = await question(setup)
    return Call(path={"token": tokens.sign(OTHER_KEY, "satisfaction", {"id": asked.request_id})}, json=ANSWER)


async def unsubscribe_link_as_answer_link(setup: Setup) -> Call:
    asked = await question(setup)
    return Call(path={"token": tokens.sign(SECRET, "unsubscribe", {"id": asked.request_id})}, json=ANSWER)


async def answer_link_to_nothing(setup: Setup) -> Call:
    return Call(path={"token": tokens.sign(SECRET, "satisfaction", {"id": NOBODY})}, json=ANSWER)


# Builders: satisfaction questions and reopen requests for the signed-in.


def own_question(jurisdiction: str = "amsterdam") -> Any:
    async def build(setup: Setup) -> Call:
        asked = await question(setup, jurisdiction)
        return Call(path={"request_id": asked.request_id}, json=ANSWER, facts={"question": asked})

    return build


def lists_own_questions_only(response: httpx.Response, call: Call, caller: str) -> None:
    asked: Question = call.facts["question"]
    ids = {item["id"] for item in response.json()}
    assert (asked.request_id in ids) is (caller == "resident"), (caller, ids)


def on_reopen_request(
    category: str = "pothole", *, of: str = "amsterdam", jurisdiction: str = "amsterdam", **json: Any
) -> Any:
    async def build(setup: Setup) -> Call:
        request_id = await reopen_request(setup, of, category)
        return Call(
            path={"request_id": request_id},
            json=json or None,
            jurisdiction=jurisdiction,
            facts={"request_id": request_id},
        )

    return build


def pothole_requests_for_roads(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {item["id"] for item in response.json()}
    assert (call.facts["request_id"] in ids) is (caller in ("roads_staff", "admin")), (caller, ids)


def decided(status: str) -> Any:
    def check(response: httpx.Response, call: Call, caller: str) -> None:
        body = response.json()
        assert (body["id"], body["status"]) == (call.facts["request_id"], status), body

    return check


# Builders: webhooks, dead letters, templates.


def new_webhook(url: str | None = None, **extra: Any) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(json=webhook_body(url, **extra))

    return build


def shows_the_secret_once(response: httpx.Response, call: Call, caller: str) -> None:
    assert len(response.json()["secret"]) >= 32, response.text


async def webhooks_of_both(setup: Setup) -> Call:
    ours, theirs = await webhook(setup), await webhook(setup, "utrecht")
    return Call(facts={"ours": ours, "theirs": theirs})


def own_webhooks_without_secrets(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {item["id"] for item in response.json()}
    assert call.facts["ours"] in ids and call.facts["theirs"] not in ids, ids
    assert all("secret" not in item for item in response.json()), response.text


def on_webhook(of: str = "amsterdam", *, jurisdiction: str = "amsterdam", **json: Any) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(
            path={"webhook_id": await webhook(setup, of)}, json=json or None, jurisdiction=jurisdiction
        )

    return build


def no_secret(response: httpx.Response, call: Call, caller: str) -> None:
    assert "secret" not in response.json(), response.text


async def dead_letters_of_both(setup: Setup) -> Call:
    ours, theirs = await dead_fan_out(setup), await dead_fan_out(setup, "utrecht")
    return Call(facts={"ours": ours, "theirs": theirs})


def own_dead_letters_only(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {item["id"] for item in response.json()}
    assert call.facts["ours"] in ids and call.facts["theirs"] not in ids, ids


def on_dead_letter(kind: str, of: str = "amsterdam") -> Any:
    async def build(setup: Setup) -> Call:
        delivery_id = await (refused_mail(setup) if kind == "delivery" else dead_fan_out(setup, of))
        return Call(path={"delivery_id": delivery_id}, facts={"replayed": kind})

    return build


def replayed(response: httpx.Response, call: Call, caller: str) -> None:
    assert response.json() == {"id": call.path["delivery_id"], "replayed": call.facts["replayed"]}


async def overrides_of_both(setup: Setup) -> Call:
    ours, theirs = await template_override(setup), await template_override(setup, "utrecht")
    return Call(facts={"ours": ours, "theirs": theirs})


def own_overrides_only(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {item["id"] for item in response.json()}
    assert call.facts["ours"] in ids and call.facts["theirs"] not in ids, ids


def new_override(**changes: Any) -> Any:
    async def build(setup: Setup) -> Call:
        return Call(json=override_body(**changes))

    return build


def on_override(of: str = "amsterdam") -> Any:
    async def build(setup: Setup) -> Call:
        return Call(path={"override_id": await template_override(setup, of)})

    return build


# Builders: the loop metrics.


def metrics_of(area: str | None, **params: str) -> Any:
    """A report on the Dam, then the metrics of ``area`` (None: the whole jurisdiction)."""

    async def build(setup: Setup) -> Call:
        await report_in(setup)
        query = {"group_by": "category", **params}
        if area is not None:
            query["area_id"] = str(setup.world.areas[area])
        return Call(params=query, facts={"area": area})

    return build


def counts_the_dam(response: httpx.Response, call: Call, caller: str) -> None:
    rows = response.json()["rows"]
    if call.facts["area"] in (None, "Amsterdam", "Centrum", "Dam"):
        assert sum(row["inputs"] for row in rows) >= 1, rows
        assert "pothole" in {row["group"] for row in rows}, rows


def participation_metrics_of(area: str | None, **params: str) -> Any:
    """The votes' and responses' loop metrics of ``area`` (None: the whole jurisdiction)."""

    async def build(setup: Setup) -> Call:
        query = {"group_by": "area", **params}
        if area is not None:
            query["area_id"] = str(setup.world.areas[area])
        return Call(params=query, facts={"area": area})

    return build


def lists_votes_and_responses(response: httpx.Response, call: Call, caller: str) -> None:
    body = response.json()
    assert isinstance(body["votes"], list) and isinstance(body["consultation_responses"], list), body


# Expected answers.


def owner_only(ok: Expected | Bug, hidden: Expected, owner: str = "resident") -> dict[str, Expected | Bug]:
    """A RESIDENT route on one account's object: the others of the jurisdiction do not find it."""
    return residents(ok, **{caller: hidden for caller in AMSTERDAM_ACCOUNTS if caller != owner})


def amsterdam_accounts(answer: Expected | Bug) -> dict[str, Expected | Bug]:
    return residents(answer, **dict.fromkeys(AMSTERDAM_ACCOUNTS, answer))


ADMIN_ONLY = ("admin",)


INBOX = f"{J}/me/inbox"
PREFERENCES = f"{J}/me/notification-preferences"
AREA_SUBSCRIPTIONS = f"{J}/me/area-subscriptions"
PUSH = f"{J}/me/push-subscriptions"
UNSUBSCRIBE = f"{LINKS}/unsubscribe/{{token}}"
SATISFACTION_LINK = f"{LINKS}/satisfaction/{{token}}"
ANSWER_ROUTE = f"{J}/satisfaction-requests/{{request_id}}/answer"
DECISION = f"{J}/reopen-requests/{{request_id}}/decision"
WEBHOOKS = f"{J}/webhooks"
WEBHOOK = f"{WEBHOOKS}/{{webhook_id}}"
TEMPLATES = f"{J}/notification-templates"
METRICS = f"{J}/loop-metrics"
PARTICIPATION_METRICS = f"{J}/loop-metrics/participation"
ACCEPT: dict[str, Any] = {"accept": True, "message": "We komen terug."}
REJECT: dict[str, Any] = {"accept": False, "message": "De reparatie voldoet aan de norm."}

MATRIX: dict[str, Case] = {
    # --- the inbox
    "inbox": Case("GET", INBOX, RESIDENT, inbox_message, residents(200), check=lists_own_messages_only),
    "unread count": Case(
        "GET", f"{INBOX}/unread-count", RESIDENT, inbox_message, residents(200), check=counts_own_messages
    ),
    "mark a message read": Case(
        "POST",
        f"{INBOX}/{{message_id}}/read",
        RESIDENT,
        inbox_message,
        owner_only(200, MESSAGE_NOT_FOUND),
        check=marked_read,
    ),
    "mark every message read": Case(
        "POST", f"{INBOX}/read-all", RESIDENT, inbox_message, residents(200), check=none_unread
    ),
    # --- preferences and area alerts
    "read preferences": Case("GET", PREFERENCES, RESIDENT, nothing, residents(200)),
    "change preferences": Case(
        "PATCH", PREFERENCES, RESIDENT, preference_change, residents(200), check=switched_off
    ),
    "list area subscriptions": Case(
        "GET", AREA_SUBSCRIPTIONS, RESIDENT, following_dam, residents(200), check=lists_own_subscriptions_only
    ),
    "follow an area": Case("PUT", AREA_SUBSCRIPTIONS, RESIDENT, follow("Dam"), residents(200)),
    "follow another jurisdiction's area": Case(
        "PUT", AREA_SUBSCRIPTIONS, RESIDENT, follow("Utrecht"), amsterdam_accounts((404, "area-not-found"))
    ),
    "stop following an area": Case(
        "DELETE",
        f"{AREA_SUBSCRIPTIONS}/{{area_id}}",
        RESIDENT,
        following_dam,
        owner_only(204, SUBSCRIPTION_NOT_FOUND),
    ),
    # --- web push
    "VAPID public key": Case(
        "GET", f"{LINKS}/vapid-public-key", PUBLIC, vapid, everyone(200), check=is_a_p256_point
    ),
    "register push endpoint": Case(
        "POST", PUSH, RESIDENT, new_push(f"https://{PUBLIC_ADDRESS}/push/{{unique}}"), residents(201)
    ),
    "register push endpoint on a private network": Case(
        "POST",
        PUSH,
        RESIDENT,
        new_push("https://192.168.1.20/push/{unique}"),
        amsterdam_accounts(FORBIDDEN_TARGET),
    ),
    "register push endpoint on loopback by name": Case(
        "POST",
        PUSH,
        RESIDENT,
        new_push("https://localhost/push/{unique}"),
        amsterdam_accounts(FORBIDDEN_TARGET),
    ),
    "register push endpoint over plain http": Case(
        "POST",
        PUSH,
        RESIDENT,
        new_push(f"http://{PUBLIC_ADDRESS}/push/{{unique}}"),
        amsterdam_accounts((422, "invalid-push-subscription")),
    ),
    "unregister push endpoint": Case(
        "DELETE",
        f"{PUSH}/{{subscription_id}}",
        RESIDENT,
        registered_push,
        owner_only(204, SUBSCRIPTION_NOT_FOUND),
    ),
    # --- one-click unsubscribe (RFC 8058)
    "preview unsubscribe link": Case(
        "GET", UNSUBSCRIBE, PUBLIC, unsubscribe_link(), everyone(200), check=previewed
    ),
    "preview unsubscribe link of a kind that does not exist": Case(
        "GET",
        UNSUBSCRIBE,
        PUBLIC,
        unsubscribe_link("newsletter"),
        everyone((422, "malformed-link-token")),
    ),
    "unsubscribe by link": Case(
        "POST", UNSUBSCRIBE, PUBLIC, unsubscribe_link(), everyone(200), check=unsubscribed
    ),
    "preview an unsubscribe link rewritten for another account": Case(
        "GET", UNSUBSCRIBE, PUBLIC, unsubscribe_link_for_another_account, everyone(INVALID_LINK)
    ),
    "unsubscribe by another jurisdiction's link": Case(
        "POST",
        UNSUBSCRIBE,
        PUBLIC,
        unsubscribe_link_of_another_jurisdiction,
        everyone(200),
        check=unsubscribed,
    ),
    "unsubscribe by an expired link": Case(
        "POST", UNSUBSCRIBE, PUBLIC, expired_unsubscribe_link, everyone((410, "link-expired"))
    ),
    "unsubscribe by a link rewritten for another account": Case(
        "POST", UNSUBSCRIBE, PUBLIC, unsubscribe_link_for_another_account, everyone(INVALID_LINK)
    ),
    "unsubscribe by a link signed with another key": Case(
        "POST", UNSUBSCRIBE, PUBLIC, unsubscribe_link_of_another_key, everyone(INVALID_LINK)
    ),
    "unsubscribe by a link signed for answering": Case(
        "POST", UNSUBSCRIBE, PUBLIC, satisfaction_link_as_unsubscribe_link, everyone(INVALID_LINK)
    ),
    "unsubscribe by a link of a kind that does not exist": Case(
        "POST", UNSUBSCRIBE, PUBLIC, unsubscribe_link("newsletter"), everyone((422, "malformed-link-token"))
    ),
    "unsubscribe by something that is not a link": Case(
        "POST", UNSUBSCRIBE, PUBLIC, not_a_link, everyone((422, "invalid-input"))
    ),
    # --- satisfaction questions by link
    "satisfaction question by link": Case(
        "GET", SATISFACTION_LINK, PUBLIC, answer_link(), everyone(200), check=asks_about_the_report
    ),
    "satisfaction question by an expired link": Case(
        "GET", SATISFACTION_LINK, PUBLIC, expired_answer_link, everyone((410, "link-expired"))
    ),
    "answer by link": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link(), everyone(201), check=answered_happily
    ),
    "answer by another jurisdiction's link": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link("utrecht"), everyone(201), check=answered_happily
    ),
    "answer by link twice": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link(answered=True), everyone((409, "already-answered"))
    ),
    "answer by an expired link": Case(
        "POST", SATISFACTION_LINK, PUBLIC, expired_answer_link, everyone((410, "link-expired"))
    ),
    "answer by a link rewritten for another person's question": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link_for_another_question, everyone(INVALID_LINK)
    ),
    "answer by a link signed with another key": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link_of_another_key, everyone(INVALID_LINK)
    ),
    "answer by a link signed for unsubscribing": Case(
        "POST", SATISFACTION_LINK, PUBLIC, unsubscribe_link_as_answer_link, everyone(INVALID_LINK)
    ),
    "answer by a link to a question that does not exist": Case(
        "POST", SATISFACTION_LINK, PUBLIC, answer_link_to_nothing, everyone(QUESTION_NOT_FOUND)
    ),
    # --- satisfaction questions, signed in
    "my satisfaction questions": Case(
        "GET",
        f"{J}/me/satisfaction-requests",
        RESIDENT,
        own_question(),
        residents(200),
        check=lists_own_questions_only,
    ),
    "answer a satisfaction question": Case(
        "POST",
        ANSWER_ROUTE,
        RESIDENT,
        own_question(),
        owner_only(201, QUESTION_NOT_FOUND),
        check=answered_happily,
    ),
    "answer another jurisdiction's satisfaction question": Case(
        "POST", ANSWER_ROUTE, RESIDENT, own_question("utrecht"), amsterdam_accounts(QUESTION_NOT_FOUND)
    ),
    # --- reopen requests
    "reopen requests": Case(
        "GET",
        f"{J}/reopen-requests",
        STAFF,
        on_reopen_request(),
        restricted(200, STAFF_CALLERS),
        check=pothole_requests_for_roads,
    ),
    "accept a reopen request": Case(
        "POST",
        DECISION,
        STAFF,
        on_reopen_request(**ACCEPT),
        restricted(200, ("roads_staff", "admin"), waste_staff=(403, "forbidden")),
        check=decided("accepted"),
    ),
    "reject a reopen request": Case(
        "POST",
        DECISION,
        STAFF,
        on_reopen_request(**REJECT),
        restricted(200, ("roads_staff", "admin"), waste_staff=(403, "forbidden")),
        check=decided("rejected"),
    ),
    "decide a reopen request of a non-public report": Case(
        "POST",
        DECISION,
        STAFF,
        on_reopen_request("nuisance-neighbours", **ACCEPT),
        restricted(200, ("waste_staff", "admin"), roads_staff=(403, "forbidden")),
        check=decided("accepted"),
    ),
    "decide another jurisdiction's reopen request": Case(
        "POST",
        DECISION,
        STAFF,
        on_reopen_request(of="utrecht", **ACCEPT),
        restricted(REOPEN_NOT_FOUND, STAFF_CALLERS),
    ),
    "decide a reopen request under another jurisdiction": Case(
        "POST",
        DECISION,
        STAFF,
        on_reopen_request(jurisdiction="utrecht", **ACCEPT),
        on_utrecht_path(("utrecht_staff", "utrecht_admin"), REOPEN_NOT_FOUND),
    ),
    # --- webhooks
    "list webhooks": Case(
        "GET",
        WEBHOOKS,
        ADMIN,
        webhooks_of_both,
        restricted(200, ADMIN_ONLY),
        check=own_webhooks_without_secrets,
    ),
    "add webhook": Case(
        "POST", WEBHOOKS, ADMIN, new_webhook(), restricted(201, ADMIN_ONLY), check=shows_the_secret_once
    ),
    "add webhook on loopback": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook("http://localhost:8080/civicloop"),
        restricted(FORBIDDEN_TARGET, ADMIN_ONLY),
    ),
    "add webhook on IPv4-mapped loopback": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook("http://[::ffff:127.0.0.1]:8080/civicloop"),
        restricted(FORBIDDEN_TARGET, ADMIN_ONLY),
    ),
    "add webhook on the cloud metadata address": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook("http://169.254.169.254/latest/meta-data/"),
        restricted(FORBIDDEN_TARGET, ADMIN_ONLY),
    ),
    "add webhook on a private network": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook("http://10.1.2.3/civicloop"),
        restricted(FORBIDDEN_TARGET, ADMIN_ONLY),
    ),
    "add webhook on the allowlisted private network": Case(
        "POST", WEBHOOKS, ADMIN, new_webhook("http://10.20.30.40/civicloop"), restricted(201, ADMIN_ONLY)
    ),
    "add webhook on loopback, allowed by the administrator": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook("http://127.0.0.1:9/civicloop", allow_private_network=True),
        restricted(201, ADMIN_ONLY),
    ),
    "add webhook with an unknown topic": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook(topics=["report.deleted"]),
        restricted((422, "unknown-topic"), ADMIN_ONLY),
    ),
    "add webhook on a host name that cannot be encoded": Case(
        "POST",
        WEBHOOKS,
        ADMIN,
        new_webhook(f"https://{'a' * 64}.example.org/civicloop"),
        restricted((422, "unresolvable-target"), ADMIN_ONLY),
    ),
    "read webhook": Case("GET", WEBHOOK, ADMIN, on_webhook(), restricted(200, ADMIN_ONLY), check=no_secret),
    "read another jurisdiction's webhook": Case(
        "GET", WEBHOOK, ADMIN, on_webhook("utrecht"), restricted(WEBHOOK_NOT_FOUND, ADMIN_ONLY)
    ),
    "read a webhook under another jurisdiction": Case(
        "GET",
        WEBHOOK,
        ADMIN,
        on_webhook(jurisdiction="utrecht"),
        on_utrecht_path(("utrecht_admin",), WEBHOOK_NOT_FOUND),
    ),
    "change webhook": Case(
        "PATCH",
        WEBHOOK,
        ADMIN,
        on_webhook(description="Zaaksysteem (productie)"),
        restricted(200, ADMIN_ONLY),
        check=no_secret,
    ),
    "point a webhook at loopback": Case(
        "PATCH",
        WEBHOOK,
        ADMIN,
        on_webhook(url="http://127.0.0.1:8080/civicloop"),
        restricted(FORBIDDEN_TARGET, ADMIN_ONLY),
    ),
    "change another jurisdiction's webhook": Case(
        "PATCH",
        WEBHOOK,
        ADMIN,
        on_webhook("utrecht", is_active=False),
        restricted(WEBHOOK_NOT_FOUND, ADMIN_ONLY),
    ),
    "remove webhook": Case("DELETE", WEBHOOK, ADMIN, on_webhook(), restricted(204, ADMIN_ONLY)),
    "remove another jurisdiction's webhook": Case(
        "DELETE", WEBHOOK, ADMIN, on_webhook("utrecht"), restricted(WEBHOOK_NOT_FOUND, ADMIN_ONLY)
    ),
    # --- dead letters
    "dead letters": Case(
        "GET",
        f"{J}/dead-letters",
        ADMIN,
        dead_letters_of_both,
        restricted(200, ADMIN_ONLY),
        check=own_dead_letters_only,
    ),
    "replay a dead delivery": Case(
        "POST",
        f"{J}/dead-letters/{{delivery_id}}/replay",
        ADMIN,
        on_dead_letter("delivery"),
        restricted(200, ADMIN_ONLY),
        check=replayed,
    ),
    "replay a failed fan-out": Case(
        "POST",
        f"{J}/dead-letters/{{delivery_id}}/replay",
        ADMIN,
        on_dead_letter("fan-out"),
        restricted(200, ADMIN_ONLY),
        check=replayed,
    ),
    "replay another jurisdiction's dead letter": Case(
        "POST",
        f"{J}/dead-letters/{{delivery_id}}/replay",
        ADMIN,
        on_dead_letter("fan-out", "utrecht"),
        restricted((404, "delivery-not-found"), ADMIN_ONLY),
    ),
    # --- templates
    "template overrides": Case(
        "GET", TEMPLATES, ADMIN, overrides_of_both, restricted(200, ADMIN_ONLY), check=own_overrides_only
    ),
    "override a template": Case("PUT", TEMPLATES, ADMIN, new_override(), restricted(200, ADMIN_ONLY)),
    "override a template that does not exist": Case(
        "PUT",
        TEMPLATES,
        ADMIN,
        new_override(topic="report.deleted"),
        restricted((422, "unknown-template"), ADMIN_ONLY),
    ),
    "override a template for a status the workflow does not have": Case(
        "PUT",
        TEMPLATES,
        ADMIN,
        new_override(status="opgelost"),
        restricted((422, "unknown-template"), ADMIN_ONLY),
    ),
    "remove a template override": Case(
        "DELETE", f"{TEMPLATES}/{{override_id}}", ADMIN, on_override(), restricted(204, ADMIN_ONLY)
    ),
    "remove another jurisdiction's template override": Case(
        "DELETE",
        f"{TEMPLATES}/{{override_id}}",
        ADMIN,
        on_override("utrecht"),
        restricted((404, "template-override-not-found"), ADMIN_ONLY),
    ),
    # --- the loop metrics
    "loop metrics of own district": Case(
        "GET", METRICS, COUNCIL, metrics_of("Centrum"), restricted(200, COUNCIL_SIDE), check=counts_the_dam
    ),
    "loop metrics of a neighbourhood in own district": Case(
        "GET", METRICS, COUNCIL, metrics_of("Dam"), restricted(200, COUNCIL_SIDE), check=counts_the_dam
    ),
    "loop metrics of another district": Case(
        "GET",
        METRICS,
        COUNCIL,
        metrics_of("Zuid"),
        restricted(200, ADMIN_ONLY, council=(403, "not-your-area")),
        check=counts_the_dam,
    ),
    "loop metrics of the municipality around own district": Case(
        "GET",
        METRICS,
        COUNCIL,
        metrics_of("Amsterdam"),
        restricted(200, ADMIN_ONLY, council=(403, "not-your-area")),
        check=counts_the_dam,
    ),
    "loop metrics of the whole jurisdiction": Case(
        "GET",
        METRICS,
        COUNCIL,
        metrics_of(None),
        restricted(200, ADMIN_ONLY, council=(403, "not-your-area")),
        check=counts_the_dam,
    ),
    "loop metrics of another jurisdiction's area": Case(
        "GET", METRICS, COUNCIL, metrics_of("Utrecht"), restricted((404, "area-not-found"), COUNCIL_SIDE)
    ),
    "loop metrics ending in the first month of year 1": Case(
        "GET",
        METRICS,
        COUNCIL,
        metrics_of("Dam", end="0001-01-01T00:00:00Z"),
        restricted((422, "invalid-period"), COUNCIL_SIDE),
    ),
    "participation loop metrics of own district": Case(
        "GET",
        PARTICIPATION_METRICS,
        COUNCIL,
        participation_metrics_of("Centrum"),
        restricted(200, COUNCIL_SIDE),
        check=lists_votes_and_responses,
    ),
    "participation loop metrics of another district": Case(
        "GET",
        PARTICIPATION_METRICS,
        COUNCIL,
        participation_metrics_of("Zuid"),
        restricted(200, ADMIN_ONLY, council=(403, "not-your-area")),
        check=lists_votes_and_responses,
    ),
    "participation loop metrics of the whole jurisdiction": Case(
        "GET",
        PARTICIPATION_METRICS,
        COUNCIL,
        participation_metrics_of(None),
        restricted(200, ADMIN_ONLY, council=(403, "not-your-area")),
        check=lists_votes_and_responses,
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_notifications_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)


async def test_one_click_unsubscribe_switches_off_what_the_link_names(
    matrix_run: MatrixRun, world: World
) -> None:
    """The cells are rolled back before their checks: here the database effect, for the link's owner
    only, and the rewritten link that changes nothing."""
    run = matrix_run
    await run.leave_row()
    setup = Setup(run.client, world, run.sessionmaker)
    savepoint = await run.connection.begin_nested()
    try:
        token = unsubscribe_token(setup)
        answered = await run.client.post(f"{LINKS}/unsubscribe/{token}")
        assert answered.status_code == 200, answered.text
        claims = {"r": f"account:{world.accounts['other_resident']}", "k": "area_alerts", "c": "email"}
        refused = await run.client.post(f"{LINKS}/unsubscribe/{forged(token, claims)}")
        assert refused.status_code == 403, refused.text
        for who, kind, enabled in (
            ("resident", "report_updates", False),
            ("resident", "area_alerts", True),
            ("other_resident", "report_updates", True),
            ("other_resident", "area_alerts", True),
        ):
            preferences = await setup.ok("GET", f"{setup.base}/me/notification-preferences", who, 200)
            assert preferences[kind] == {"email": enabled, "push": True, "inbox": True}, (who, kind)
    finally:
        await savepoint.rollback()
