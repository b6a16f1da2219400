"""Outbox rows written before events were typed still reach the right people
(``notifications.fanout.legacy``), and payloads written by SQL are of their declared type."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import EVENT_TYPES
from geo.events import ReportSubmitted
from notifications.fanout import legacy
from notifications.worker import Worker
from participation.events import BallotReceived, ProjectProgress, RoundVotingOpened
from tests.conftest import World
from tests.notifications.conftest import SmtpSink
from tests.notifications.helpers import deliveries, outbox_event, store_raw_event, submit
from tests.participation.support_rounds import create_round


async def test_an_old_ballot_receipt_without_title_names_the_round_and_the_one_voter(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    budget_round = await create_round(client, world, title="Buurtbudget Dam 2026")
    await store_raw_event(
        session,
        jurisdiction_id=world.amsterdam,
        topic="ballot.received",
        aggregate_type="budget_round",
        aggregate_id=budget_round["id"],
        payload={"account_id": world.accounts["resident"], "replaced_earlier_ballot": False},
    )
    await session.commit()
    await worker.run_until_idle()
    [receipt] = mail.to("resident@example.org")
    assert "Buurtbudget Dam 2026" in receipt.get_payload(decode=True).decode()
    [inbox] = await deliveries(session, topic="ballot.received", channel="inbox")
    assert inbox.account_id == world.accounts["resident"] and inbox.data == {"round_id": budget_round["id"]}
    assert await deliveries(session, status="dead") == []


async def test_the_upgrade_of_each_old_shape(session: AsyncSession, world: World) -> None:
    async def upgrade(
        topic: str, payload: dict[str, object], aggregate_type: str = "round"
    ) -> dict[str, object]:
        return await legacy.upgrade(
            session,
            jurisdiction_id=world.amsterdam,
            topic=topic,
            aggregate_type=aggregate_type,
            aggregate_id=7,
            payload=payload,
        )

    old = {"title": "T", "account_id": 3, "account_ids": [5, "x", True, 3]}
    assert await upgrade("round.voting_opened", old) == {"title": "T", "account_ids": [3, 5], "round_id": 7}
    progress = ProjectProgress.model_validate(
        await upgrade("project.progress", {"title": "Bankjes", "status": "under_construction"})
    )
    assert (progress.project_id, progress.round_id, progress.status) == (7, None, "under_construction")
    notice = progress.notice()
    assert notice.link is None and notice.data == {"project_id": 7}  # no round: no link, as before
    # Funded projects without an id, and actions of another shape, were skipped then too.
    results = await upgrade(
        "round.results_published",
        {"title": "T", "funded_projects": [{"title": "A"}, {"id": 2, "title": "B", "cost": "10"}, "x"]},
    )
    assert results["funded_projects"] == [{"id": 2, "title": "B", "cost": "10"}]
    said = await upgrade("consultation.you_said_we_did", {"title": "T", "message": "M", "actions": ["a", 1]})
    assert (said["summary"], said["actions"]) == ("M", ["a"])
    # No aggregate to read a title from: an empty one, as the message had before.
    assert (await upgrade("response.received", {"account_ids": [1]}))["title"] == ""
    # Current rows and other topics pass unchanged.
    current = RoundVotingOpened(round_id=7, title="T", area_id=2, account_ids=[1, 2]).stored()
    assert await upgrade("round.voting_opened", current, "budget_round") == current
    report: dict[str, object] = {"report_id": 1, "account_id": 4}
    assert await upgrade("report.supported", report, "report") is report


async def test_payloads_written_by_sql_are_of_their_type(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    report = await submit(client, world.tokens["resident"])
    row = await outbox_event(session, report["id"], "report.submitted")
    assert ReportSubmitted.model_validate(row.payload).stored() == row.payload
    assert row.payload["report_id"] == report["id"] and row.aggregate_type == ReportSubmitted.aggregate_type


def test_every_payload_type_names_its_topic_and_aggregate() -> None:
    assert {"report.submitted", "ballot.received", "round.voting_opened", "account.link"} <= set(EVENT_TYPES)
    for topic, payload_type in EVENT_TYPES.items():
        assert payload_type.topic == topic and payload_type.aggregate_type, topic
    receipt = BallotReceived(round_id=1, title="T", account_ids=[2], channel="online")
    assert receipt.notice().link is None  # a receipt confirms, it links nowhere
    assert receipt.stored() == {"round_id": 1, "title": "T", "account_ids": [2], "channel": "online"}
