"""A resident reports a problem through the app's screens; the database shows what arrived."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import FilePayload, Geolocation, expect

from tests.mobile_client.harness import App
from tests.mobile_client.photos import camera_jpeg

JUST_EAST_OF_DAM: Geolocation = {
    "longitude": 4.8966,
    "latitude": 52.3735,
    "accuracy": 8,
}  # the Dam block ends at 4.8960


def drag_pin(app: App, dx: float, dy: float = 0) -> None:
    pin = app.page.get_by_role("button", name=app.t("report.location.pin_label"))
    box = pin.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    app.page.mouse.move(x, y)
    app.page.mouse.down()
    app.page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    app.page.mouse.move(x + dx, y + dy, steps=5)
    app.page.mouse.up()


def report_id_from_confirmation(app: App) -> int:
    status = app.page.get_by_role("status").filter(has_text=re.compile(r"\d"))
    expect(status).to_contain_text(app.t("report.sent", id="").split("{")[0].rstrip(" 0123456789.")[:20])
    return int(re.findall(r"\d+", status.inner_text())[-1])


def test_a_report_with_a_photo_and_a_dragged_pin_lands_in_the_right_neighbourhood(app: App) -> None:
    app.context.set_geolocation(JUST_EAST_OF_DAM)
    app.start()
    page = app.page
    expect(page.locator("#gps-status")).to_have_text(app.t("report.location.found", metres=8))
    expect(page.locator("#place-names")).to_contain_text("Centrum")
    expect(page.locator("#place-names")).not_to_contain_text("Dam")
    drag_pin(app, -150)
    expect(page.locator("#place-names")).to_contain_text("Dam, Centrum")
    app.check_accessibility(context="after dragging the pin")
    page.get_by_role("button", name=app.t("common.next")).click()

    app.expect_heading("report.category.title")
    page.get_by_label("Gat in de weg").check()
    page.get_by_role("button", name=app.t("common.next")).click()
    page.wait_for_function(
        "() => document.activeElement.tagName === 'H1' && !document.activeElement.textContent.includes('Wat')"
    )
    if app.heading().inner_text() == app.t("report.duplicates.title"):
        page.get_by_role("button", name=app.t("report.duplicates.not_these")).click()
    app.expect_heading("report.details.title")
    page.get_by_label(re.compile("^" + app.t("report.details.photos"))).set_input_files(
        files=[FilePayload(name="IMG_0001.jpg", mimeType="image/jpeg", buffer=camera_jpeg())]
    )
    expect(page.locator(".photo-item").get_by_text(app.t("report.details.photo_uploaded"))).to_be_visible(
        timeout=30_000
    )
    description = f"Gat in de stoep bij de brug {uuid.uuid4()}"
    page.get_by_label(app.t("report.details.description")).fill(description)
    app.check_accessibility(context="photo and description")
    page.get_by_role("button", name=app.t("common.next")).click()
    app.expect_heading("report.contact.title")
    page.get_by_role("button", name=app.t("common.next")).click()
    app.expect_heading("report.check.title")
    app.check_accessibility(context="check step")
    page.get_by_role("button", name=app.t("report.check.send")).click()
    app.expect_heading("report.done.title")
    status = page.locator(".notice.success")
    expect(status).to_be_visible()
    report_id = int(re.findall(r"\d+", status.inner_text())[-1])
    app.check_accessibility(context="sent")

    with app.live.db() as db:
        row = db.execute(
            "SELECT a.name, a.level, r.description, count(p.id), max(p.width), max(p.height)"
            " FROM reports r JOIN areas a ON a.id = r.area_id LEFT JOIN photos p ON p.report_id = r.id"
            " WHERE r.id = %s GROUP BY a.name, a.level, r.description",
            (report_id,),
        ).fetchone()
    assert row is not None
    area, level, found_description, photos, width, height = row
    assert (area, level, found_description, photos) == ("Dam", "neighbourhood", description, 1)
    assert max(width, height) <= 1600

    # The resident sees it under My reports, with its status.
    app.nav("nav.my_reports")
    expect(
        page.locator("main").get_by_role(
            "link", name=app.t("my_reports.item_title", id=report_id, category="Gat in de weg")
        )
    ).to_be_visible()
    app.check_accessibility(context="my reports")
