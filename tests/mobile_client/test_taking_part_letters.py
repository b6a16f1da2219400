"""The letter's QR code: ``/vote?code=...`` opens the ballot on a phone that never opened the app, the
code leaves the address bar at once, one ballot is cast; a second phone that opened the same letter
gets the API's refusal as a sentence, and opening the letter again says the code was used."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.mobile_client.participation_flows import (
    J,
    ballots_and_voters,
    budget_round,
    checked,
    expect_counted,
    phone_storage,
)


def test_a_letters_code_casts_exactly_one_ballot(open_phone) -> None:
    first = open_phone(phone="pixel", language="nl")
    tag = uuid.uuid4().hex[:6]
    round_id, ids = budget_round(
        first.live,
        title=f"Buurtbudget per brief {tag}",
        ballot_type="approval",
        rules={"max_projects": 1},
        projects=[(f"Bankjes {tag}", 3000), (f"Bomen {tag}", 4000)],
        allow_ballot_changes=False,
    )
    with first.live.api("admin") as admin:
        letters = admin.post(
            f"{J}/budget-rounds/{round_id}/codes", json={"area_id": first.live.world.areas["Dam"], "count": 1}
        )
        assert letters.status_code == 201, letters.text
    code = letters.text.strip().splitlines()[1].split(",")[0]

    # Two phones open the same letter before either votes (a cold start: no device registered).
    second = open_phone(phone="iphone_se", language="en")
    for phone in (first, second):
        phone.open(f"/vote?code={code}")
        phone.expect_heading("ballot.heading", round=f"Buurtbudget per brief {tag}")
        assert phone.page.url.endswith("/vote"), phone.page.url  # the code is out of the address and history
        expect(phone.page.locator("main").get_by_text(phone.t("ballot.with_code"))).to_be_visible()
        expect(phone.page.get_by_role("navigation")).to_be_hidden()
        checked(phone, context="ballot from a letter")

    first.page.get_by_label(f"Bomen {tag}").check()
    first.page.get_by_role("button", name=first.t("ballot.send")).click()
    expect_counted(first)
    checked(first, context="counted with a code")
    assert ballots_and_voters(first.live, round_id) == (1, 1)
    assert code not in phone_storage(first)

    # The second phone sends too: the API refuses the used code, and says so in a sentence.
    second.page.get_by_label(f"Bankjes {tag}").check()
    second.page.get_by_role("button", name=second.t("ballot.send")).click()
    alert = second.page.get_by_role("alert")
    expect(alert).to_contain_text(second.t("errors.code-already-used"))
    expect(second.page.get_by_label(f"Bankjes {tag}")).to_be_checked()  # the choice stays on the screen
    checked(second, context="used code refused")
    assert ballots_and_voters(first.live, round_id) == (1, 1)

    # The letter opened once more: the code was used, no ballot is offered.
    second.open(f"/vote?code={code}")
    expect(second.page.locator("main").get_by_text(second.t("errors.code-already-used"))).to_be_visible()
    expect(second.page.get_by_role("button", name=second.t("ballot.send"))).to_have_count(0)
    checked(second, context="used code looked up")

    # A code that does not exist: the sentence for it, and a field to type the code again.
    second.open("/vote?code=ABCD-EFGH-JKMN-PQRS")
    expect(second.page.locator("main").get_by_text(second.t("errors.unknown-code"))).to_be_visible()
    second.page.get_by_label(second.t("ballot.code_label")).fill(code.lower().replace("-", " "))
    second.page.get_by_role("button", name=second.t("ballot.code_use")).click()
    expect(second.page.locator("main").get_by_text(second.t("errors.code-already-used"))).to_be_visible()
    checked(second, context="typed code")
    assert ids  # the round had its projects
