"""A consultation from the phone: all six kinds of question; the map question answered with the pin on
one phone and, without the map, with a place from the list on another; answers changed before the close;
after the close the results (counts, mean, order, the heat grid with its table) and "you said, we did",
opened from the message that announces it. axe after every step, in Dutch and in English."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.mobile_client.participation_flows import DAM, ROYAL_PALACE, J, checked, registered_resident


def consultation(live, tag: str) -> tuple[int, dict[str, int]]:
    with live.api("admin") as admin:
        created = admin.post(
            f"{J}/consultations",
            json={
                "title": f"Plein {tag}",
                "description": "Hoe wordt de Dam mooier?",
                "rounds": [
                    {
                        "title": f"Keuzes {tag}",
                        "area_id": live.world.areas["Dam"],
                        "eligibility": "residents",
                        "questions": [
                            {"kind": "single_choice", "prompt": "Meer bomen?", "options": ["Ja", "Nee"], "required": True},
                            {"kind": "multiple_choice", "prompt": "Wat mist er?", "options": ["Bank", "Kraan", "Boom"], "max_choices": 2},
                            {"kind": "scale", "prompt": "Hoe mooi is het plein?", "scale_min": 1, "scale_max": 5},
                            {"kind": "free_text", "prompt": "Nog een idee?"},
                            {"kind": "ranking", "prompt": "Wat eerst?", "options": ["Groen", "Rust", "Spelen"]},
                            {
                                "kind": "map_point",
                                "prompt": "Waar moet de kraan?",
                                "places": [{"name": "Bij het paleis", "point": ROYAL_PALACE}, {"name": "Midden op de Dam", "point": DAM}],
                            },
                        ],
                    }
                ],
            },
        )  # fmt: skip
        assert created.status_code == 201, created.text
        [round_] = created.json()["rounds"]
        opened = admin.post(f"{J}/consultation-rounds/{round_['id']}/status", json={"to": "open"})
        assert opened.status_code == 200, opened.text
    return round_["id"], {q["kind"]: q["id"] for q in round_["questions"]}


def answers_of(live, round_id: int) -> list[dict[int, tuple]]:
    with live.db() as db:
        rows = db.execute(
            "SELECT r.id, x.question_id, x.choices, x.number, x.text_value, ST_X(x.point), ST_Y(x.point)"
            " FROM consultation_responses r JOIN consultation_answers x ON x.response_id = r.id"
            " WHERE r.round_id = %s ORDER BY r.id, x.question_id",
            (round_id,),
        ).fetchall()
    responses: dict[int, dict[int, tuple]] = {}
    for response, question, *values in rows:
        responses.setdefault(response, {})[question] = tuple(values)
    return list(responses.values())


def test_a_consultation_with_a_map_question_answered_on_the_map_and_from_the_list(open_phone) -> None:
    tag = uuid.uuid4().hex[:6]
    one = open_phone(phone="pixel", language="nl")
    round_id, q = consultation(one.live, tag)
    page = one.page
    one.start()
    one.nav("nav.take_part")
    one.page.get_by_role("link", name=f"Plein {tag}: Keuzes {tag}").click()
    expect(one.heading()).to_have_text(f"Plein {tag}: Keuzes {tag}")
    one.wait_for_screen()
    # A phone alone may not answer (devices cost nothing to make): the screen says so and where to go.
    expect(page.locator("main")).to_contain_text(one.t("errors.registration-required"))
    expect(page.get_by_role("link", name=one.t("settings.make_account"))).to_have_attribute(
        "href", f"/account?next=%2Fconsultation-rounds%2F{round_id}"
    )
    checked(one, context="an account needed")
    registered_resident(one)
    one.open(f"/consultation-rounds/{round_id}")
    expect(one.heading()).to_have_text(f"Plein {tag}: Keuzes {tag}")
    checked(one, context="consultation")

    # Every kind of question; a rule broken (a third choice of two) is said next to the question.
    page.get_by_role("group", name="1. Meer bomen?").get_by_label("Ja").check()
    several = page.get_by_role("group", name=re.compile(r"^2\. Wat mist er\?"))
    several.get_by_label("Bank").check()
    several.get_by_label("Kraan").check()
    several.get_by_label("Boom").click()  # refused
    expect(several.get_by_label("Boom")).not_to_be_checked()
    expect(several.locator(".field-error").first).to_have_text(
        one.t("consultation.max_choices_reached", count=2)
    )
    checked(one, context="too many choices")
    page.get_by_role("group", name=re.compile(r"^3\. Hoe mooi")).get_by_label("4").check()
    page.get_by_label(re.compile(r"^4\. Nog een idee\?")).fill(f"Een fontein {tag}")
    page.get_by_role("button", name=one.t("ranking.add_named", name="Spelen", place=1)).click()
    page.get_by_role("button", name=one.t("ranking.add_named", name="Groen", place=2)).click()
    page.get_by_role("button", name=one.t("ranking.up_named", name="Groen")).click()
    expect(page.get_by_role("button", name=one.t("ranking.up_named", name="Groen"))).to_be_disabled()
    expect(page.get_by_role("list", name=one.t("ranking.chosen")).locator("li").first).to_contain_text(
        "Groen"
    )
    checked(one, context="ranking reordered")
    expect(page.locator(f"#map-{q['map_point']}[data-ready]")).to_be_visible()
    pin = page.get_by_role("button", name=one.t("consultation.pin_label", question="Waar moet de kraan?"))
    pin.focus()
    pin.press("ArrowRight")
    expect(page.locator("main").get_by_text(one.t("consultation.pin_set"))).to_be_visible()
    checked(one, context="pin placed")
    page.get_by_role("button", name=one.t("consultation.send")).click()
    expect(
        page.locator("main").get_by_text(one.t("consultation.saved_at", time="X").split("X")[0].strip())
    ).to_be_visible()
    checked(one, context="answers saved")
    [mine] = answers_of(one.live, round_id)
    assert mine[q["single_choice"]][0] == ["Ja"] and mine[q["multiple_choice"]][0] == ["Bank", "Kraan"]
    assert mine[q["scale"]][1] == 4 and mine[q["ranking"]][0] == ["Groen", "Spelen"]
    with one.live.api() as anyone:
        start = anyone.get(f"{J}/consultation-rounds/{round_id}").json()["area_centre"]["coordinates"]
    assert mine[q["map_point"]][3] > start[0]  # the pin started in the area's middle, moved east by a key

    # Changed before the close: the same response, new answers.
    page.get_by_role("group", name="1. Meer bomen?").get_by_label("Nee").check()
    page.get_by_role("button", name=one.t("consultation.save_changes")).click()
    expect(page.locator("main .notice.success")).to_contain_text(one.t("consultation.can_change"))
    [changed] = answers_of(one.live, round_id)
    assert changed[q["single_choice"]][0] == ["Nee"]

    # Another resident, in English, without the map: a place from the list.
    two = open_phone(phone="iphone_se", language="en")
    two.start()
    registered_resident(two)
    two.open(f"/consultation-rounds/{round_id}")
    two.page.get_by_role("group", name="1. Meer bomen?").get_by_label("Ja").check()
    where = two.page.get_by_role("group", name=re.compile(r"^6\. Waar moet de kraan\?"))
    where.get_by_label(two.t("consultation.where_list")).check()
    expect(two.page.locator(f"#map-{q['map_point']}")).to_be_hidden()
    checked(two, context="the list instead of the map")
    where.get_by_label("Bij het paleis").check()
    two.page.get_by_role("button", name=two.t("consultation.send")).click()
    expect(two.page.locator("main .notice.success")).to_be_visible()
    checked(two, context="answered from the list")
    answers = answers_of(one.live, round_id)
    assert len(answers) == 2 and answers[1][q["map_point"]][3:] == tuple(ROYAL_PALACE["coordinates"])

    # The close, what the municipality will do, and the message that announces it.
    summary = f"Jullie willen een kraan ({tag})."
    with one.live.api("admin") as admin:
        closed = admin.post(f"{J}/consultation-rounds/{round_id}/status", json={"to": "closed"})
        assert closed.status_code == 200, closed.text
        published = admin.post(
            f"{J}/consultation-rounds/{round_id}/you-said-we-did",
            json={"summary": summary, "actions": [f"Een kraan bij het paleis in 2027 ({tag})"]},
        )
        assert published.status_code == 200, published.text
    one.nav("nav.inbox")
    message = page.locator("main .card button").filter(has_text=f"Keuzes {tag}")
    for _ in range(30):
        if message.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        one.wait_for_screen()
    message.first.click()
    page.get_by_role("link", name=one.t("inbox.open_page")).first.click()
    one.expect_heading("consultation_results.heading", title=f"Plein {tag}: Keuzes {tag}")
    said = page.get_by_role("region", name=one.t("consultation_results.you_said_we_did"))
    expect(said).to_contain_text(summary)
    expect(said.get_by_role("listitem")).to_have_text(f"Een kraan bij het paleis in 2027 ({tag})")
    expect(page.locator(f"#heat-{q['map_point']}[data-ready]")).to_be_visible()
    heat = page.get_by_role(
        "table", name=one.t("consultation_results.table_caption", question="Waar moet de kraan?")
    )
    counts = [int(c) for c in heat.locator("tbody td").all_inner_texts()]
    assert sum(counts) == 2, counts
    expect(heat).to_contain_text("Bij het paleis")
    choice = page.get_by_role(
        "table", name=one.t("consultation_results.table_caption", question="Meer bomen?")
    )
    expect(choice.get_by_role("row", name=re.compile("^Ja"))).to_contain_text("1")
    expect(page.locator("main")).to_contain_text(one.t("consultation_results.mean", mean="4", min=1, max=5))
    checked(one, context="results and you said, we did")

    two.open(f"/consultation-rounds/{round_id}/results")
    expect(
        two.page.get_by_role("region", name=two.t("consultation_results.you_said_we_did"))
    ).to_contain_text(summary)
    checked(two, context="results in English")
    two.open(f"/consultation-rounds/{round_id}")
    expect(two.page.locator("main").get_by_text(two.t("consultation.closed"))).to_be_visible()
    checked(two, context="closed round")
