"""The feedback loop of participation, end to end: the HTTP API, the real worker, a real SMTP server.

No event is inserted by hand: every message comes from what the participation code wrote while the
requests ran. A budget round in the Dam neighbourhood (the demo's kind of round): a resident votes and is
told so (never what), is told the results, follows the funded project they backed and hears of its
progress — and of no other project's; a verified neighbour who did not vote hears none of it. A
consultation round: the respondent is thanked, and told "you said, we did" once it is published.
"""

from __future__ import annotations

from email.message import Message

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.worker import Worker
from participation.events import BallotReceived
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import (
    BASE,
    ROUND_TITLE,
    budget_round_with_projects,
    consultation_round,
    deliveries,
    vote,
)
from tests.participation.support_rounds import admin, codes_for, new_resident, set_phase, verify

VOTER = "resident@example.org"
NEIGHBOUR = "other_resident@example.org"


def subjects(mail: SmtpSink, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in mail.to(address))


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


async def progress(
    client: httpx.AsyncClient, world: World, round_id: int, project_id: int, status: str, percent: int
) -> None:
    added = await client.post(
        f"{BASE}/budget-rounds/{round_id}/proposals/{project_id}/updates",
        headers=admin(world),
        json={"status": status, "progress_percent": percent, "message": f"Stand van zaken: {percent}%"},
    )
    assert added.status_code == 201, added.text


