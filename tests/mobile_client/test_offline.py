"""Offline: the whole report, photo included, waits in the outbox, survives a reload, and is sent
once when the network is back."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.mobile_client.flows import report_through_the_wizard
from tests.mobile_client.harness import App
from tests.mobile_client.photos import camera_jpeg


def reports_with(app: App, description: str) -> list[tuple[int, int]]:
    with app.live.db() as db:
        return db.execute(
            "SELECT r.id, (SELECT count(*) FROM photos p WHERE p.report_id = r.id)"
            " FROM reports r WHERE r.description = %s",
            (description,),
        ).fetchall()


def test_a_report_made_offline_is_sent_once_when_the_network_returns(app: App) -> None:
    app.start()
    app.wait_for_service_worker()
    page = app.page
    # Once online under the service worker: the shell, the map library and the categories are cached.
    app.nav("nav.report")
    expect(page.locator("#report-map .maplibregl-canvas")).to_be_visible()
    page.get_by_role("button", name=app.t("common.next")).click()
    app.expect_heading("report.category.title")

    app.offline()
    app.open("/report")
    expect(page.locator("#connection")).to_have_text(app.t("app.offline"))
    description = f"Kapotte lamp, offline gemeld {uuid.uuid4()}"
    report_through_the_wizard(app, category="Gat in de weg", description=description, photo=camera_jpeg())
    expect(page.locator(".notice")).to_have_text(app.t("report.waiting_for_network"))
    app.check_accessibility(context="waiting for the network")

    # Closed and opened again, still offline: the shell comes from the service worker, the report waits.
    page.reload()
    app.wait_for_screen()
    app.nav("nav.my_reports")
    waiting = page.get_by_role("listitem").filter(has_text=description[:40])
    expect(waiting).to_contain_text(app.t("status.waiting"))
    app.check_accessibility(context="my reports offline")
    assert reports_with(app, description) == []

    app.offline(False)
    expect(
        page.get_by_role("link", name=app.t("my_reports.item_title", id="", category="")[:7])
    ).not_to_have_count(0)
    expect(waiting).to_have_count(0, timeout=30_000)
    [(report_id, photos)] = reports_with(app, description)
    assert photos == 1
    expect(
        page.get_by_role("link", name=app.t("my_reports.item_title", id=report_id, category="Gat in de weg"))
    ).to_be_visible()

    # Another start (the app sends what waits on every start): still exactly one.
    page.reload()
    app.wait_for_screen()
    page.wait_for_timeout(500)
    assert reports_with(app, description) == [(report_id, 1)]
