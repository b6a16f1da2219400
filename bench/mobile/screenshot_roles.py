"""The README's pictures of the field staff's and the council member's main screens, made by Playwright on
a Pixel 7 against a running server with the demo data, signed in as the demo accounts:

.venv/bin/python -m bench.mobile.screenshot_roles --base-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse

from playwright.sync_api import Geolocation, Page, expect, sync_playwright

from api.demo import PASSWORD
from tests.mobile_client.conftest import CHROMIUM, CHROMIUM_ARGS

DAM: Geolocation = {"longitude": 4.8927, "latitude": 52.3731, "accuracy": 9}


def sign_in(page: Page, path: str, email: str) -> None:
    page.goto(path)
    page.get_by_role("button", name="Beginnen").click()
    form = page.get_by_role("form", name="Inloggen")
    form.get_by_label("E-mailadres").fill(email)
    form.get_by_label("Wachtwoord").fill(PASSWORD)
    form.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"**{path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--staff-out", default="docs/app-work.png")
    parser.add_argument("--council-out", default="docs/app-dashboard.png")
    args = parser.parse_args()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = driver.devices["Pixel 7"] | {"device_scale_factor": 1.5}
        staff = browser.new_context(
            **phone, locale="nl-NL", geolocation=DAM, permissions=["geolocation"], base_url=args.base_url
        )
        page = staff.new_page()
        sign_in(page, "/work", "wegen@demo.example.org")
        expect(page.locator("main .work-list > li").first).to_be_visible(timeout=30_000)
        page.locator("main .work-counts").scroll_into_view_if_needed()
        page.screenshot(path=args.staff_out)

        council = browser.new_context(**phone, locale="nl-NL", base_url=args.base_url)
        page = council.new_page()
        sign_in(page, "/dashboard", "raad.centrum@demo.example.org")
        expect(page.locator("main .period")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=args.council_out)
        browser.close()


if __name__ == "__main__":
    main()
