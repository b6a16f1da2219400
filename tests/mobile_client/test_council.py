"""Council members in the app: vote on a motion of their council, close it, the public roll call shows
the vote; the neighbourhood dashboard shows exactly what the loop-metrics API says for the same area and
period, as tables and as a CSV download."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.mobile_client.harness import App
from tests.mobile_client.work_flows import BASE, PALEISSTRAAT, colleague_moves, new_report, sign_in


def open_motion(app: App, title: str) -> int:
    """A motion for the Centrum council (the test world's council member), opened by an administrator."""
    with app.live.api("admin") as api:
        created = api.post(
            f"{BASE}/motions",
            json={
                "area_id": app.live.world.areas["Centrum"],
                "title": title,
                "description": "Meer groen op het plein.\nZes bomen in bakken.",
                "majority": "absolute",
            },
        )
        assert created.status_code == 201, created.text
        motion_id = int(created.json()["id"])
        assert api.post(f"{BASE}/motions/{motion_id}/status", json={"to": "open"}).status_code == 200
    return motion_id


def test_a_council_member_votes_and_after_the_close_the_roll_call_shows_it(app: App) -> None:
    title = f"Bomen op het Muntplein {uuid.uuid4().hex[:6]}"
    motion_id = open_motion(app, title)
    sign_in(app, "council", "/motions")
    app.expect_heading("motions.title")
    page = app.page
    voting = page.get_by_role("region", name=app.t("motions.group.open"))
    expect(voting.get_by_role("link", name=title)).to_be_visible()
    app.check_accessibility(context="motions")
    voting.get_by_role("link", name=title).click()
    expect(app.heading()).to_have_text(title)
    app.wait_for_screen()
    expect(page.locator("main")).to_contain_text(app.t("motion.majority.absolute"))
    page.get_by_role("button", name=app.t("motion.vote"), exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("motion.choose_missing"))
    app.check_accessibility(context="vote without a choice")
    page.get_by_label(app.t("motion.choice.no")).check()
    page.get_by_role("button", name=app.t("motion.vote"), exact=True).click()
    expect(page.locator(".vote-status")).to_have_text(app.t("motion.voted", choice=app.t("motion.choice.no")))
    page.get_by_label(app.t("motion.choice.yes")).check()  # changed their mind: the last vote counts
    page.get_by_role("button", name=app.t("motion.vote"), exact=True).click()
    expect(page.locator(".vote-status")).to_have_text(
        app.t("motion.voted", choice=app.t("motion.choice.yes"))
    )
    app.check_accessibility(context="voted")
    with app.live.db() as db:
        [(choice,)] = db.execute(
            "SELECT choice FROM council_motion_votes WHERE motion_id = %s", (motion_id,)
        ).fetchall()
    assert choice == "yes"

    page.get_by_role("button", name=app.t("motion.to.closed")).click()
    expect(page.get_by_role("button", name=app.t("motion.confirm.closed"))).to_be_focused()
    app.check_accessibility(context="confirm closing")
    page.get_by_role("button", name=app.t("motion.confirm.closed")).click()
    expect(page.get_by_role("heading", name=app.t("motion.roll_call"), level=2)).to_be_visible()
    app.wait_for_screen()
    roll_call = page.locator("table.roll-call")
    expect(roll_call.locator("tbody tr")).to_have_count(1)
    expect(roll_call.locator("tbody tr")).to_contain_text("council")
    expect(roll_call.locator("tbody tr")).to_contain_text(app.t("motion.choice.yes"))
    expect(page.locator("main")).to_contain_text(app.t("motion.state.adopted"))
    app.check_accessibility(context="roll call")
    app.nav("nav.motions")
    decided = page.get_by_role("region", name=app.t("motions.group.closed"))
    expect(decided.get_by_role("link", name=title)).to_be_visible()


def table_values(app: App, selector: str, key: str) -> dict[str, dict[str, Any]]:
    """{row key: {measure: raw value}} of a dashboard table (the cells carry the API's raw values)."""
    rows = app.page.locator(f"{selector} tbody tr")
    found: dict[str, dict[str, Any]] = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        name = row.get_attribute(f"data-{key}") if key else str(index)
        cells = row.locator("td[data-measure]")
        found[name or ""] = {
            cells.nth(i).get_attribute("data-measure") or "": number(cells.nth(i).get_attribute("data-value"))
            for i in range(cells.count())
        }
    return found


def number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def as_numbers(row: dict[str, Any], measures: list[str]) -> dict[str, float | None]:
    return {m: None if row.get(m) is None else float(row[m]) for m in measures}


@pytest.mark.parametrize("area", ["Centrum", "Dam"])
def test_the_dashboard_figures_equal_the_loop_metrics_api(open_phone, area: str) -> None:
    app = open_phone(phone="pixel", language="en")
    # Something to count: a report resolved with a message in the Dam neighbourhood (in Centrum), one open.
    done = new_report(app, PALEISSTRAAT, f"Loose tile {uuid.uuid4()}")
    new_report(app, PALEISSTRAAT, f"Another hole {uuid.uuid4()}", category="dumped-waste")
    colleague_moves(app, done, {"status": "accepted"})
    colleague_moves(app, done, {"status": "resolved", "public_message": "Fixed."})
    sign_in(app, "council", "/dashboard")
    app.expect_heading("dashboard.title")
    page = app.page
    area_id = app.live.world.areas[area]
    if area != "Centrum":
        page.get_by_label(app.t("dashboard.area"), exact=True).select_option(value=str(area_id))
    page.get_by_label(app.t("dashboard.period"), exact=True).select_option(
        label=app.t("dashboard.last_days", count=30)
    )
    period = page.locator(f'main .period[data-area-id="{area_id}"]')
    expect(period).to_contain_text(area)
    start, end = period.get_attribute("data-start"), period.get_attribute("data-end")
    app.check_accessibility(context=f"dashboard {area}")
    for summary in page.locator("details.table-alternative summary").all():
        summary.click()
    app.check_accessibility(context=f"dashboard {area}, tables open")

    scope = {"start": start, "end": end, "area_id": area_id}
    with app.live.api("council") as api:
        [total] = api.get(f"{BASE}/loop-metrics", params=scope).json()["rows"]
        per_category = api.get(f"{BASE}/loop-metrics", params=scope | {"group_by": "category"}).json()["rows"]
        per_week = api.get(f"{BASE}/loop-metrics", params=scope | {"group_by": "week"}).json()["rows"]
        participation = api.get(f"{BASE}/loop-metrics/participation", params=scope).json()
    assert total["inputs"] >= 2
    figures = table_values(app, "main table.key-figures", "")
    shown = {measure: value for row in figures.values() for measure, value in row.items()}
    measures = [
        "inputs",
        "median_hours_to_resolution",
        "deadline_compliance",
        "reopen_rate",
        "satisfaction_score",
        "fixed_share",
        "outcome_message_share",
    ]
    assert shown == as_numbers(total, measures)

    categories = table_values(app, 'main [data-chart="category"] table', "group")
    category_measures = [
        "inputs",
        "resolved",
        "median_hours_to_resolution",
        "deadline_compliance",
        "reopen_rate",
    ]
    assert categories == {row["group"]: as_numbers(row, category_measures) for row in per_category}
    weeks = table_values(app, 'main [data-chart="period"] table', "group")
    api_weeks = {row["group"]: as_numbers(row, ["inputs", "resolved"]) for row in per_week}
    assert {k: v for k, v in weeks.items() if v["inputs"]} == api_weeks  # empty weeks are shown as 0
    assert all(v == {"inputs": 0.0, "resolved": 0.0} for k, v in weeks.items() if k not in api_weeks)
    told = table_values(app, 'main [data-chart="told"] table', "kind")
    for kind in ("votes", "consultation_responses"):
        rows = participation[kind]
        expected = rows[0] if rows else {"inputs": 0, "outcome_messaged": 0, "outcome_message_share": None}
        assert told[kind] == as_numbers(expected, ["inputs", "outcome_messaged", "outcome_message_share"])
    assert told["reports"]["inputs"] == total["inputs"]

    # The CSV says the same, and a cell can never be a formula.
    with page.expect_download() as download:
        page.get_by_role("button", name=app.t("dashboard.download_csv")).click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [app.t(f"dashboard.csv.{c}") for c in ("section", "item", "label", "measure", "value")]
    csv_figures = {r[3]: r[4] for r in rows if r[0] == "key_figures"}
    for measure in measures:
        assert number(csv_figures[measure] or None) == as_numbers(total, [measure])[measure], measure
    assert {(r[0], r[3], r[4]) for r in rows if r[0] == "period"} == {
        ("period", "start", start),
        ("period", "end", end),
    }
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
