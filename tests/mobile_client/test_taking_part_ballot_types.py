"""The other two ballot types in the browser: cumulative points (points left, the cap per project, more
than is left refused next to the project) and a ranked top-k (chosen and reordered with buttons and the
keyboard, a choice past k refused next to it); what reaches the server is the order and the points."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from participation.electorate import ParticipationKeys
from tests.mobile_client.conftest import SECRET
from tests.mobile_client.participation_flows import budget_round, checked, expect_counted, verified_resident


def stored_ballots(app, round_id: int) -> list[tuple[list[int], list[int] | None]]:
    """The round's ballots as the close will count them: while voting they are sealed under the live
    server's key (``participation.ballot_cipher``), and nothing else is stored in clear."""
    cipher = ParticipationKeys.from_secret(SECRET).cipher
    with app.live.db() as db:
        rows = db.execute(
            "SELECT contents, projects, points FROM ballots WHERE round_id = %s", (round_id,)
        ).fetchall()
    assert all(projects is None and points is None for _, projects, points in rows), rows
    return [cipher.open(round_id, bytes(contents)) for contents, _, _ in rows]


def test_points_and_an_order_without_dragging(open_phone) -> None:
    app = open_phone(phone="iphone_se", language="en")
    page = app.page
    app.start()
    verified_resident(app)
    tag = uuid.uuid4().hex[:6]
    names = [f"Bankjes {tag}", f"Bomen {tag}", f"Speeltuin {tag}"]
    points_round, points_ids = budget_round(
        app.live,
        title=f"Punten {tag}",
        ballot_type="cumulative",
        rules={"points": 10, "max_points_per_project": 6},
        projects=[(name, 3000) for name in names],
    )
    ranked_round, ranked_ids = budget_round(
        app.live,
        title=f"Volgorde {tag}",
        ballot_type="ranked",
        rules={"top_k": 2},
        projects=[(name, 3000) for name in names],
    )

    app.open(f"/rounds/{points_round}/vote")
    expect(page.get_by_role("region", name=app.t("ballot.rules_title"))).to_contain_text(
        app.t("ballot.rules_cumulative", count=10)
    )
    checked(app, context="cumulative ballot")
    benches = page.get_by_label(app.t("ballot.points_for", title=names[0]))
    benches.fill("8")
    benches.press("Tab")
    expect(benches).to_have_value("6")  # the cap per project
    field = page.locator(f'[data-field="project-{points_ids[names[0]]}"] .field-error')
    expect(field).to_have_text(app.t("ballot.max_points_project", count=6))
    trees = page.get_by_label(app.t("ballot.points_for", title=names[1]))
    trees.fill("5")
    trees.press("Tab")
    expect(trees).to_have_value("4")  # only 4 of the 10 were left
    expect(page.locator("main .ballot-status")).to_have_text(app.t("ballot.points_left", count=0, total=10))
    checked(app, context="points refused next to the project")
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect_counted(app)
    assert stored_ballots(app, points_round) == [([points_ids[names[0]], points_ids[names[1]]], [6, 4])]

    app.open(f"/rounds/{ranked_round}/vote")
    expect(page.get_by_role("region", name=app.t("ballot.rules_title"))).to_contain_text(
        app.t("ballot.rules_ranked", count=2)
    )
    checked(app, context="ranked ballot")
    page.get_by_role("button", name=app.t("ranking.add_named", name=f"{names[2]} (€3,000)", place=1)).click()
    page.get_by_role("button", name=app.t("ranking.add_named", name=f"{names[0]} (€3,000)", place=2)).click()
    up = page.get_by_role("button", name=app.t("ranking.up_named", name=f"{names[0]} (€3,000)"))
    expect(up).to_be_focused()  # focus stays on the item just added
    page.keyboard.press("Enter")  # moved up with the keyboard
    chosen = page.get_by_role("list", name=app.t("ranking.chosen"))
    expect(chosen.locator("li").first).to_contain_text(names[0])
    page.get_by_role("button", name=app.t("ranking.add_named", name=f"{names[1]} (€3,000)", place=3)).click()
    refused = page.locator(f'[data-field="projects-{ranked_ids[names[1]]}"] .field-error')
    expect(refused).to_have_text(app.t("ballot.rank_limit", count=2))
    checked(app, context="ranked, third refused")
    page.get_by_role("button", name=app.t("ballot.send")).click()
    expect_counted(app)
    assert stored_ballots(app, ranked_round) == [([ranked_ids[names[0]], ranked_ids[names[2]]], None)]
