"""axe-core on every field staff and council screen, again after each interaction (error summaries, the
map, opened tables), in Dutch on a Pixel 7 and in English on a small iPhone-size screen. An administrator
has both sides of the app, so one sign-in walks them all."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.mobile_client.work_flows import BASE, new_report, sign_in, stand_at

PLACES = {"nl": (4.88260, 52.36410), "en": (4.89850, 52.36070)}  # Leidseplein, Frederiksplein
NEXT_DOOR = 0.0002  # about 14 m east: a merge candidate


@pytest.mark.parametrize(("phone", "language"), [("pixel", "nl"), ("iphone_se", "en")])
def test_every_staff_and_council_screen_passes_axe(open_phone, phone: str, language: str) -> None:
    app = open_phone(phone=phone, language=language)
    place = PLACES[language]
    report_id = new_report(app, place, f"Losse tegel {uuid.uuid4()}", contact={"phone": "+31 6 1234 5678"})
    new_report(app, (place[0] + NEXT_DOOR, place[1]), f"Zelfde tegel {uuid.uuid4()}")
    with app.live.api("admin") as api:
        motion = api.post(
            f"{BASE}/motions",
            json={"area_id": app.live.world.areas["Centrum"], "title": f"Motie {uuid.uuid4().hex[:6]}"},
        )
        assert motion.status_code == 201, motion.text
    stand_at(app, place)
    sign_in(app, "admin", "/work")
    page = app.page
    app.expect_heading("work.title")
    expect(page.locator("main .work-list > li").first).to_have_attribute("data-report-id", str(report_id))
    app.check_accessibility(context="work list")
    page.get_by_label(app.t("work.status")).select_option("submitted")
    expect(page.locator("main .work-list > li").first).to_have_attribute("data-report-id", str(report_id))
    app.check_accessibility(context="work list filtered")
    page.get_by_role("button", name=app.t("work.on_map")).click()
    expect(page.locator("#work-map[data-ready]")).to_be_visible()
    app.check_accessibility(context="work map")

    app.open(f"/work/{report_id}")
    app.expect_heading("staff.heading", id=report_id, category="Gat in de weg")
    expect(page.get_by_role("link", name="+31 6 1234 5678")).to_be_visible()
    app.check_accessibility(context="report")
    page.get_by_role("button", name=app.t("staff.to.closed"), exact=True).click()
    page.get_by_role("button", name=app.t("staff.save_action", action=app.t("staff.to.closed"))).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(app.t("staff.reason_missing"))
    app.check_accessibility(context="closing without a reason")
    summary.get_by_role("link").click()
    expect(page.get_by_label(app.t("reason.not_ours"))).to_be_focused()
    page.get_by_role("button", name=app.t("staff.cancel")).click()

    page.get_by_role("link", name=app.t("staff.merge")).click()
    app.expect_heading("merge.heading", id=report_id)
    app.check_accessibility(context="merge")

    app.nav("nav.motions")
    app.expect_heading("motions.title")
    app.check_accessibility(context="motions")
    page.get_by_role("region", name=app.t("motions.group.draft")).get_by_role("link").first.click()
    app.wait_for_screen()
    page.get_by_role("button", name=app.t("motion.to.open")).click()
    expect(page.get_by_role("button", name=app.t("motion.confirm.open"))).to_be_focused()
    app.check_accessibility(context="motion, confirm opening")

    app.nav("nav.dashboard")
    app.expect_heading("dashboard.title")
    expect(page.locator("main .period")).to_be_visible()
    app.check_accessibility(context="dashboard, whole municipality")
    page.get_by_label(app.t("dashboard.area"), exact=True).select_option(
        value=str(app.live.world.areas["Centrum"])
    )
    expect(page.locator("main .period")).to_contain_text("Centrum")
    for summary in page.locator("details.table-alternative summary").all():
        summary.click()
    expect(page.locator("details.table-alternative[open]")).to_have_count(3)
    app.check_accessibility(context="dashboard, Centrum, tables open")
    page.get_by_role("link", name=app.t("dashboard.rounds_link")).click()
    app.expect_heading("council_rounds.title")
    expect(page.locator("main")).to_contain_text(re.compile(app.t("council_rounds.budget_rounds")))
    app.check_accessibility(context="rounds")
