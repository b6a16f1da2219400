"""What the taking-part browser tests share: rounds and consultations made through the API as the
municipality would, a resident whose address staff checked, and the phone's storage read back."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.mobile_client.conftest import Live
from tests.mobile_client.flows import sign_up_here
from tests.mobile_client.harness import DAM_SQUARE, App

J = "/api/v1/jurisdictions/amsterdam"
DAM = {"type": "Point", "coordinates": list(DAM_SQUARE)}
ROYAL_PALACE = {"type": "Point", "coordinates": [4.8913, 52.3731]}


def registered_resident(app: App) -> int:
    """The phone's device becomes an account: the app's own form, the mailed link opened on this phone."""
    app.open("/settings")
    sign_up_here(app, f"bewoner-{uuid.uuid4().hex[:10]}@example.org", "correct horse battery")
    session = app.session()
    with app.live.api() as api:
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"}).json()
    assert me["is_anonymous"] is False and me["account_id"] == session["accountId"], (me, session)
    return int(session["accountId"])


def verified_resident(app: App) -> int:
    """A registered resident (see above) whose address staff checked on the Dam."""
    account_id = registered_resident(app)
    with app.live.api("admin") as admin:
        answer = admin.post(
            f"{J}/participation/verifications",
            json={"account_id": account_id, "address": DAM, "birth_date": "1984-03-02"},
        )
        assert answer.status_code == 201, answer.text
    return account_id


def budget_round(
    live: Live,
    *,
    title: str,
    ballot_type: str,
    projects: list[tuple[str, int]],
    budget: int = 10_000,
    rules: dict[str, Any] | None = None,
    phase: str = "voting",
    **extra: Any,
) -> tuple[int, dict[str, int]]:
    """A round on the Dam with one feasible project per (title, cost), in ``phase``; the ids by title."""
    with live.api("admin") as admin, live.api("resident") as resident:
        verified = admin.post(
            f"{J}/participation/verifications",
            json={"account_id": live.world.accounts["resident"], "address": DAM},
        )
        assert verified.status_code == 201, verified.text
        created = admin.post(
            f"{J}/budget-rounds",
            json={
                "title": title,
                "area_id": live.world.areas["Dam"],
                "budget": str(budget),
                "ballot_type": ballot_type,
                "ballot_rules": rules or {},
                **extra,
            },
        )
        assert created.status_code == 201, created.text
        round_id = created.json()["id"]
        ids = {}
        for index, (name, cost) in enumerate(projects):
            proposed = resident.post(
                f"{J}/budget-rounds/{round_id}/proposals",
                json={
                    "title": name,
                    "description": f"{name}: beter voor de buurt.",
                    "location": {"type": "Point", "coordinates": [4.8920 + index * 0.0004, 52.3729]},
                    "estimated_cost": str(cost),
                },
            )
            assert proposed.status_code == 201, proposed.text
            ids[name] = proposed.json()["id"]
        if phase == "proposals":
            return round_id, ids
        move(live, round_id, "review")
        for pid in ids.values():
            reviewed = admin.post(
                f"{J}/budget-rounds/{round_id}/proposals/{pid}/review",
                json={"feasible": True, "reason": "Dit kan op deze plek."},
            )
            assert reviewed.status_code == 200, reviewed.text
        if phase != "review":
            move(live, round_id, "voting")
        return round_id, ids


def move(live: Live, round_id: int, to: str) -> None:
    with live.api("admin") as admin:
        moved = admin.post(f"{J}/budget-rounds/{round_id}/phase", json={"to": to})
        assert moved.status_code == 200, moved.text


def ballots_and_voters(live: Live, round_id: int) -> tuple[int, int]:
    with live.db() as db:
        ballots = db.execute("SELECT count(*) FROM ballots WHERE round_id = %s", (round_id,)).fetchone()
        voters = db.execute(
            "SELECT count(*) FROM voter_participations WHERE round_id = %s", (round_id,)
        ).fetchone()
    assert ballots is not None and voters is not None
    return ballots[0], voters[0]


def phone_storage(app: App) -> str:
    """Everything the app keeps on the phone (IndexedDB, local and session storage, caches) as text."""
    stored = app.page.evaluate(
        """async () => {
             const dump = {local: {...localStorage}, session: {...sessionStorage}, idb: {}, caches: []};
             for (const info of await indexedDB.databases()) {
               const db = await new Promise((ok, no) => {
                 const open = indexedDB.open(info.name);
                 open.onsuccess = () => ok(open.result);
                 open.onerror = () => no(open.error);
               });
               for (const store of db.objectStoreNames) {
                 dump.idb[`${info.name}/${store}`] = await new Promise((ok) => {
                   const all = db.transaction(store).objectStore(store).getAll();
                   all.onsuccess = () => ok(all.result.map((row) => JSON.stringify(row)));
                 });
               }
               db.close();
             }
             for (const name of await caches.keys()) {
               const cache = await caches.open(name);
               dump.caches.push(...(await cache.keys()).map((request) => request.url));
             }
             return dump;
           }"""
    )
    return json.dumps(stored)


def expect_counted(app: App, *, changed: bool = False) -> None:
    app.expect_heading("ballot.counted_title")
    main = app.page.locator("main")
    expect(main.get_by_text(app.t("ballot.counted_changed" if changed else "ballot.counted"))).to_be_visible()
    expect(main.get_by_text(app.t("ballot.received_at", time="X").split("X")[0].strip())).to_be_visible()


def checked(app: App, *, context: str) -> None:
    """axe (WCAG 2.0/2.1 A and AA), no CSP violation or script error, and no stray "null"/"undefined"
    where a text should be."""
    app.check_accessibility(context=context)
    expect(app.page.locator("main")).not_to_contain_text(re.compile(r"\b(null|undefined|NaN)\b"))
