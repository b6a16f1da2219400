"""The README's picture of the app, made by Playwright on a Pixel 7 against a running server:

.venv/bin/python -m bench.mobile.screenshot --base-url http://127.0.0.1:8000 [--out docs/app-report.png]
"""

from __future__ import annotations

import argparse

from playwright.sync_api import expect, sync_playwright

from tests.mobile_client.conftest import CHROMIUM, CHROMIUM_ARGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/app-report.png")
    args = parser.parse_args()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            **(driver.devices["Pixel 7"] | {"device_scale_factor": 1.5}),
            locale="nl-NL",
            geolocation={"longitude": 4.8936, "latitude": 52.3727, "accuracy": 9},
            permissions=["geolocation"],
            base_url=args.base_url,
        )
        page = context.new_page()
        page.goto("/")
        page.get_by_role("button", name="Beginnen").click()
        expect(page.locator("#report-map[data-ready]")).to_be_visible(timeout=30_000)
        expect(page.locator("#place-names")).not_to_be_empty()
        page.wait_for_timeout(1500)  # the tiles drawn
        page.screenshot(path=args.out)
        browser.close()


if __name__ == "__main__":
    main()
