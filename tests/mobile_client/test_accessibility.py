"""axe-core on every screen of the residents' app, again after each interaction, in Dutch on a Pixel 7
and in English on a small iPhone-size screen; error summaries included."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from notifications import tokens
from tests.mobile_client.conftest import SECRET
from tests.mobile_client.flows import next_step, sent_report_id

LIGHT = {"nl": ("Straatverlichting", "Mastnummer"), "en": ("Street light", "Pole number")}


@pytest.mark.parametrize(("phone", "language"), [("pixel", "nl"), ("iphone_se", "en")])
def test_every_screen_passes_axe(open_phone, phone: str, language: str) -> None:
    app = open_phone(phone=phone, language=language)
    page = app.page
    app.start(check=True)
    expect(page.locator("html")).to_have_attribute("lang", language)

    # Report: every step, with its error summary.
    app.check_accessibility(context="location")
    next_step(app)
    app.expect_heading("report.category.title")
    app.check_accessibility(context="categories")
    page.get_by_role("button", name=app.t("common.next")).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("report.category.missing"))
    app.check_accessibility(context="no category chosen")
    category, pole = LIGHT[language]
    page.get_by_label(app.t("report.category.search")).fill({"nl": "verlicht", "en": "light"}[language])
    expect(page.locator("main p[aria-live]")).to_have_text(app.t("report.category.matches", count=1))
    expect(page.get_by_label("Gat in de weg", exact=True)).to_be_hidden()
    app.check_accessibility(context="search")
    page.get_by_label(category, exact=True).check()
    expect(page.get_by_label(pole)).to_be_visible()
    page.get_by_role("button", name=app.t("common.next")).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(app.t("errors.field.required"))
    app.check_accessibility(context="extra field missing")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label(pole)).to_be_focused()
    page.get_by_label(pole).fill(f"P-{uuid.uuid4().hex[:6]}")
    next_step(app)
    if app.heading().inner_text() == app.t("report.duplicates.title"):
        app.check_accessibility(context="duplicates")
        page.get_by_role("button", name=app.t("report.duplicates.not_these")).click()
    app.expect_heading("report.details.title")
    page.get_by_role("button", name=app.t("common.next")).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("report.details.description_missing"))
    app.check_accessibility(context="no description")
    page.get_by_label(app.t("report.details.description")).fill(f"De lamp brandt niet {uuid.uuid4()}")
    next_step(app)
    app.expect_heading("report.contact.title")
    app.check_accessibility(context="contact")
    page.get_by_label(app.t("report.contact.email"), exact=False).fill("niet-een-adres")
    page.get_by_role("button", name=app.t("common.next")).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("errors.field.email"))
    app.check_accessibility(context="bad e-mail")
    page.get_by_label(app.t("report.contact.email"), exact=False).fill("")
    next_step(app)
    app.expect_heading("report.check.title")
    app.check_accessibility(context="check")
    page.get_by_role("button", name=app.t("report.check.send")).click()
    app.expect_heading("report.done.title")
    report_id = sent_report_id(app)
    app.check_accessibility(context="sent")

    # My reports and the report's page.
    app.nav("nav.my_reports")
    app.check_accessibility(context="my reports")
    page.get_by_role("link", name=app.t("my_reports.item_title", id=report_id, category=category)).click()
    app.wait_for_screen()
    expect(page.get_by_role("button", name=app.t("detail.unfollow"))).to_be_visible()
    app.check_accessibility(context="report")
    page.get_by_role("button", name=app.t("detail.unfollow")).click()
    expect(page.get_by_role("button", name=app.t("detail.follow"))).to_be_visible()
    app.check_accessibility(context="report, unfollowed")

    # Nearby: the map and the list.
    app.nav("nav.nearby")
    expect(page.locator("#nearby-map[data-ready]")).to_be_visible()
    expect(page.get_by_role("heading", name=app.t("nearby.list_title"))).to_be_visible()
    expect(
        page.get_by_role("link", name=app.t("my_reports.item_title", id=report_id, category=category))
    ).to_be_visible()
    app.check_accessibility(context="nearby")
    page.get_by_role("button", name=app.t("nearby.hide_map")).click()
    app.check_accessibility(context="nearby, map hidden")

    # Inbox: the "report received" message.
    app.nav("nav.inbox")
    message = page.locator(".card button").first
    expect(message).to_be_visible(timeout=20_000)
    app.check_accessibility(context="inbox")
    message.click()
    expect(message).to_have_attribute("aria-expanded", "true")
    app.check_accessibility(context="inbox, message open")

    # Settings: a preference switched, an area followed.
    app.nav("nav.settings")
    expect(page.get_by_role("heading", name=app.t("settings.messages"))).to_be_visible()
    app.check_accessibility(context="settings")
    page.get_by_role("group", name=app.t("kind.area_alerts")).get_by_label(app.t("channel.email")).uncheck()
    expect(page.locator("main").get_by_text(app.t("settings.saved"))).to_be_visible()
    page.get_by_role("button", name=app.t("settings.area_follow")).click()
    expect(
        page.get_by_role("button", name=re.compile(re.escape(app.t("settings.area_stop", name="X")[:8])))
    ).to_be_visible()
    app.check_accessibility(context="settings changed")

    # Account: the forms, with an error summary.
    page.get_by_role("link", name=app.t("settings.make_account")).click()
    app.expect_heading("account.title")
    app.check_accessibility(context="account")
    page.get_by_role("button", name=app.t("account.sign_in_button")).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("errors.field.required"))
    app.check_accessibility(context="account errors")
    signin = page.get_by_role("form", name=app.t("account.sign_in"))
    signin.get_by_label(app.t("account.email")).fill("niemand@example.org")
    signin.get_by_label(app.t("account.password")).fill("verkeerd wachtwoord")
    signin.get_by_role("button", name=app.t("account.sign_in_button")).click()
    expect(signin.get_by_role("alert")).to_contain_text(app.t("errors.invalid-credentials"))
    app.check_accessibility(context="wrong password")

    # Pages opened from links, and a page that does not exist.
    app.open("/feedback/eyJpZCI6MX0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    expect(page.locator("main").get_by_text(app.t("feedback.invalid_link"))).to_be_visible()
    app.check_accessibility(context="feedback, bad link")
    app.open("/unsubscribe/eyJpZCI6MX0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    expect(page.locator("main").get_by_text(app.t("unsubscribe.invalid_link"))).to_be_visible()
    app.check_accessibility(context="unsubscribe, bad link")
    # Links past their lifetime answer 410: the same notice, not an error with a retry that cannot work.
    claims = {"r": "account:1", "k": "report_updates", "c": "email"}
    app.open(f"/unsubscribe/{tokens.sign(SECRET, 'unsubscribe', claims, ttl_seconds=-60)}")
    expect(page.locator("main").get_by_text(app.t("unsubscribe.invalid_link"))).to_be_visible()
    app.open(f"/feedback/{tokens.sign(SECRET, 'satisfaction', {'id': 1}, ttl_seconds=-60)}")
    expect(page.locator("main").get_by_text(app.t("feedback.invalid_link"))).to_be_visible()
    app.check_accessibility(context="feedback, expired link")
    app.open("/no-such-page")
    app.expect_heading("not_found.title")
    app.check_accessibility(context="not found")
