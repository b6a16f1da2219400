"""The residents' app on a slow phone: Chromium with the network and CPU throttled through the DevTools
protocol (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower), cold and from the service
worker. Bars (issue 9): report form usable <= 2.5 s cold, map ready <= 4 s cold, <= 1 s from the service
worker, the app's own JS <= 60 kB gzip on the report screen, first load <= 800 kB in all, a 12-megapixel
photo <= 500 kB after resizing.

    make run   # in another terminal (or any civicloop server with the demo data)
    .venv/bin/python -m bench.mobile.run --base-url http://127.0.0.1:8000 [--runs 5]

"Usable" is when the router has rendered the screen and moved focus to its heading (the form's
controls are in the page and enabled); "map ready" is MapLibre's ``load`` with the first tiles drawn.
Times are medians of ``--runs`` runs, each in a fresh browser context.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
from typing import Any

from playwright.sync_api import Browser, Geolocation, Page, sync_playwright

from tests.mobile_client.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.mobile_client.photos import camera_jpeg

DAM: Geolocation = {"longitude": 4.8927, "latitude": 52.3731, "accuracy": 10}
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
# Marks when the router has shown a screen, and when a map has loaded (init scripts are outside the CSP).
MARKS = """
window.__marks = {};
document.addEventListener('screen-ready', (e) => { window.__marks[e.detail.path] ??= performance.now(); });
new MutationObserver(() => {
  if (document.querySelector('[data-ready="true"]') && !window.__marks.map) window.__marks.map = performance.now();
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
"""


def context(browser: Browser, base_url: str) -> Any:
    ctx = browser.new_context(
        viewport={"width": 412, "height": 915},
        device_scale_factor=2.625,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
        geolocation=DAM,
        permissions=["geolocation"],
        base_url=base_url,
    )
    ctx.add_init_script(MARKS)
    return ctx


def throttle(page: Page) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return cdp


class Bytes:
    """Bytes on the wire (encoded, as transferred) per response URL, from the DevTools protocol."""

    def __init__(self, cdp: Any) -> None:
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        cdp.on(
            "Network.responseReceived", lambda e: self.urls.__setitem__(e["requestId"], e["response"]["url"])
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )

    def total(self, keep: Any = lambda url: True) -> int:
        return sum(size for rid, size in self.sizes.items() if keep(self.urls.get(rid, "")))


def register(page: Page) -> None:
    page.goto("/welcome")
    page.get_by_role("button", name="Beginnen").click()
    page.wait_for_function("() => document.activeElement?.tagName === 'H1' && location.pathname === '/'")


def cold(page: Page, cdp: Any) -> None:
    """Forget the HTTP cache, the service worker and its caches; keep the device's registration."""
    cdp.send("Network.clearBrowserCache")
    page.evaluate(
        "async () => { for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();"
        " for (const k of await caches.keys()) await caches.delete(k); }"
    )


def mark(page: Page, name: str) -> float:
    page.wait_for_function(
        f"() => window.__marks && window.__marks[{json.dumps(name)}] !== undefined", timeout=60_000
    )
    return page.evaluate(f"() => window.__marks[{json.dumps(name)}]")


def one_run(browser: Browser, base_url: str) -> dict[str, float]:
    ctx = context(browser, base_url)
    page = ctx.new_page()
    register(page)  # not measured: the device exists, as for a resident who opened the app before
    cdp = throttle(page)
    cold(page, cdp)
    counted = Bytes(cdp)
    page.goto("/report")
    report_ms = mark(page, "/report")
    map_on_report_ms = mark(page, "map")
    page.wait_for_load_state("networkidle")
    version = page.evaluate("() => document.querySelector('script[type=module]').src.split('/')[4]")
    own = f"/app/{version}/"
    own_js = counted.total(lambda u: own in u and (u.endswith(".js")) and "/vendor/" not in u)
    first_load = counted.total()

    cold(page, cdp)
    page.goto("/nearby")
    nearby_ms = mark(page, "/nearby")
    map_ms = mark(page, "map")

    # The service worker is back (the visit above installed it); the next load comes from its cache.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    page.goto("/report")
    page.wait_for_load_state("networkidle")
    page.goto("/my-reports")  # so the next /report is a fresh navigation answered by the worker
    mark(page, "/my-reports")
    page.goto("/report")
    warm_ms = mark(page, "/report")
    ctx.close()
    return {
        "report_form_cold_ms": report_ms,
        "map_on_report_screen_cold_ms": map_on_report_ms,
        "nearby_usable_cold_ms": nearby_ms,
        "map_ready_cold_ms": map_ms,
        "report_form_from_sw_ms": warm_ms,
        "own_js_gzip_bytes": own_js,
        "first_load_bytes": first_load,
    }


def photo(browser: Browser, base_url: str) -> dict[str, float]:
    ctx = context(browser, base_url)
    page = ctx.new_page()
    page.goto("/welcome")
    page.wait_for_function("() => document.activeElement?.tagName === 'H1'")
    throttle(page)
    original = camera_jpeg()
    result = page.evaluate(
        """async (data) => {
          const base = document.querySelector('script[type=module]').src.replace(/js\\/main\\.js$/, '');
          const photos = await import(base + 'js/photos.js');
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const start = performance.now();
          const ready = await photos.prepare(new File([bytes], 'IMG_0001.JPG', { type: 'image/jpeg' }));
          return { ms: performance.now() - start, bytes: ready.blob.size, width: ready.width, height: ready.height };
        }""",
        base64.b64encode(original).decode(),
    )
    ctx.close()
    return {
        "photo_original_bytes": len(original),
        "photo_bytes": result["bytes"],
        "photo_resize_ms": result["ms"],
        "photo_width": result["width"],
        "photo_height": result["height"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        runs = [one_run(browser, args.base_url) for _ in range(args.runs)]
        figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        figures |= {f"{key}_max": max(run[key] for run in runs) for key in runs[0] if key.endswith("_ms")}
        figures |= photo(browser, args.base_url)
        browser.close()
    bars = {
        "report_form_cold_ms": 2500,
        "map_ready_cold_ms": 4000,
        "report_form_from_sw_ms": 1000,
        "own_js_gzip_bytes": 60_000,
        "first_load_bytes": 800_000,
        "photo_bytes": 500_000,
    }
    for key, value in figures.items():
        bar = bars.get(key)
        verdict = "" if bar is None else ("  ok" if value <= bar else "  OVER THE BAR")
        print(f"{key:32} {value:>12,.0f}{'' if bar is None else f'  (bar {bar:,})'}{verdict}")
    print(json.dumps({"runs": runs, "figures": figures}))


if __name__ == "__main__":
    main()
