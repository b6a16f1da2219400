"""Steps the field staff's and council members' browser tests share: signing in on a phone, named places,
acting as a colleague through the API, reading the database."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.conftest import report_body
from tests.mobile_client.harness import App

PASSWORD = "correct horse battery"  # the test world's accounts (tests/conftest.py)
BASE = "/api/v1/jurisdictions/amsterdam"

# Named places in Centrum, one per test, so "nearest first" has a single right answer.
NIEUWMARKT = (4.90030, 52.37260)
WESTERMARKT = (4.88380, 52.37470)
REMBRANDTPLEIN = (4.89660, 52.36630)
WATERLOOPLEIN = (4.90220, 52.36760)
SPUI = (4.88930, 52.36850)
SPUI_ACROSS = (4.88950, 52.36855)  # about 15 m from SPUI: the same problem, reported twice
PALEISSTRAAT = (4.89050, 52.37350)  # inside the test world's Dam neighbourhood


def stand_at(app: App, point: tuple[float, float]) -> None:
    app.context.set_geolocation({"longitude": point[0], "latitude": point[1], "accuracy": 12})


def sign_in(app: App, who: str, path: str) -> None:
    """Open ``path`` on a fresh phone: the welcome screen, then the sign-in, then back to ``path``."""
    app.open(path)
    app.expect_heading("welcome.title")
    if app.language != "nl":
        app.page.get_by_label("English").check()
        app.expect_heading("welcome.title")
    app.page.get_by_role("button", name=app.t("welcome.start")).click()
    app.expect_heading("account.title")
    form = app.page.get_by_role("form", name=app.t("account.sign_in"))
    form.get_by_label(app.t("account.email")).fill(f"{who}@example.org")
    form.get_by_label(app.t("account.password")).fill(PASSWORD)
    form.get_by_role("button", name=app.t("account.sign_in_button")).click()
    expect(app.page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?|$)"))
    app.wait_for_screen()


def new_report(
    app: App, point: tuple[float, float], description: str, category: str = "pothole", **extra: Any
) -> int:
    """A resident's report through the API (a device of its own), with contact data."""
    with app.live.api() as api:
        device = api.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"}).json()
        answer = api.post(
            f"{BASE}/reports",
            json=report_body(category, point, description=description, **extra),
            headers={"Authorization": f"Bearer {device['token']}"},
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def colleague_moves(app: App, report_id: int, body: dict[str, Any], who: str = "admin") -> dict[str, Any]:
    """Another staff member changes the report through the API, on the version they read."""
    with app.live.api(who) as api:
        view = api.get(f"{BASE}/reports/{report_id}/staff-view")
        answer = api.post(
            f"{BASE}/reports/{report_id}/transitions", json=body, headers={"If-Match": view.headers["etag"]}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def changes(app: App, report_id: int) -> list[tuple[str, str | None, str | None, int | None]]:
    """The report's status changes after its submission: (to, public message, internal note, photo id)."""
    with app.live.db() as db:
        return db.execute(
            "SELECT to_status, public_message, internal_note, photo_id FROM report_status_changes"
            " WHERE report_id = %s AND from_status IS NOT NULL ORDER BY id",
            (report_id,),
        ).fetchall()


def template(app: App, status: str, title: str, text: str, category: str | None = "pothole") -> None:
    with app.live.api("admin") as api:
        body = {"status": status, "title": {"nl": title, "en": title}, "text": {"nl": text, "en": text}}
        if category:
            body["category"] = category
        answer = api.post(f"{BASE}/message-templates", json=body)
        assert answer.status_code == 201, answer.text


def card(app: App, report_id: int) -> Any:
    return app.page.locator(f'main .work-list li[data-report-id="{report_id}"]')
