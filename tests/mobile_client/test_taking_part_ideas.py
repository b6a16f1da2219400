"""An idea for the neighbourhood budget, sent from the phone without a network (with a photo) and sent
once when the network returns, like a report; the staff's review (not feasible, with the public reason)
shown on the idea's page. axe after every step."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.mobile_client.harness import App
from tests.mobile_client.participation_flows import J, budget_round, checked, verified_resident
from tests.mobile_client.photos import camera_jpeg


def proposals_of(app: App, round_id: int) -> list[tuple[int, str, int]]:
    with app.live.db() as db:
        return db.execute(
            "SELECT p.id, p.title, (SELECT count(*) FROM budget_proposal_photos f WHERE f.proposal_id = p.id)"
            " FROM budget_proposals p WHERE p.round_id = %s",
            (round_id,),
        ).fetchall()


@pytest.mark.parametrize(("phone", "language"), [("pixel", "nl"), ("iphone_se", "en")])
def test_an_idea_sent_offline_with_a_photo_arrives_once_and_shows_its_review(
    open_phone, phone: str, language: str
) -> None:
    app = open_phone(phone=phone, language=language)
    page = app.page
    app.start()
    app.wait_for_service_worker()
    verified_resident(app)
    tag = uuid.uuid4().hex[:6]
    round_id, _ = budget_round(
        app.live, title=f"Ideeën voor de Dam {tag}", ballot_type="approval", projects=[], phase="proposals"
    )

    app.open(f"/rounds/{round_id}")
    expect(app.heading()).to_have_text(f"Ideeën voor de Dam {tag}")
    app.wait_for_screen()
    expect(page.locator("main").get_by_text(app.t("round.no_ideas"))).to_be_visible()
    checked(app, context="round in its proposals phase")
    page.get_by_role("link", name=app.t("round.send_idea")).click()
    app.expect_heading("propose.title")
    expect(page.locator("#propose-map[data-ready]")).to_be_visible()
    checked(app, context="idea form")
    page.get_by_role("button", name=app.t("propose.send")).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(app.t("propose.title_missing"))
    expect(summary).to_contain_text(app.t("propose.cost_missing"))
    checked(app, context="idea form with errors")

    title = f"Picknicktafels {tag}"
    page.get_by_label(app.t("propose.idea_title")).fill(title)
    page.get_by_label(app.t("propose.description")).fill("Twee tafels om samen te eten.")
    page.get_by_label(app.t("propose.cost")).fill("2.500")
    page.get_by_label(f"{app.t('propose.photos')} {app.t('form.optional')}", exact=True).set_input_files(
        files=[{"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(1200, 900)}]
    )
    expect(page.locator(".photo-item")).to_have_count(1)
    app.offline(True)
    page.get_by_role("button", name=app.t("propose.send")).click()
    expect(page.locator("main").get_by_text(app.t("propose.waiting"))).to_be_visible()
    checked(app, context="idea waiting for the network")
    assert proposals_of(app, round_id) == []

    app.offline(False)
    for _ in range(40):
        if proposals_of(app, round_id):
            break
        page.wait_for_timeout(250)
    [(proposal_id, sent_title, photos)] = proposals_of(app, round_id)
    assert (sent_title, photos) == (title, 1)

    # The staff's review: not feasible, with the reason everyone may read.
    reason = f"Op de Dam mogen geen vaste tafels staan ({tag})."
    with app.live.api("roads_staff") as staff:
        reviewed = staff.post(
            f"{J}/budget-rounds/{round_id}/proposals/{proposal_id}/review",
            json={"feasible": False, "reason": reason},
        )
        assert reviewed.status_code == 200, reviewed.text
    app.open(f"/rounds/{round_id}")
    card = page.locator("main .card").filter(has_text=title)
    expect(card).to_contain_text(app.t("proposal.infeasible"))
    expect(card).to_contain_text(reason)
    checked(app, context="round with the reviewed idea")
    card.get_by_role("link", name=title).click()
    expect(app.heading()).to_have_text(title)
    expect(page.locator("main")).to_contain_text(reason)
    expect(page.get_by_role("img", name=app.t("project.photo_alt", number=1))).to_be_visible()
    checked(app, context="idea's page")
    assert len(proposals_of(app, round_id)) == 1  # sent once
