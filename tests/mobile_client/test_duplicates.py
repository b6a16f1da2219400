"""Duplicates are offered before a new report, and "me too" counts once."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.mobile_client.flows import device_report, next_step
from tests.mobile_client.harness import App

SPOT = (4.8891, 52.3741)  # inside the Dam block


def supporters(app: App, report_id: int) -> int:
    with app.live.db() as db:
        return db.execute(
            "SELECT count(*) FROM report_supporters WHERE report_id = %s", (report_id,)
        ).fetchone()[0]


def test_an_open_report_nearby_is_offered_and_me_too_counts_once(app: App) -> None:
    description = f"Vuilniszakken naast de container {uuid.uuid4()}"
    _, report_id = device_report(
        app,
        {
            "category": "dumped-waste",
            "location": {"type": "Point", "coordinates": [SPOT[0] + 0.0002, SPOT[1]]},  # ~14 m away
            "description": description,
        },
    )
    app.context.set_geolocation({"longitude": SPOT[0], "latitude": SPOT[1], "accuracy": 12})
    app.start()
    page = app.page
    for attempt in range(2):
        if attempt:
            app.nav("nav.report")
        app.expect_heading("report.location.title")
        next_step(app)
        page.get_by_label("Gedumpt afval", exact=True).check()
        next_step(app)
        app.expect_heading("report.duplicates.title")
        candidate = page.get_by_role("listitem").filter(has_text=description)
        expect(candidate).to_contain_text(app.t("report.duplicates.candidate", id=report_id))
        if attempt == 0:
            app.check_accessibility(context="duplicates offered")
        candidate.get_by_role("button", name=app.t("report.duplicates.me_too")).click()
        app.expect_heading("report.duplicates.thanks_title")
        expect(
            page.get_by_role("status").filter(has_text=app.t("report.duplicates.thanks", count=1))
        ).to_be_visible()
        if attempt == 0:
            app.check_accessibility(context="me too sent")
    assert supporters(app, report_id) == 1
    with app.live.db() as db:
        mine = db.execute("SELECT count(*) FROM reports WHERE description = %s", (description,)).fetchone()[0]
    assert mine == 1  # no second report was made
