"""The demo, as a test: a resident reports, staff resolve, the resident gets the mails (real SMTP),
answers the satisfaction request, staff decide the reopen request, and it all shows in the metrics."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.worker import Worker
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import BASE, deliveries, submit, transition
from tests.photos import phone_jpeg


async def test_report_resolve_satisfaction_reopen_and_metrics(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    report = await submit(client, world.tokens["resident"], address="Dam 1")
    await worker.run_until_idle()
    [received] = mail.to("resident@example.org")
    assert received["Subject"] == f"We hebben uw melding #{report['id']} ontvangen"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["List-Unsubscribe"].startswith(
        "<https://civicloop.test/api/v1/notifications/unsubscribe/"
    )
    event_id = received["X-Civicloop-Event-Id"]
    assert received["Message-ID"].startswith(f"<{event_id}.")

    upload = await client.post(
        f"{BASE}/photos",
        files={"file": ("na.jpg", phone_jpeg(), "image/jpeg")},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert upload.status_code == 201, upload.text
    await transition(client, world.tokens["roads_staff"], report["id"], "accepted")
    await transition(
        client,
        world.tokens["roads_staff"],
        report["id"],
        "resolved",
        public_message="Het gat is gedicht.",
        photo_id=upload.json()["id"],
    )
    await worker.run_until_idle()
    mails = mail.to("resident@example.org")
    subjects = [m["Subject"] for m in mails]
    assert f"Uw melding #{report['id']} is in behandeling genomen" in subjects
    resolved = next(m for m in mails if m["Subject"] == f"Uw melding #{report['id']} is opgelost")
    body = resolved.get_payload(decode=True).decode()
    # The pothole category has its own resolved text; the after-photo and the public message are in it.
    assert "Het gat in de weg dat u meldde" in body and "Het gat is gedicht." in body
    assert f"/reports/{report['id']}/photos/{upload.json()['id']}" in body
    # The satisfaction request (delay 0 in the tests) went out in the same run.
    question = next(m for m in mails if m["Subject"].startswith("Is het opgelost?"))
    # The link opens the residents' app (one tap answers there); the app calls the API's link routes.
    link = next(line for line in question.get_payload(decode=True).decode().split() if "/feedback/" in line)
    assert link.startswith("https://civicloop.test/feedback/")
    token = link.rsplit("/", 1)[1]
    # The text's unsubscribe link is an app page with the token of the one-click List-Unsubscribe header.
    footer = next(
        line for line in question.get_payload(decode=True).decode().split() if "/unsubscribe/" in line
    )
    header = question["List-Unsubscribe"].strip("<>")
    assert footer.startswith("https://civicloop.test/unsubscribe/")
    assert header == "https://civicloop.test/api/v1/notifications/unsubscribe/" + footer.rsplit("/", 1)[1]

    # The inbox has the same messages, newest first, all unread.
    count = await client.get(f"{BASE}/me/inbox/unread-count", headers=bearer(world.tokens["resident"]))
    assert count.json()["unread"] == 4
    listing = (await client.get(f"{BASE}/me/inbox", headers=bearer(world.tokens["resident"]))).json()
    assert listing[0]["topic"] == "report.satisfaction_requested"
    read = await client.post(
        f"{BASE}/me/inbox/{listing[-1]['id']}/read", headers=bearer(world.tokens["resident"])
    )
    assert read.status_code == 200 and read.json()["read_at"] is not None
    count = await client.get(f"{BASE}/me/inbox/unread-count", headers=bearer(world.tokens["resident"]))
    assert count.json()["unread"] == 3

    # Not fixed: answering by the mailed link (no sign-in) creates a reopen request.
    shown = await client.get(f"/api/v1/notifications/satisfaction/{token}")
    assert shown.status_code == 200 and shown.json()["report_id"] == report["id"]
    answered = await client.post(
        f"/api/v1/notifications/satisfaction/{token}",
        json={"fixed": False, "score": 2, "comment": "Nog steeds"},
    )
    assert answered.status_code == 201, answered.text
    again = await client.post(f"/api/v1/notifications/satisfaction/{token}", json={"fixed": True, "score": 5})
    assert again.status_code == 409 and again.json()["code"] == "already-answered"
    reopen_id = answered.json()["reopen_request_id"]
    assert reopen_id is not None

    # Waste staff may not see or decide a pothole's request; roads staff accept it.
    other = await client.get(f"{BASE}/reopen-requests", headers=bearer(world.tokens["waste_staff"]))
    assert all(r["id"] != reopen_id for r in other.json())
    refused = await client.post(
        f"{BASE}/reopen-requests/{reopen_id}/decision",
        json={"accept": True},
        headers=bearer(world.tokens["waste_staff"]),
    )
    assert refused.status_code == 403
    pending = await client.get(f"{BASE}/reopen-requests", headers=bearer(world.tokens["roads_staff"]))
    assert [r["id"] for r in pending.json()] == [reopen_id]
    decided = await client.post(
        f"{BASE}/reopen-requests/{reopen_id}/decision",
        json={"accept": True, "message": "We komen terug."},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "accepted"
    status = await session.scalar(text("SELECT status FROM reports WHERE id = :id"), {"id": report["id"]})
    assert status == "reopened"
    mail.clear()
    await worker.run_until_idle()
    [reopened] = mail.to("resident@example.org")
    assert reopened["Subject"] == f"Uw melding #{report['id']} is heropend"
    assert "We komen terug." in reopened.get_payload(decode=True).decode()

    # The metrics see it all, from the records: told the outcome, answered 2/5, reopened.
    metrics = await client.get(
        f"{BASE}/loop-metrics",
        params={"area_id": world.areas["Dam"], "category": "pothole"},
        headers=bearer(world.tokens["admin"]),
    )
    assert metrics.status_code == 200, metrics.text
    [row] = metrics.json()["rows"]
    assert row["inputs"] == 1 and row["outcome_messaged"] == 1 and row["outcome_message_share"] == 1.0
    assert row["satisfaction_answers"] == 1 and row["satisfaction_score"] == 2.0 and row["fixed_share"] == 0.0
    assert row["resolved"] == 1 and row["reopened"] == 1 and row["reopen_rate"] == 1.0
    assert row["deadline_compliance"] == 1.0
    assert row["median_hours_to_first_response"] is not None and row["median_hours_to_resolution"] is not None


async def test_a_rejected_reopen_request_tells_the_resident_why(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink
) -> None:
    report = await submit(client, world.tokens["resident"])
    await transition(client, world.tokens["roads_staff"], report["id"], "accepted")
    await transition(client, world.tokens["roads_staff"], report["id"], "resolved")
    await worker.run_until_idle()
    [question] = (
        await client.get(f"{BASE}/me/satisfaction-requests", headers=bearer(world.tokens["resident"]))
    ).json()[:1]
    answered = await client.post(
        f"{BASE}/satisfaction-requests/{question['id']}/answer",
        json={"fixed": True, "score": 1},
        headers=bearer(world.tokens["resident"]),
    )
    assert answered.status_code == 201
    # Someone else cannot answer it for the resident.
    stranger = await client.post(
        f"{BASE}/satisfaction-requests/{question['id']}/answer",
        json={"fixed": True, "score": 5},
        headers=bearer(world.tokens["other_resident"]),
    )
    assert stranger.status_code == 404
    reopen_id = answered.json()["reopen_request_id"]
    no_reason = await client.post(
        f"{BASE}/reopen-requests/{reopen_id}/decision",
        json={"accept": False},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "message-required"
    rejected = await client.post(
        f"{BASE}/reopen-requests/{reopen_id}/decision",
        json={"accept": False, "message": "De reparatie voldoet aan de norm."},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    twice = await client.post(
        f"{BASE}/reopen-requests/{reopen_id}/decision",
        json={"accept": True},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already-decided"
    mail.clear()
    await worker.run_until_idle()
    [told] = mail.to("resident@example.org")
    assert "De reparatie voldoet aan de norm." in told.get_payload(decode=True).decode()


async def test_deliveries_are_not_duplicated_when_an_event_is_fanned_out_again(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    report = await submit(client, world.tokens["resident"])
    await worker.run_until_idle()
    event = await session.scalar(
        text("SELECT id FROM outbox_events WHERE aggregate_id = :id AND topic = 'report.submitted'"),
        {"id": report["id"]},
    )
    before = await deliveries(session, outbox_event_id=event)
    assert {d.channel for d in before} == {"inbox", "email"}
    await session.execute(text("UPDATE outbox_events SET processed_at = NULL WHERE id = :id"), {"id": event})
    await session.commit()
    await worker.run_until_idle()
    assert len(await deliveries(session, outbox_event_id=event)) == len(before)
    assert len(mail.to("resident@example.org")) == 1


async def test_unhappy_answers_of_reporter_and_supporter_share_one_reopen_request(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker
) -> None:
    """A "me too" supporter is asked too; their "not fixed" joins the reporter's pending request instead of
    making a second one that would stay pending after the report was reopened."""
    report = await submit(client, world.tokens["resident"])
    supported = await client.post(
        f"{BASE}/reports/{report['id']}/supporters", headers=bearer(world.tokens["other_resident"])
    )
    assert supported.status_code == 201, supported.text
    await transition(client, world.tokens["roads_staff"], report["id"], "accepted")
    await transition(client, world.tokens["roads_staff"], report["id"], "resolved")
    await worker.run_until_idle()
    reopen_ids = []
    for person in ("resident", "other_resident"):
        questions = (
            await client.get(f"{BASE}/me/satisfaction-requests", headers=bearer(world.tokens[person]))
        ).json()
        [question] = [q for q in questions if q["report_id"] == report["id"]]
        answered = await client.post(
            f"{BASE}/satisfaction-requests/{question['id']}/answer",
            json={"fixed": False, "score": 2},
            headers=bearer(world.tokens[person]),
        )
        assert answered.status_code == 201, answered.text
        reopen_ids.append(answered.json()["reopen_request_id"])
    assert reopen_ids[0] is not None and reopen_ids[0] == reopen_ids[1]
    pending = await client.get(
        f"{BASE}/reopen-requests?status=pending", headers=bearer(world.tokens["roads_staff"])
    )
    assert [r["id"] for r in pending.json() if r["report_id"] == report["id"]] == [reopen_ids[0]]
    decided = await client.post(
        f"{BASE}/reopen-requests/{reopen_ids[0]}/decision",
        json={"accept": True, "message": "We komen terug."},
        headers=bearer(world.tokens["roads_staff"]),
    )
    assert decided.status_code == 200, decided.text
    left = await session.scalar(
        text("SELECT count(*) FROM reopen_requests WHERE report_id = :id AND status = 'pending'"),
        {"id": report["id"]},
    )
    assert left == 0
    answers = await session.scalar(
        text("SELECT count(*) FROM satisfaction_requests WHERE report_id = :id AND fixed = false"),
        {"id": report["id"]},
    )
    assert answers == 2, "both answers are kept"
