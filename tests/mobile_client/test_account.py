"""The account screens (issue 12, item 9): sign up by mail, change the password, sign out here and
everywhere, forget the password and set a new one from the mailed link, on a phone that never had the
app. axe on every state; the server's side is checked through its API."""

from __future__ import annotations

import json
import uuid

import httpx
from playwright.sync_api import expect

from tests.mobile_client.flows import mailed_link, sign_up_here
from tests.mobile_client.harness import App


def sign_in(app: App, email: str, password: str) -> httpx.Response:
    with app.live.api() as api:
        return api.post(
            "/api/v1/auth/tokens", json={"jurisdiction": "amsterdam", "email": email, "password": password}
        )


def test_sign_up_change_the_password_and_sign_out_everywhere(app: App) -> None:
    app.start()
    page = app.page
    app.nav("nav.settings")
    email = f"account-{uuid.uuid4().hex[:8]}@example.org"
    sign_up_here(app, email, "een lang wachtwoord", check=True)
    app.check_accessibility(context="signed in after the mailed link")
    elsewhere = sign_in(app, email, "een lang wachtwoord").json()[
        "token"
    ]  # the same account on another phone

    page.get_by_role("link", name=app.t("settings.manage_account")).click()
    app.expect_heading("account.title")
    app.check_accessibility(context="account, signed in")
    change = page.get_by_role("form", name=app.t("account.change_password"))
    change.get_by_role("button", name=app.t("account.change_button")).click()
    expect(page.get_by_role("alert").get_by_text(app.t("errors.field.required")).first).to_be_visible()
    app.check_accessibility(context="password form with errors")
    change.get_by_label(app.t("account.current_password")).fill("een lang wachtwoord")
    change.get_by_label(app.t("account.new_password")).fill("een ander lang wachtwoord")
    change.get_by_role("button", name=app.t("account.change_button")).click()
    expect(change.get_by_text(app.t("account.password_changed"))).to_be_visible()
    app.check_accessibility(context="password changed")
    with app.live.api() as api:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {elsewhere}"}).status_code == 401
    assert sign_in(app, email, "een ander lang wachtwoord").status_code == 201
    kept = app.session()["token"]  # this phone goes on with its new token
    with app.live.api() as api:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {kept}"}).status_code == 200

    page.get_by_role("button", name=app.t("account.sign_out_everywhere")).click()
    app.expect_heading("welcome.title")
    app.check_accessibility(context="signed out")
    assert app.session() is None
    with app.live.api() as api:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {kept}"}).status_code == 401


def test_a_forgotten_password_is_reset_from_the_mail_on_a_new_phone(app: App, open_phone) -> None:
    email = f"vergeten-{uuid.uuid4().hex[:8]}@example.org"
    with app.live.api() as api:
        asked = api.post(
            "/api/v1/auth/accounts",
            json={"jurisdiction": "amsterdam", "email": email, "password": "het oude wachtwoord"},
        )
        assert asked.status_code == 202
    app.start()
    app.page.goto(mailed_link(app, email, "/account/confirm/"))  # confirmed on the first phone
    app.expect_heading("settings.title")

    phone = open_phone(phone="iphone_se")
    phone.start()
    phone.nav("nav.settings")
    phone.page.get_by_role("link", name=phone.t("settings.make_account")).click()
    phone.expect_heading("account.title")
    forgot = phone.page.get_by_role("form", name=phone.t("account.forgot"))
    forgot.get_by_label(phone.t("account.email")).fill(email)
    forgot.get_by_role("button", name=phone.t("account.forgot_button")).click()
    expect(forgot.get_by_text(phone.t("account.forgot_sent", email=email))).to_be_visible()
    phone.check_accessibility(context="reset link sent")

    link = mailed_link(phone, email, "/account/reset/")
    fresh = open_phone(phone="iphone_se")  # opened from the mail app: a browser that never had the app
    fresh.open(link.removeprefix(app.live.base_url))
    fresh.expect_heading("account_reset.title")
    fresh.check_accessibility(context="reset form")
    fresh.page.get_by_label(fresh.t("account.new_password"), exact=True).fill("het nieuwe wachtwoord")
    fresh.page.get_by_role("button", name=fresh.t("account_reset.button")).click()
    fresh.expect_heading("settings.title")
    expect(fresh.page.locator("main").get_by_text(fresh.t("settings.signed_in", email=email))).to_be_visible()
    fresh.check_accessibility(context="signed in after the reset")
    assert sign_in(app, email, "het oude wachtwoord").status_code == 401
    assert sign_in(app, email, "het nieuwe wachtwoord").status_code == 201
    # The link works once.
    again = open_phone(phone="iphone_se")
    again.open(link.removeprefix(app.live.base_url))
    again.page.get_by_label(again.t("account.new_password"), exact=True).fill("nog een wachtwoord")
    again.page.get_by_role("button", name=again.t("account_reset.button")).click()
    expect(again.page.get_by_role("alert").get_by_text(again.t("errors.link-used"))).to_be_visible()
    again.check_accessibility(context="reset link used twice")


def test_a_resident_downloads_their_data_and_deletes_the_account(app: App, tmp_path) -> None:
    app.start()
    page = app.page
    email = f"weg-{uuid.uuid4().hex[:8]}@example.org"
    app.nav("nav.settings")
    sign_up_here(app, email, "een lang wachtwoord")
    page.get_by_role("link", name=app.t("settings.manage_account")).click()
    app.expect_heading("account.title")
    with page.expect_download() as download:
        page.get_by_role("button", name=app.t("account.data_download")).click()
    saved = tmp_path / "data.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["account"]["email"] == email and "reports" in data and "voted_in_rounds" in data
    app.check_accessibility(context="data downloaded")

    token = app.session()["token"]
    delete = page.get_by_role("form", name=app.t("account.delete_title"))
    delete.get_by_role("button", name=app.t("account.delete_button")).click()
    expect(page.get_by_role("alert").get_by_text(app.t("errors.field.required")).first).to_be_visible()
    delete.get_by_label(app.t("account.password")).fill("een lang wachtwoord")
    delete.get_by_role("button", name=app.t("account.delete_button")).click()
    app.expect_heading("welcome.title")
    app.check_accessibility(context="account deleted")
    with app.live.api() as api:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(app, email, "een lang wachtwoord").status_code == 401