async def test_a_voter_is_told_the_vote_the_results_and_the_progress_of_what_they_follow(
    client: httpx.AsyncClient,
    world: World,
    worker: Worker,
    mail: SmtpSink,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    author_id, author = await new_resident(sessionmaker, world)
    for account_id in (world.accounts["resident"], world.accounts["other_resident"], author_id):
        await verify(client, world, account_id)
    round_id, ids = await budget_round_with_projects(
        client, world, author, [("Bankjes op de Dam", 4000), ("Boom planten", 2000), ("Speeltuin", 3000)]
    )
    benches, tree, playground = ids["Bankjes op de Dam"], ids["Boom planten"], ids["Speeltuin"]
    await worker.run_until_idle()
    assert subjects(mail, NEIGHBOUR) == [f"De stemming is geopend: {ROUND_TITLE}"]  # eligible, not a voter
    mail.clear()

    # The resident votes for the benches and the tree; letters' codes carry the playground.
    await vote(client, round_id, [benches, tree], token=world.tokens["resident"])
    for code in await codes_for(client, world, round_id, 2):
        await vote(client, round_id, [playground], code=code)
    await worker.run_until_idle()
    [received] = mail.to(VOTER)
    assert received["Subject"] == "We hebben uw stem ontvangen"
    text_of_receipt = body(received)
    assert ROUND_TITLE in text_of_receipt and "geheim" in text_of_receipt
    # The cast's own statement wrote the title: no old-row upgrade read it from participation's tables.
    receipts = (
        await session.execute(
            text("SELECT payload FROM outbox_events WHERE topic = 'ballot.received' AND aggregate_id = :r"),
            {"r": round_id},
        )
    ).scalars()
    assert [BallotReceived.model_validate(p).title for p in receipts] == [ROUND_TITLE]
    for title, project_id in ids.items():  # the receipt says nothing of what was chosen
        assert title not in text_of_receipt and f"/projects/{project_id}" not in text_of_receipt
    assert mail.to(NEIGHBOUR) == []
    mail.clear()

    # The results: to the voter (and the author), not to the neighbour who did not vote.
    await set_phase(client, world, round_id, "results")
    funded = set((await client.get(f"{BASE}/budget-rounds/{round_id}/results")).json()["selected"])
    assert {benches, playground} <= funded
    await worker.run_until_idle()
    [results] = mail.to(VOTER)
    assert results["Subject"] == f"De uitslag van {ROUND_TITLE}"
    text_of_results = body(results)
    assert (
        f"- Bankjes op de Dam: https://civicloop.test/rounds/{round_id}/projects/{benches}?j=amsterdam"
        in (text_of_results)
    )
    assert "- Speeltuin: " in text_of_results and "Volg het op de projectpagina" in text_of_results
    assert mail.to(NEIGHBOUR) == []
    mail.clear()

    # The voter follows the project they backed (their own act, not derived from the ballot) ...
    followed = await client.put(
        f"{BASE}/budget-rounds/{round_id}/proposals/{benches}/follow",
        headers=bearer(world.tokens["resident"]),
    )
    assert followed.status_code == 204
    # ... and staff report progress on it and on the playground, which the voter did not back.
    await set_phase(client, world, round_id, "implementation")
    await progress(client, world, round_id, benches, "planned", 0)
    await progress(client, world, round_id, playground, "in_progress", 30)
    await progress(client, world, round_id, benches, "in_progress", 50)
    await progress(client, world, round_id, playground, "completed", 100)
    await progress(client, world, round_id, benches, "completed", 100)
    await worker.run_until_idle()
    assert subjects(mail, VOTER) == [
        "Nieuws over Bankjes op de Dam: gefinancierd",
        "Nieuws over Bankjes op de Dam: in aanleg",
        "Nieuws over Bankjes op de Dam: opgeleverd",
    ]
    delivered = next(m for m in mail.to(VOTER) if m["Subject"].endswith("opgeleverd"))
    assert "Stand van zaken: 100%" in body(delivered)
    assert f"/rounds/{round_id}/projects/{benches}?j=amsterdam" in body(delivered)
    assert mail.to(NEIGHBOUR) == []

    # What reached whom, from the delivery rows: the voter-specific topics never reached the neighbour.
    neighbour_topics = {
        row.topic
        for row in await deliveries(session, account_id=world.accounts["other_resident"])
        if row.outbox_event_id is not None
    }
    assert neighbour_topics == {"round.voting_opened"}
    assert [d for d in await deliveries(session, status="dead")] == []


async def test_a_respondent_is_thanked_and_told_what_was_done(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink, session: AsyncSession
) -> None:
    for person in ("resident", "other_resident"):
        await verify(client, world, world.accounts[person])
    created = await client.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Autoluw Centrum",
            "rounds": [
                {
                    "title": "Autoluw Damrak",
                    "area_id": world.areas["Dam"],
                    "questions": [
                        {
                            "kind": "single_choice",
                            "prompt": "Minder auto's op het Damrak?",
                            "options": ["ja", "nee"],
                            "required": True,
                        },
                        {"kind": "free_text", "prompt": "Waarom?"},
                    ],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["rounds"][0]["id"]
    questions = [q["id"] for q in created.json()["rounds"][0]["questions"]]
    status = f"{BASE}/consultation-rounds/{round_id}/status"
    assert (await client.post(status, headers=admin(world), json={"to": "open"})).status_code == 200
    await worker.run_until_idle()
    mail.clear()

    secret_reason = "Mijn dochter fietst daar elke dag"
    responded = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        headers=bearer(world.tokens["resident"]),
        json={
            "answers": [
                {"question_id": questions[0], "choices": ["ja"]},
                {"question_id": questions[1], "text": secret_reason},
            ]
        },
    )
    assert responded.status_code == 201, responded.text
    await worker.run_until_idle()
    [thanks] = mail.to(VOTER)
    assert thanks["Subject"] == "We hebben uw reactie ontvangen"
    assert "Autoluw Damrak" in body(thanks) and secret_reason not in body(thanks)
    assert mail.to(NEIGHBOUR) == []
    mail.clear()

    assert (await client.post(status, headers=admin(world), json={"to": "closed"})).status_code == 200
    published = await client.post(
        f"{BASE}/consultation-rounds/{round_id}/you-said-we-did",
        headers=admin(world),
        json={
            "summary": "De meeste reacties wilden minder auto's.",
            "actions": ["Het Damrak wordt in 2027 autoluw", "Twee extra fietsenrekken"],
        },
    )
    assert published.status_code == 200, published.text
    await worker.run_until_idle()
    [told] = mail.to(VOTER)
    assert told["Subject"] == "U zei, wij deden: Autoluw Damrak"
    text_of_told = body(told)
    assert "De meeste reacties wilden minder auto's." in text_of_told
    assert "- Het Damrak wordt in 2027 autoluw\n- Twee extra fietsenrekken" in text_of_told
    assert f"https://civicloop.test/consultation-rounds/{round_id}/results?j=amsterdam" in text_of_told
    assert mail.to(NEIGHBOUR) == []  # eligible and invited, but did not respond
    assert [d for d in await deliveries(session, status="dead")] == []


async def test_an_event_without_account_ids_tells_nobody(
    client: httpx.AsyncClient, world: World, worker: Worker, mail: SmtpSink, session: AsyncSession
) -> None:
    """Participation names whom to tell; notifications does not guess from participation's tables.

    A respondent exists for this round, yet an event that names nobody reaches nobody (the former
    fallback asked a table that never existed; the real events always carry ``account_ids``)."""
    await verify(client, world, world.accounts["resident"])
    round_id = await consultation_round(client, world, "Pleinen")
    answered = await client.put(
        f"{BASE}/consultation-rounds/{round_id}/response",
        headers=bearer(world.tokens["resident"]),
        json={"answers": []},
    )
    assert answered.status_code == 201, answered.text
    await worker.run_until_idle()
    mail.clear()
    await session.execute(
        text(
            "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
            " VALUES (:j, 'consultation.you_said_we_did', 'consultation_round', :r,"
            ' \'{"title": "Dam", "summary": "Niets"}\')'
        ),
        {"j": world.amsterdam, "r": round_id},
    )
    await session.commit()
    await worker.run_until_idle()
    assert mail.to(VOTER) == []
    assert await deliveries(session, topic="consultation.you_said_we_did") == []
