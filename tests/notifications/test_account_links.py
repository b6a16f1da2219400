"""Sessions that end, sign-ups that reveal nothing, passwords that can be changed and reset by e-mail,
and limits on guessing (issue 12, item 9). Real SMTP (aiosmtpd) and the real worker."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import Message

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.settings import Settings
from notifications.settings import NotificationSettings
from notifications.worker import Worker
from tests.conftest import World, bearer, report_body
from tests.notifications.conftest import SECRET, SmtpSink

BASE = "/api/v1/jurisdictions/amsterdam"
PASSWORD = "een heel lang wachtwoord"


@pytest.fixture
async def app_client(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    notification_settings: NotificationSettings,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the worker's secret (links are made by the worker and checked by the app)."""
    app = create_app(settings.model_copy(update={"secret_key": SecretStr(SECRET)}), sessionmaker=sessionmaker)
    app.state.notification_settings = notification_settings
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
        yield client


def body(mail: Message) -> str:
    return mail.get_payload(decode=True).decode()


def link_in(mail: Message, path: str) -> str:
    found = re.search(rf"https://civicloop\.test{path}(\S+)", body(mail))
    assert found, body(mail)
    return found.group(1)


async def test_a_sign_up_never_says_whether_the_address_has_an_account(
    app_client: httpx.AsyncClient, world: World, mail: SmtpSink, worker: Worker, session: AsyncSession
) -> None:
    device = (await app_client.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"})).json()
    report = await app_client.post(f"{BASE}/reports", json=report_body(), headers=bearer(device["token"]))
    assert report.status_code == 201
    new = await app_client.post(
        "/api/v1/auth/accounts",
        json={"jurisdiction": "amsterdam", "email": "Nieuw@Example.org", "password": PASSWORD},
        headers=bearer(device["token"]),
    )
    known = await app_client.post(
        "/api/v1/auth/accounts",
        json={"jurisdiction": "amsterdam", "email": "resident@example.org", "password": PASSWORD},
    )
    assert new.status_code == known.status_code == 202
    assert (
        new.json()
        == known.json()
        == {
            "status": "check-your-email",
            "detail": "we sent a message to this address; follow the link in it to finish",
        }
    )
    await worker.run_until_idle()
    [owner_note] = mail.to("resident@example.org")
    assert "You already have an account" in body(owner_note) or "Je hebt al een account" in body(owner_note)
    assert "https://civicloop.test/account" in body(owner_note)
    [confirmation] = mail.to("nieuw@example.org")
    token = link_in(confirmation, "/account/confirm/")
    # No table holds the link's token: not the link row, the outbox, the delivery (it is put in at sending).
    stored = await session.scalar(
        text(
            "SELECT string_agg(x, ' ') FROM (SELECT body || data::text AS x FROM notification_deliveries"
            " UNION ALL SELECT payload::text FROM outbox_events UNION ALL SELECT row_to_json(l)::text"
            " FROM account_links l) s"
        )
    )
    assert token not in stored and token.split(".")[1] not in stored

    confirmed = await app_client.post("/api/v1/auth/accounts/confirmations", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["account_id"] == device["account_id"]  # the device became the account
    me = (await app_client.get("/api/v1/me", headers=bearer(confirmed.json()["token"]))).json()
    assert me["is_anonymous"] is False
    mine = await app_client.get(f"{BASE}/me/reports", headers=bearer(confirmed.json()["token"]))
    assert [r["id"] for r in mine.json()["items"]] == [report.json()["id"]]
    again = await app_client.post("/api/v1/auth/accounts/confirmations", json={"token": token})
    assert (again.status_code, again.json()["code"]) == (404, "link-used")
    forged = await app_client.post("/api/v1/auth/accounts/confirmations", json={"token": token[:-2] + "xx"})
    assert (forged.status_code, forged.json()["code"]) == (404, "invalid-link")
    signed_in = await app_client.post(
        "/api/v1/auth/tokens",
        json={"jurisdiction": "amsterdam", "email": "nieuw@example.org", "password": PASSWORD},
    )
    assert signed_in.status_code == 201


async def test_signing_out_ends_one_token_or_all(app_client: httpx.AsyncClient, world: World) -> None:
    credentials = {
        "jurisdiction": "amsterdam",
        "email": "resident@example.org",
        "password": "correct horse battery",
    }
    first = (await app_client.post("/api/v1/auth/tokens", json=credentials)).json()["token"]
    second = (await app_client.post("/api/v1/auth/tokens", json=credentials)).json()["token"]
    assert (await app_client.delete("/api/v1/auth/tokens/current", headers=bearer(first))).status_code == 204
    gone = await app_client.get("/api/v1/me", headers=bearer(first))
    assert (gone.status_code, gone.json()["code"]) == (401, "invalid-token")
    assert (await app_client.get("/api/v1/me", headers=bearer(second))).status_code == 200
    assert (await app_client.delete("/api/v1/auth/tokens", headers=bearer(second))).status_code == 204
    for token in (second, world.tokens["resident"]):
        assert (await app_client.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_a_password_is_changed_and_reset_by_mail(
    app_client: httpx.AsyncClient, world: World, mail: SmtpSink, worker: Worker
) -> None:
    email = "resident@example.org"
    wrong = await app_client.put(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": PASSWORD},
        headers=bearer(world.tokens["resident"]),
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong-password")
    changed = await app_client.put(
        "/api/v1/auth/password",
        json={"current_password": "correct horse battery", "new_password": PASSWORD},
        headers=bearer(world.tokens["resident"]),
    )
    assert changed.status_code == 200, changed.text
    assert (await app_client.get("/api/v1/me", headers=bearer(world.tokens["resident"]))).status_code == 401
    assert (await app_client.get("/api/v1/me", headers=bearer(changed.json()["token"]))).status_code == 200

    unknown = await app_client.post(
        "/api/v1/auth/password-resets", json={"jurisdiction": "amsterdam", "email": "niemand@example.org"}
    )
    asked = await app_client.post(
        "/api/v1/auth/password-resets", json={"jurisdiction": "amsterdam", "email": email}
    )
    assert unknown.status_code == asked.status_code == 202 and unknown.json() == asked.json()
    await worker.run_until_idle()
    assert mail.to("niemand@example.org") == []
    [reset_mail] = mail.to(email)
    token = link_in(reset_mail, "/account/reset/")
    new_password = "nog een ander wachtwoord"
    reset = await app_client.post(
        "/api/v1/auth/password-resets/confirmations", json={"token": token, "password": new_password}
    )
    assert reset.status_code == 201, reset.text
    assert (await app_client.get("/api/v1/me", headers=bearer(changed.json()["token"]))).status_code == 401
    old = await app_client.post(
        "/api/v1/auth/tokens", json={"jurisdiction": "amsterdam", "email": email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await app_client.post(
        "/api/v1/auth/tokens", json={"jurisdiction": "amsterdam", "email": email, "password": new_password}
    )
    assert new.status_code == 201
    reused = await app_client.post(
        "/api/v1/auth/password-resets/confirmations", json={"token": token, "password": "derde wachtwoord!"}
    )
    assert (reused.status_code, reused.json()["code"]) == (404, "link-used")


async def test_guessing_a_password_stops_after_the_limit_even_with_the_right_one(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    app = create_app(
        settings.model_copy(update={"rate_limits": True, "sign_in_failures_per_account": 5}),
        sessionmaker=sessionmaker,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.50", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
        guess = {"jurisdiction": "amsterdam", "email": "resident@example.org", "password": "wrong guess"}
        answers = [(await client.post("/api/v1/auth/tokens", json=guess)).status_code for _ in range(5)]
        assert answers == [401] * 5
        right = await client.post("/api/v1/auth/tokens", json={**guess, "password": "correct horse battery"})
        assert (right.status_code, right.json()["code"]) == (429, "too-many-sign-in-attempts")
        assert int(right.headers["retry-after"]) > 0
        # An address nobody has is counted the same (the answer tells nothing about which exist).
        nobody = {**guess, "email": "niemand@example.org"}
        assert [(await client.post("/api/v1/auth/tokens", json=nobody)).status_code for _ in range(6)] == [
            401,
            401,
            401,
            401,
            401,
            429,
        ]
        other = await client.post(
            "/api/v1/auth/tokens",
            json={
                "jurisdiction": "amsterdam",
                "email": "other_resident@example.org",
                "password": "correct horse battery",
            },
        )
        assert other.status_code == 201
