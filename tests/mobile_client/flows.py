"""Steps several browser tests share: walking the report wizard, staff acting through the API."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

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
            files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}]
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
