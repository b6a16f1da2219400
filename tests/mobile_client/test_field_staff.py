"""Field staff in the app: a resident's report at the top of the work list where it was made; accepted,
scheduled and resolved on the street with a template message and an after-photo; the resident sees it.
A stale change (a colleague was quicker) shows what changed and is redone on the new version; a change
made offline is sent once when the network is back, and a conflict on replay is shown, not lost."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.mobile_client.flows import report_through_the_wizard, sent_report_id
from tests.mobile_client.harness import App
from tests.mobile_client.photos import camera_jpeg
from tests.mobile_client.work_flows import (
    NIEUWMARKT,
    REMBRANDTPLEIN,
    SPUI,
    SPUI_ACROSS,
    WATERLOOPLEIN,
    WESTERMARKT,
    card,
    changes,
    colleague_moves,
    new_report,
    sign_in,
    stand_at,
    template,
)


def act(app: App, status: str) -> None:
    """Press the move's button on the report's screen; its form opens with the focus on its heading."""
    app.page.get_by_role("button", name=app.t(f"staff.to.{status}"), exact=True).click()
    expect(app.page.get_by_role("heading", level=2, name=app.t(f"staff.to.{status}"))).to_be_focused()


def save(app: App, status: str) -> None:
    action = app.t(f"staff.to.{status}")
    app.page.get_by_role("button", name=app.t("staff.save_action", action=action)).click()


def expect_saved(app: App, status: str) -> None:
    expect(app.page.locator("main .notice.success")).to_have_text(
        app.t("staff.saved", status=app.t(f"status.{status}"))
    )
    app.wait_for_screen()


def test_a_resident_s_report_is_handled_on_the_street_and_the_resident_sees_it(app: App, open_phone) -> None:
    stand_at(app, NIEUWMARKT)
    app.start()
    description = f"Gat in de stoep bij de Waag {uuid.uuid4()}"
    report_through_the_wizard(app, category="Gat in de weg", description=description)
    report_id = sent_report_id(app)
    token = uuid.uuid4().hex[:6]
    template(app, "accepted", f"Opgepakt {token}", f"We pakken het op ({token}).")
    template(app, "resolved", f"Gedicht {token}", f"Het gat is gedicht ({token}).")

    staff = open_phone(phone="pixel", language="nl")
    stand_at(staff, NIEUWMARKT)
    sign_in(staff, "roads_staff", "/work")
    staff.expect_heading("work.title")
    page = staff.page
    first = page.locator("main .work-list > li").first
    expect(first).to_have_attribute("data-report-id", str(report_id))
    expect(first).to_contain_text(staff.t("work.distance", distance="0 m"))
    expect(first).to_contain_text(description[:30])
    expect(page.locator(".work-counts")).to_contain_text(re.compile(r"\d"))
    staff.check_accessibility(context="work list")
    page.get_by_label(staff.t("work.category")).select_option(label="Gat in de weg")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"\d"))
    expect(page.locator("main .work-list > li").first).to_have_attribute("data-report-id", str(report_id))
    page.get_by_role("button", name=staff.t("work.on_map")).click()
    expect(page.locator("#work-map[data-ready]")).to_be_visible()
    staff.check_accessibility(context="work list on the map")
    page.get_by_role("button", name=staff.t("work.as_list")).click()

    card(staff, report_id).get_by_role("link").click()
    staff.expect_heading("staff.heading", id=report_id, category="Gat in de weg")
    staff.check_accessibility(context="report for staff")
    act(staff, "accepted")
    message = page.get_by_label(re.compile("^" + staff.t("staff.message")))
    expect(message).to_have_value(f"We pakken het op ({token}).")  # the category's own template first
    staff.check_accessibility(context="accept form")
    save(staff, "accepted")
    expect_saved(staff, "accepted")
    staff.check_accessibility(context="accepted")

    act(staff, "scheduled")
    page.get_by_label(re.compile("^" + staff.t("staff.internal_note"))).fill("Ploeg 3, donderdag")
    save(staff, "scheduled")
    expect_saved(staff, "scheduled")

    act(staff, "resolved")
    page.get_by_label(staff.t("staff.template")).select_option(label=f"Gedicht {token}")
    expect(message).to_have_value(f"Het gat is gedicht ({token}).")
    message.fill(f"Het gat is gedicht ({token}). Bedankt!")
    page.get_by_label(re.compile("^" + staff.t("staff.after_photo"))).set_input_files(
        files=[{"name": "IMG_2001.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(2400, 1800)}]
    )
    expect(page.locator(".photo-preview img")).to_be_visible()
    staff.check_accessibility(context="resolve form with photo")
    save(staff, "resolved")
    expect_saved(staff, "resolved")
    staff.check_accessibility(context="resolved")
    moves = changes(staff, report_id)
    assert [m[0] for m in moves] == ["accepted", "scheduled", "resolved"]
    assert moves[0][1] == f"We pakken het op ({token})." and moves[1][2] == "Ploeg 3, donderdag"
    assert moves[2][1] == f"Het gat is gedicht ({token}). Bedankt!" and moves[2][3] is not None
    with staff.live.db() as db:
        kind, width, height = db.execute(
            "SELECT kind, width, height FROM photos WHERE id = %s", (moves[2][3],)
        ).fetchone()
    assert kind == "after" and max(width, height) <= 1600  # made small on the phone

    # The resident hears back: the status, the message and the after-photo on their report's page.
    app.open(f"/reports/{report_id}")
    app.expect_heading("detail.heading", id=report_id, category="Gat in de weg")
    expect(app.page.locator(".timeline")).to_contain_text(f"Het gat is gedicht ({token}). Bedankt!")
    expect(app.page.get_by_role("img", name=app.t("detail.after_photo"))).to_be_visible()
    expect(app.page.locator("main .summary-list")).to_contain_text(app.t("status.resolved"))


def test_a_stale_change_shows_what_changed_and_is_redone_on_the_new_version(open_phone) -> None:
    staff = open_phone(phone="iphone_se", language="en")
    description = f"Hole by the Westerkerk {uuid.uuid4()}"
    report_id = new_report(staff, WESTERMARKT, description, contact={"email": "melder@example.org"})
    colleague_moves(staff, report_id, {"status": "accepted"})
    stand_at(staff, WESTERMARKT)
    sign_in(staff, "roads_staff", f"/work/{report_id}")
    staff.expect_heading("staff.heading", id=report_id, category="Gat in de weg")
    page = staff.page
    expect(page.get_by_role("link", name="melder@example.org")).to_be_visible()  # the contact, for staff

    # Meanwhile a colleague schedules it, with a message and a note.
    colleague_moves(
        staff,
        report_id,
        {"status": "scheduled", "public_message": "Ingepland voor maandag.", "internal_note": "Ploeg 5"},
    )
    act(staff, "resolved")
    page.get_by_label(re.compile("^" + staff.t("staff.message"))).fill("Fixed it myself.")
    save(staff, "resolved")
    conflict = page.locator("main .conflict")
    expect(conflict).to_be_focused()
    expect(conflict.get_by_role("heading", level=2)).to_have_text(staff.t("staff.conflict_title"))
    expect(conflict).to_contain_text(
        staff.t(
            "staff.changed_status", **{"from": staff.t("status.accepted"), "to": staff.t("status.scheduled")}
        )
    )
    expect(conflict).to_contain_text("Ingepland voor maandag.")
    expect(conflict).to_contain_text("Ploeg 5")
    expect(conflict).to_contain_text("Fixed it myself.")
    staff.check_accessibility(context="conflict")
    assert [m[0] for m in changes(staff, report_id)] == ["accepted", "scheduled"]  # nothing overwritten

    conflict.get_by_role("button", name=staff.t("staff.redo", action=staff.t("staff.to.resolved"))).click()
    expect_saved(staff, "resolved")
    staff.check_accessibility(context="redone")
    moves = changes(staff, report_id)
    assert [m[0] for m in moves] == ["accepted", "scheduled", "resolved"]
    assert moves[2][1] == "Fixed it myself."


def test_offline_changes_are_sent_once_and_a_conflict_on_replay_is_shown(open_phone) -> None:
    staff = open_phone(phone="pixel", language="nl")
    first = new_report(staff, REMBRANDTPLEIN, f"Gat op het plein {uuid.uuid4()}")
    second = new_report(staff, WATERLOOPLEIN, f"Gat bij de markt {uuid.uuid4()}")
    for report_id in (first, second):
        colleague_moves(staff, report_id, {"status": "accepted"})
    stand_at(staff, REMBRANDTPLEIN)
    sign_in(staff, "roads_staff", f"/work/{first}")
    page = staff.page

    # Resolved offline: it waits on the phone, then goes once when the network is back.
    staff.offline()
    act(staff, "resolved")
    page.get_by_label(re.compile("^" + staff.t("staff.message"))).fill("Opgelost zonder bereik.")
    save(staff, "resolved")
    expect(page.locator("main .pending")).to_contain_text(
        staff.t("staff.waiting", action=staff.t("staff.to.resolved"))
    )
    expect(page.get_by_role("button", name=staff.t("staff.to.closed"))).to_have_count(
        0
    )  # one change at a time
    staff.check_accessibility(context="waiting offline")
    assert [m[0] for m in changes(staff, first)] == ["accepted"]
    staff.offline(False)
    expect_saved(staff, "resolved")
    assert [m[:2] for m in changes(staff, first)] == [
        ("accepted", None),
        ("resolved", "Opgelost zonder bereik."),
    ]

    # Offline again on the second report; meanwhile a colleague puts it on hold: the replay is refused.
    staff.open(f"/work/{second}")
    staff.expect_heading("staff.heading", id=second, category="Gat in de weg")
    staff.offline()
    act(staff, "resolved")
    save(staff, "resolved")
    expect(page.locator("main .pending")).to_contain_text(
        staff.t("staff.waiting", action=staff.t("staff.to.resolved"))
    )
    colleague_moves(staff, second, {"status": "on_hold", "public_message": "Wacht op de aannemer."})
    staff.offline(False)
    conflict = page.locator("main .conflict")
    expect(conflict).to_contain_text("Wacht op de aannemer.")
    expect(conflict).to_contain_text(
        staff.t(
            "staff.changed_status", **{"from": staff.t("status.accepted"), "to": staff.t("status.on_hold")}
        )
    )
    staff.check_accessibility(context="conflict on replay")
    # Not lost: still on the phone after a reload, refused, until redone or thrown away.
    page.reload()
    staff.wait_for_screen()
    expect(page.locator("main .conflict")).to_be_visible()
    staff.open("/work")
    expect(page.locator("main .notice.warning")).to_contain_text(staff.t("work.pending_item", id=second))
    staff.check_accessibility(context="work list with a refused change")
    assert [m[0] for m in changes(staff, second)] == ["accepted", "on_hold"]


def test_a_duplicate_is_merged_into_the_report_next_to_it(open_phone) -> None:
    staff = open_phone(phone="pixel", language="nl")
    master = new_report(staff, SPUI, f"Gat in het fietspad op het Spui {uuid.uuid4()}")
    duplicate = new_report(staff, SPUI_ACROSS, f"Zelfde gat, andere kant {uuid.uuid4()}")
    stand_at(staff, SPUI)
    sign_in(staff, "roads_staff", f"/work/{duplicate}")
    page = staff.page
    page.get_by_role("link", name=staff.t("staff.merge")).click()
    staff.expect_heading("merge.heading", id=duplicate)
    page.get_by_role("button", name=staff.t("merge.submit")).click()
    expect(page.get_by_role("alert")).to_contain_text(staff.t("merge.missing"))
    staff.check_accessibility(context="merge without a choice")
    page.get_by_label(
        re.compile(re.escape(staff.t("work.item_title", id=master, category="Gat in de weg")))
    ).check()
    page.get_by_role("button", name=staff.t("merge.submit")).click()
    staff.expect_heading("staff.heading", id=duplicate, category="Gat in de weg")
    expect(page.locator("main .notice.success")).to_have_text(staff.t("merge.done", id=master))
    staff.check_accessibility(context="merged")
    with staff.live.db() as db:
        status, merged_into = db.execute(
            "SELECT status, merged_into_id FROM reports WHERE id = %s", (duplicate,)
        ).fetchone()
    assert (status, merged_into) == ("closed", master)


def accept_form_with_templates_held(open_phone, language: str = "en") -> tuple[App, str, list[Any]]:
    """Field staff on a new report with a template of their own, the accept form opened while the
    templates' request is held (a slow connection): the app, the template's token, the held request."""
    staff = open_phone(phone="pixel", language=language)
    report_id = new_report(staff, SPUI, f"Hole at the Spui {uuid.uuid4()}")
    token = uuid.uuid4().hex[:6]
    template(staff, "accepted", f"Picked up {token}", f"We are on it ({token}).")
    stand_at(staff, SPUI)
    sign_in(staff, "roads_staff", "/work")
    staff.expect_heading("work.title")
    page = staff.page
    held: list[Any] = []  # the templates' request, answered when the test says so
    page.route("**/message-templates*", lambda route: held.append(route))
    card(staff, report_id).get_by_role("link").click()
    staff.expect_heading("staff.heading", id=report_id, category="Gat in de weg")
    page.get_by_role("button", name=staff.t("staff.to.accepted"), exact=True).click()
    expect(page.get_by_role("heading", level=2, name=staff.t("staff.to.accepted"))).to_be_focused()
    assert len(held) == 1
    return staff, token, held


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_form_opened_before_the_templates_arrived_takes_them_when_they_come(
    open_phone, language: str
) -> None:
    """On a slow connection staff may press a move before the templates came in: the form opens at once,
    and when they come the picker is added, the empty message filled and a screen reader told (the form
    opened empty before, and the municipality's message was not offered)."""
    staff, token, held = accept_form_with_templates_held(open_phone, language)
    page = staff.page
    picker = page.get_by_label(staff.t("staff.template"))
    message = page.get_by_label(re.compile("^" + staff.t("staff.message")))
    expect(picker).to_have_count(0)
    expect(message).to_have_value("")
    held[0].continue_()
    expect(picker).to_be_visible()
    expect(page.locator("#status")).to_have_text(staff.t("staff.templates_arrived_filled"))
    # Other tests' templates for the category may come first (oldest first): the form offers them all, ours too.
    expect(message).not_to_have_value("")
    expect(page.get_by_role("heading", level=2, name=staff.t("staff.to.accepted"))).to_be_focused()
    staff.check_accessibility(context="accept form, templates filled in late")
    picker.select_option(label=f"Picked up {token}")
    expect(message).to_have_value(f"We are on it ({token}).")


def test_templates_that_arrive_after_the_form_opened_are_offered_without_touching_what_staff_typed(
    open_phone,
) -> None:
    """When the templates come after staff started typing, the picker is added and what they typed stays."""
    staff, token, held = accept_form_with_templates_held(open_phone)
    page = staff.page
    picker = page.get_by_label(staff.t("staff.template"))
    expect(picker).to_have_count(0)
    message = page.get_by_label(re.compile("^" + staff.t("staff.message")))
    message.fill("Crew is on its way")
    held[0].continue_()
    expect(picker).to_be_visible()
    expect(page.locator("#status")).to_have_text(staff.t("staff.templates_arrived"))  # for a screen reader
    expect(picker.locator("option", has_text=f"Picked up {token}")).to_have_count(1)
    expect(message).to_have_value("Crew is on its way")
    expect(picker).to_have_value("")  # "none, I write my own": what staff typed
    expect(message).to_be_focused()
    staff.check_accessibility(context="accept form, templates came late")
    picker.select_option(label=f"Picked up {token}")
    expect(message).to_have_value(f"We are on it ({token}).")
