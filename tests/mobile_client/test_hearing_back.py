"""Hearing back: staff resolve a report through the API; the resident sees the status and the
message in My reports, on the report's page and in the inbox, and answers "is it fixed?"."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.mobile_client.flows import report_through_the_wizard, sent_report_id, sign_up_here, staff_resolve
from tests.mobile_client.harness import App


def reopen_requests(app: App, report_id: int) -> list[tuple[str, bool, int]]:
    with app.live.db() as db:
        return db.execute(
            "SELECT q.status, s.fixed, s.score FROM reopen_requests q"
            " JOIN satisfaction_requests s ON s.id = q.satisfaction_request_id WHERE q.report_id = %s",
            (report_id,),
        ).fetchall()


def test_the_resident_sees_the_resolution_and_says_it_is_not_fixed(app: App) -> None:
    app.start()
    description = f"Gat in het fietspad {uuid.uuid4()}"
    report_through_the_wizard(app, category="Gat in de weg", description=description)
    report_id = sent_report_id(app)
    message = f"Het gat is gedicht ({uuid.uuid4().hex[:6]})."
    staff_resolve(app, report_id, message)
    page = app.page

    app.nav("nav.my_reports")
    name = app.t("my_reports.item_title", id=report_id, category="Gat in de weg")
    card = page.locator("main .card").filter(has=page.get_by_role("link", name=name))
    title = card.get_by_role("link", name=name)
    expect(card).to_contain_text(app.t("status.resolved"))
    app.check_accessibility(context="my reports, resolved")

    title.click()
    app.expect_heading("detail.heading", id=report_id, category="Gat in de weg")
    expect(page.locator(".timeline")).to_contain_text(message)
    # The satisfaction question is asked at once in the tests (delay 0), by the notifications worker.
    question = page.get_by_role("region", name=app.t("feedback.question"))
    for _ in range(20):
        if question.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        app.wait_for_screen()
    expect(question).to_be_visible()
    app.check_accessibility(context="report detail with the question")
    question.get_by_label(re.compile(app.t("feedback.comment"))).fill("Er zit nog steeds een gat.")
    question.get_by_role("button", name=app.t("feedback.answer_no")).click()
    expect(page.locator("main").get_by_text(app.t("feedback.thanks_not_fixed"))).to_be_visible()
    app.check_accessibility(context="answered")
    assert reopen_requests(app, report_id) == [("pending", False, 1)]

    app.nav("nav.inbox")
    expect(
        page.get_by_role("button", name=re.compile(rf"{report_id}.*opgelost|opgelost.*{report_id}", re.I))
    ).not_to_have_count(0)
    opened = page.get_by_role("button", name=re.compile(rf"#{report_id} is opgelost"))
    opened.first.click()
    expect(page.locator(".card").filter(has_text=message).first).to_be_visible()
    app.check_accessibility(context="inbox, message opened")


def test_the_link_in_the_satisfaction_email_opens_the_app_on_a_cold_start(app: App, open_phone) -> None:
    app.start()
    page = app.page
    app.nav("nav.settings")
    email = f"bewoner-{uuid.uuid4().hex[:8]}@example.org"
    sign_up_here(app, email, "een lang wachtwoord", check=True)
    app.nav("nav.report")
    report_through_the_wizard(app, category="Gat in de weg", description=f"Losse tegel {uuid.uuid4()}")
    report_id = sent_report_id(app)
    staff_resolve(app, report_id, "De tegel ligt weer vast.")

    link = None
    for _ in range(60):
        for mail in app.live.smtp.to(email):
            body = mail.get_payload(decode=True).decode()
            found = re.search(r"https?://\S+/feedback/\S+", body)
            if found and f"#{report_id}" in mail["Subject"] + body:
                link = found.group(0)
        if link:
            break
        page.wait_for_timeout(500)
    assert link, "no satisfaction e-mail with a link to the app"
    assert link.startswith(app.live.base_url + "/feedback/")

    # Another phone, never opened the app: the deep link works on a cold start, no sign-in needed.
    other = open_phone(phone="iphone_se")
    other.page.goto(link)
    other.expect_heading("feedback.title")
    other.check_accessibility(context="feedback link")
    other.page.get_by_role("button", name=other.t("feedback.answer_partly")).click()
    expect(other.page.locator("main").get_by_text(other.t("feedback.thanks_not_fixed"))).to_be_visible()
    other.check_accessibility(context="feedback answered")
    assert reopen_requests(app, report_id) == [("pending", False, 3)]
