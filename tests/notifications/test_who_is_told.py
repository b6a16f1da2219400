"""Who hears what: followers, "me too"s, merges, area alerts, digests, preferences, unsubscribe,
overrides, languages, and participation's events (inserted here as participation will insert them)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.worker import Worker
from tests.conftest import VONDELPARK, World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import BASE, deliveries, store_raw_event, submit, transition


async def test_me_too_and_merge_move_followers_to_the_master(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink
) -> None:
    master = await submit(client, world.tokens["resident"])
    duplicate = await submit(client, world.tokens["other_resident"])
    supported = await client.post(
        f"{BASE}/reports/{master['id']}/supporters", headers=bearer(world.tokens["device"])
    )
    assert supported.status_code == 201
    await worker.run_until_idle()
    mail.clear()
    version = (
        await client.get(
            f"{BASE}/reports/{duplicate['id']}/staff-view", headers=bearer(world.tokens["roads_staff"])
        )
    ).json()["version"]
    merged = await client.post(
        f"{BASE}/reports/{duplicate['id']}/merge",
        json={"into_report_id": master["id"], "expected_version": version, "public_message": "Al gemeld."},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert merged.status_code == 200, merged.text
    await worker.run_until_idle()
    [told] = mail.to("other_resident@example.org")  # one merge message, not also a "closed" one
    assert told["Subject"] == f"Uw melding #{duplicate['id']} is samengevoegd met #{master['id']}"
    body = told.get_payload(decode=True).decode()
    assert f"https://civicloop.test/reports/{master['id']}" in body and "/api/v1/" not in body
    mail.clear()
    await transition(client, world.tokens["roads_staff"], master["id"], "accepted")
    await worker.run_until_idle()
    assert len(mail.to("resident@example.org")) == 1
    assert len(mail.to("other_resident@example.org")) == 1  # now follows the master
    inbox = await client.get(f"{BASE}/me/inbox", headers=bearer(world.tokens["device"]))
    topics = [m["topic"] for m in inbox.json()]
    assert topics[:2] == ["report.status_changed", "report.supported"]
    assert (
        inbox.json()[0]["title"] == f"Your report #{master['id']} has been accepted"
    )  # the device is English


async def test_preferences_and_one_click_unsubscribe(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink, session: AsyncSession
) -> None:
    token = world.tokens["resident"]
    changed = await client.patch(
        f"{BASE}/me/notification-preferences",
        json={"changes": [{"kind": "report_updates", "channel": "inbox", "enabled": False}]},
        headers=bearer(token),
    )
    assert changed.status_code == 200 and changed.json()["report_updates"]["inbox"] is False
    report = await submit(client, world.tokens["resident"])
    await worker.run_until_idle()
    assert (await client.get(f"{BASE}/me/inbox/unread-count", headers=bearer(token))).json()["unread"] == 0
    [first] = mail.to("resident@example.org")
    url = first["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("https://civicloop.test")
    preview = await client.get(path)
    assert preview.status_code == 200 and preview.json()["channel"] == "email"
    tampered = await client.post(path[:-3] + "abc", data={"List-Unsubscribe": "One-Click"})
    assert tampered.status_code == 403 and tampered.json()["code"] == "invalid-link-token"
    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail client does it
    assert done.status_code == 200 and done.json() == {
        "kind": "report_updates",
        "channel": "email",
        "enabled": False,
    }
    await transition(client, world.tokens["roads_staff"], report["id"], "accepted")
    await worker.run_until_idle()
    assert len(mail.to("resident@example.org")) == 1  # no second mail
    prefs = (await client.get(f"{BASE}/me/notification-preferences", headers=bearer(token))).json()
    assert prefs["report_updates"]["email"] is False and prefs["area_alerts"]["email"] is True


async def test_area_alerts_instant_and_daily_digest(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink, session: AsyncSession
) -> None:
    instant = await client.put(
        f"{BASE}/me/area-subscriptions",
        json={"area_id": world.areas["Centrum"], "frequency": "instant"},
        headers=bearer(world.tokens["other_resident"]),
    )
    assert instant.status_code == 200, instant.text
    daily = await client.put(
        f"{BASE}/me/area-subscriptions",
        json={"area_id": world.areas["Dam"], "frequency": "daily"},
        headers=bearer(world.tokens["council"]),
    )
    assert daily.status_code == 200
    foreign = await client.put(
        f"{BASE}/me/area-subscriptions",
        json={"area_id": world.areas["Utrecht"]},
        headers=bearer(world.tokens["resident"]),
    )
    assert foreign.status_code == 404
    report = await submit(client, world.tokens["resident"])  # at the Dam, inside Centrum
    await submit(client, world.tokens["resident"], point=VONDELPARK)  # Zuid: nobody follows it
    await submit(client, world.tokens["resident"], category="nuisance-neighbours")  # not public: no alerts
    await worker.run_until_idle()
    [alert] = mail.to("other_resident@example.org")
    assert alert["Subject"] == "Nieuwe melding in Dam: Gat in de weg"
    assert mail.to("council@example.org") == []
    # A day later (moved back in time here), the digest lists the public Dam report only.
    await session.execute(
        text(
            "UPDATE area_subscriptions SET last_digest_at = last_digest_at - interval '25 hours'"
            " WHERE id = :id"
        ),
        {"id": daily.json()["id"]},
    )
    await session.execute(
        text("UPDATE reports SET created_at = created_at - interval '1 hour' WHERE id = :id"),
        {"id": report["id"]},
    )
    await session.commit()
    await worker.run_until_idle()
    [digest] = mail.to("council@example.org")
    assert digest["Subject"] == "1 nieuwe meldingen in Dam"
    listed = digest.get_payload(decode=True).decode()
    assert f"#{report['id']} Gat in de weg" in listed
    assert f"https://civicloop.test/reports/{report['id']}" in listed and "/api/v1/" not in listed
    await worker.run_until_idle()
    assert len(mail.to("council@example.org")) == 1
    gone = await client.delete(
        f"{BASE}/me/area-subscriptions/{world.areas['Dam']}", headers=bearer(world.tokens["council"])
    )
    assert gone.status_code == 204


async def test_a_municipality_overrides_the_wording(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink
) -> None:
    bad = await client.put(
        f"{BASE}/notification-templates",
        json={"topic": "report.submitted", "locale": "nl", "subject": "{reference.__class__}", "body": "x"},
        headers=bearer(world.tokens["admin"]),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown-placeholder"
    put = await client.put(
        f"{BASE}/notification-templates",
        json={
            "topic": "report.submitted",
            "category": "pothole",
            "locale": "nl",
            "subject": "Amsterdam heeft uw melding {reference}",
            "body": "Dank! {category}",
        },
        headers=bearer(world.tokens["admin"]),
    )
    assert put.status_code == 200, put.text
    await submit(client, world.tokens["resident"])
    await submit(client, world.tokens["resident"], category="dumped-waste")
    await worker.run_until_idle()
    subjects = sorted(m["Subject"] for m in mail.to("resident@example.org"))
    assert subjects[0].startswith("Amsterdam heeft uw melding #") and subjects[1].startswith(
        "We hebben uw melding"
    )


async def test_participation_events_reach_voters_without_revealing_ballots(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink, session: AsyncSession
) -> None:
    await client.put(
        f"{BASE}/me/area-subscriptions",
        json={"area_id": world.areas["Centrum"]},
        headers=bearer(world.tokens["other_resident"]),
    )
    title = {"nl": "Buurtbudget Centrum 2027", "en": "Centrum neighbourhood budget 2027"}
    events = [
        (
            "round.voting_opened",
            {"title": title, "area_id": world.areas["Dam"], "url": "https://civicloop.test/r/1"},
        ),
        ("ballot.received", {"title": title, "account_id": world.accounts["resident"], "choices": [71, 93]}),
        (
            "round.results_published",
            {"title": title, "account_ids": [world.accounts["resident"]], "message": "3 projecten"},
        ),
        (
            "project.progress",
            {
                "title": "Speeltuin Dam",
                "status": "under_construction",
                "account_ids": [world.accounts["resident"], world.accounts["utrecht_resident"]],
            },
        ),
        ("consultation.you_said_we_did", {"title": "Autoluw Centrum"}),  # names nobody: tells nobody
    ]
    for topic, payload in events:
        await store_raw_event(  # the shapes of older versions (see notifications.fanout.legacy)
            session,
            jurisdiction_id=world.amsterdam,
            topic=topic,
            aggregate_type="round",
            aggregate_id=1,
            payload=payload,
        )
    await session.commit()
    await worker.run_until_idle()
    subjects = sorted(m["Subject"] for m in mail.to("resident@example.org"))
    assert subjects == [
        "De uitslag van Buurtbudget Centrum 2027",
        "Nieuws over Speeltuin Dam: in aanleg",
        "We hebben uw stem ontvangen",
    ]
    ballot = next(m for m in mail.to("resident@example.org") if "stem" in m["Subject"])
    # The body and subject must not reveal the choices (headers like Message-ID hold random digits).
    body = ballot.get_payload(decode=True).decode()
    assert (
        "71" not in body
        and "93" not in body
        and "71" not in ballot["Subject"]
        and "93" not in ballot["Subject"]
    )
    [opened] = mail.to("other_resident@example.org")  # follows Centrum, which contains Dam
    assert opened["Subject"] == "De stemming is geopend: Buurtbudget Centrum 2027"
    assert mail.to("utrecht_resident@example.org") == []  # another jurisdiction's account is ignored
    dead = await deliveries(session, status="dead")
    assert [d for d in dead if d.topic.startswith(("round.", "ballot.", "project.", "consultation."))] == []
