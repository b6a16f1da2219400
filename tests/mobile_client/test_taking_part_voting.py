"""A resident votes from the phone: an approval round, then a knapsack round (the running budget bar, a
choice that no longer fits refused on the spot), changes that vote; after the close the results explain
every project and equal the stored tally; a funded project's progress and its follow. axe after every
step, in Dutch on a Pixel 7 and in English on a small iPhone-size screen. Nothing of the ballot stays on
the phone."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.mobile_client.participation_flows import (
    J,
    ballots_and_voters,
    budget_round,
    checked,
    expect_counted,
    move,
    phone_storage,
    verified_resident,
)


@pytest.mark.parametrize(("phone", "language"), [("pixel", "nl"), ("iphone_se", "en")])
def test_a_resident_votes_changes_the_vote_and_sees_why_projects_won_or_lost(
    open_phone, phone: str, language: str
) -> None:
    app = open_phone(phone=phone, language=language)
    page = app.page
    main = page.locator("main")
    app.start()
    account_id = verified_resident(app)
    tag = uuid.uuid4().hex[:6]
    approval, approval_ids = budget_round(
        app.live,
        title=f"Buurtbudget Dam {tag}",
        ballot_type="approval",
        rules={"max_projects": 2},
        projects=[(f"Bankjes {tag}", 3000), (f"Bomen {tag}", 4000), (f"Speeltuin {tag}", 5000)],
    )
    knapsack, knapsack_ids = budget_round(
        app.live,
        title=f"Pleinbudget Dam {tag}",
        ballot_type="knapsack",
        budget=10_000,
        projects=[(f"Fontein {tag}", 6000), (f"Podium {tag}", 5000), (f"Fietsrek {tag}", 3000)],
    )

    # The rounds that concern me: both, by my checked address (and where the phone is).
    app.nav("nav.take_part")
    app.expect_heading("take_part.title")
    near = page.get_by_role("region", name=app.t("take_part.near_title"))
    expect(near.get_by_role("link", name=f"Buurtbudget Dam {tag}")).to_be_visible()
    expect(near.get_by_role("link", name=f"Pleinbudget Dam {tag}")).to_be_visible()
    checked(app, context="take part")

    # The round's page: the projects on a map and as a list.
    near.get_by_role("link", name=f"Buurtbudget Dam {tag}").click()
    expect(app.heading()).to_have_text(f"Buurtbudget Dam {tag}")
    app.wait_for_screen()
    expect(page.locator("#round-map[data-ready]")).to_be_visible()
    expect(main.get_by_role("link", name=f"Bomen {tag}")).to_be_visible()
    checked(app, context="round")

    # Approval: the rules before the first choice; a third choice refused next to it.
    main.get_by_role("link", name=app.t("round.vote")).click()
    app.expect_heading("ballot.heading", round=f"Buurtbudget Dam {tag}")
    rules = page.get_by_role("region", name=app.t("ballot.rules_title"))
    expect(rules).to_contain_text(app.t("ballot.rules_approval_max", count=2))
    expect(main.get_by_text(app.t("ballot.with_account"))).to_be_visible()
    checked(app, context="approval ballot")
    page.get_by_label(f"Bankjes {tag}").check()
    page.get_by_label(f"Bomen {tag}").check()
    page.get_by_label(f"Speeltuin {tag}").click()  # refused: stays unchecked
    expect(page.get_by_label(f"Speeltuin {tag}")).not_to_be_checked()
    refused = page.locator(f'[data-field="project-{approval_ids[f"Speeltuin {tag}"]}"] .field-error')
    expect(refused).to_have_text(app.t("ballot.max_reached", count=2))
    expect(page.get_by_label(f"Speeltuin {tag}")).to_have_attribute("aria-invalid", "true")
    checked(app, context="approval, third choice refused")
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect_counted(app)
    checked(app, context="approval counted")
    assert ballots_and_voters(app.live, approval) == (1, 1)

    # Knapsack: the running budget bar; what no longer fits is said and refused.
    app.open(f"/rounds/{knapsack}/vote")
    app.expect_heading("ballot.heading", round=f"Pleinbudget Dam {tag}")
    expect(page.get_by_role("region", name=app.t("ballot.rules_title"))).to_contain_text(
        app.t("ballot.rules_knapsack", budget="X").split("X")[0].strip()
    )
    bar = page.locator("#budget-bar")
    checked(app, context="knapsack ballot")
    page.get_by_label(f"Fontein {tag}").check()
    expect(bar).to_have_attribute("value", "6000")
    status = page.locator(".budget-bar .ballot-status")
    expect(status).to_contain_text(re.compile(r"6[.,]000.*4[.,]000"))
    expect(page.locator(".budget-bar")).to_contain_text(f"Podium {tag}")  # "no longer fits: Podium"
    page.get_by_label(f"Podium {tag}").click()  # refused: it no longer fits
    expect(page.get_by_label(f"Podium {tag}")).not_to_be_checked()
    podium = page.locator(f'[data-field="project-{knapsack_ids[f"Podium {tag}"]}"] .field-error')
    expect(podium).to_contain_text(app.t("ballot.does_not_fit", cost="X", left="Y").split("X")[0].strip())
    expect(bar).to_have_attribute("value", "6000")
    checked(app, context="knapsack, over budget refused")
    page.get_by_label(f"Fietsrek {tag}").check()
    expect(bar).to_have_attribute("value", "9000")
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect_counted(app)
    checked(app, context="knapsack counted")

    # Change the vote: an empty ballot again (the phone does not know the first one).
    page.get_by_role("button", name=app.t("ballot.change")).click()
    app.expect_heading("ballot.heading", round=f"Pleinbudget Dam {tag}")
    expect(main.get_by_text(app.t("ballot.voted_can_change"))).to_be_visible()
    for name in ("Fontein", "Podium", "Fietsrek"):
        expect(page.get_by_label(f"{name} {tag}")).not_to_be_checked()
    checked(app, context="changing the vote")
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect(page.get_by_role("alert")).to_contain_text(app.t("ballot.empty"))
    checked(app, context="empty ballot refused before sending")
    page.get_by_label(f"Podium {tag}").check()
    page.get_by_label(f"Fietsrek {tag}").check()
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect_counted(app, changed=True)
    assert ballots_and_voters(app.live, knapsack) == (1, 1)

    # Secret on the phone too: no ballot, no choice, nothing of these rounds is kept.
    stored = phone_storage(app)
    assert '"kind": "ballot"' not in stored and "ballots" not in stored, stored
    for pid in [*approval_ids.values(), *knapsack_ids.values()]:
        assert f"/proposals/{pid}" not in stored, stored
    assert not re.search(r'\\"projects\\"', stored), stored

    # The close: the results explain every project, and they are the stored tally.
    move(app.live, knapsack, "results")
    app.open(f"/rounds/{knapsack}/results")
    app.expect_heading("results.heading", round=f"Pleinbudget Dam {tag}")
    expect(main.get_by_text(app.t("ballot.included"))).to_be_visible()
    expect(page.locator("#results-map[data-ready]")).to_be_visible()
    funded = page.get_by_role("list", name=app.t("results.funded_title", count=2))
    expect(funded.locator(".card")).to_have_count(2)
    expect(funded).to_contain_text(f"Podium {tag}")
    expect(funded).to_contain_text(f"Fietsrek {tag}")
    not_funded = page.get_by_role("list", name=app.t("results.not_funded_title", count=1))
    expect(not_funded).to_contain_text(f"Fontein {tag}")
    for card in page.locator(".card.result").all():
        expect(card.locator(".explanation")).not_to_be_empty()
    expect(not_funded.locator(".explanation")).to_have_text(app.t("explain.no_support"))
    checked(app, context="results")
    with app.live.api() as anyone, app.live.db() as db:
        published = anyone.get(f"{J}/budget-rounds/{knapsack}/results").json()
        [[stored_result]] = db.execute(
            "SELECT result FROM budget_rounds WHERE id = %s", (knapsack,)
        ).fetchall()
    assert published["selected"] == [int(p) for p in stored_result["selected"]]  # the same, in its order
    for key in ("explanations", "spent", "num_ballots", "num_participations", "rule"):
        assert json.dumps(published[key], sort_keys=True) == json.dumps(stored_result[key], sort_keys=True), (
            key
        )
    assert sorted(published["selected"]) == sorted(
        [knapsack_ids[f"Podium {tag}"], knapsack_ids[f"Fietsrek {tag}"]]
    )

    # The approval round's ballot page after its close: the vote was included.
    move(app.live, approval, "results")
    app.open(f"/rounds/{approval}/vote")
    expect(main.get_by_text(app.t("ballot.included"))).to_be_visible()
    checked(app, context="ballot after the close")

    # Money at work: the municipality reports progress; the resident follows the project (its own request).
    podium_id = knapsack_ids[f"Podium {tag}"]
    move(app.live, knapsack, "implementation")
    message = f"Het podium is besteld ({tag})."
    with app.live.api("admin") as admin:
        update = admin.post(
            f"{J}/budget-rounds/{knapsack}/proposals/{podium_id}/updates",
            json={"status": "in_progress", "progress_percent": 40, "message": message},
        )
        assert update.status_code == 201, update.text
    app.open(f"/rounds/{knapsack}/projects/{podium_id}")
    expect(app.heading()).to_have_text(f"Podium {tag}")
    expect(page.locator(".timeline")).to_contain_text(message)
    expect(page.locator("#project-progress")).to_have_attribute("value", "40")
    checked(app, context="project with progress")
    page.get_by_role("button", name=app.t("project.follow")).click()
    expect(page.get_by_role("button", name=app.t("project.unfollow"))).to_be_focused()
    checked(app, context="project followed")
    with app.live.db() as db:
        followers = db.execute(
            "SELECT account_id FROM budget_project_followers WHERE proposal_id = %s", (podium_id,)
        ).fetchall()
    assert followers == [(account_id,)]
