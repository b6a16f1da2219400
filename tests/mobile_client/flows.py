"""Steps several browser tests share: walking the report wizard, staff acting through the API."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import FilePayload, expect

from tests.mobile_client.harness import App


def next_step(app: App) -> None:
    before = app.heading().inner_text()
    app.page.get_by_role("button", name=app.t("common.next")).click()
    expect(app.heading()).not_to_have_text(before, timeout=15_000)
    app.wait_for_screen()


def report_through_the_wizard(
    app: App,
    *,
    category: str,
    description: str,
    photo: bytes | None = None,
    extra: dict[str, str] | None = None,
    check: bool = False,
    wait_for_fix: bool = True,
) -> None:
    """From the location step to pressing "send"; on the duplicates step, "something else"."""
    page = app.page
    app.expect_heading("report.location.title")
    if wait_for_fix:
        expect(page.locator("#gps-status")).to_contain_text(app.t("report.location.found", metres=12)[:15])
    if check:
        app.check_accessibility(context="location")
    next_step(app)
    app.expect_heading("report.category.title")
    page.get_by_label(category, exact=True).check()
    for label, value in (extra or {}).items():
        page.get_by_label(label).fill(value)
    if check:
        app.check_accessibility(context="category chosen")
    next_step(app)
    if app.heading().inner_text() == app.t("report.duplicates.title"):
        page.get_by_role("button", name=app.t("report.duplicates.not_these")).click()
        app.expect_heading("report.details.title")
    if photo is not None:
        page.get_by_label(re.compile("^" + app.t("report.details.photos"))).set_input_files(
            files=[FilePayload(name="IMG_0001.jpg", mimeType="image/jpeg", buffer=photo)]
        )
        expect(page.locator(".photo-item")).to_have_count(1)
    page.get_by_label(app.t("report.details.description")).fill(description)
    if check:
        app.check_accessibility(context="details")
    next_step(app)
    app.expect_heading("report.contact.title")
    next_step(app)
    app.expect_heading("report.check.title")
    if check:
        app.check_accessibility(context="check")
    page.get_by_role("button", name=app.t("report.check.send")).click()
    app.expect_heading("report.done.title")


def sent_report_id(app: App) -> int:
    status = app.page.locator(".notice.success")
    expect(status).to_contain_text(app.t("report.sent", id="X").split("X")[0].strip()[:25])
    return int(re.findall(r"\d+", status.inner_text())[-1])


def staff_resolve(app: App, report_id: int, message: str, who: str = "roads_staff") -> None:
    """Field staff accept and resolve the report through the API, with a public message."""
    with app.live.api(who) as api:
        for body in ({"status": "accepted"}, {"status": "resolved", "public_message": message}):
            base = f"/api/v1/jurisdictions/amsterdam/reports/{report_id}"
            version = api.get(f"{base}/staff-view").headers["etag"]
            answer = api.post(f"{base}/transitions", json=body, headers={"If-Match": version})
            assert answer.status_code == 200, answer.text


def device_report(app: App, body: dict[str, Any]) -> tuple[str, int]:
    """Another resident (a device registered through the API) reports; (their token, the report id)."""
    with app.live.api() as api:
        device = api.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"}).json()
        answer = api.post(
            "/api/v1/jurisdictions/amsterdam/reports",
            json=body,
            headers={"Authorization": f"Bearer {device['token']}"},
        )
        assert answer.status_code == 201, answer.text
        return device["token"], answer.json()["id"]


def mailed_link(app: App, address: str, path: str, *, seconds: float = 30) -> str:
    """The link to ``path`` in the newest mail to ``address`` (the live server's worker sends it)."""
    for _ in range(int(seconds * 2)):
        for mail in reversed(app.live.smtp.to(address)):
            body = mail.get_payload(decode=True).decode()
            found = re.search(rf"{re.escape(app.live.base_url)}{re.escape(path)}\S+", body)
            if found:
                return found.group(0)
        app.page.wait_for_timeout(500)
    raise AssertionError(f"no mail to {address} with a link to {path}")


def sign_up_here(app: App, email: str, password: str, *, check: bool = False) -> None:
    """From the settings screen of an anonymous device: the sign-up form, the mail, its link opened on
    this device (which then is the account, its reports included)."""
    page = app.page
    page.get_by_role("link", name=app.t("settings.make_account")).click()
    app.expect_heading("account.title")
    signup = page.get_by_role("form", name=app.t("account.sign_up"))
    signup.get_by_label(app.t("account.email")).fill(email)
    signup.get_by_label(app.t("account.password")).fill(password)
    if check:
        app.check_accessibility(context="account form filled")
    signup.get_by_role("button", name=app.t("account.sign_up_button")).click()
    expect(signup.get_by_text(app.t("account.sign_up_sent", email=email))).to_be_visible()
    if check:
        app.check_accessibility(context="sign-up mail sent")
    page.goto(mailed_link(app, email, "/account/confirm/"))
    app.expect_heading("settings.title")
    expect(page.locator("main").get_by_text(app.t("settings.signed_in", email=email))).to_be_visible()
