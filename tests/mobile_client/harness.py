"""The browser-test harness: an ``App`` is the residents' app in one phone (a Playwright context).

Screens are driven by role and accessible name (``app.page.get_by_role("button", name=...)``), which
also proves every control is labelled; ``app.t(key)`` gives the text of a key in the app's language,
so a test reads the same in Dutch and English. ``app.check_accessibility()`` runs axe-core (WCAG 2.0
and 2.1, A and AA) on the current screen and fails on any violation or any Content-Security-Policy
violation seen so far. Call it after every interaction that changes the screen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import BrowserContext, Locator, Page, Playwright, expect

if TYPE_CHECKING:
    from tests.mobile_client.conftest import Live

HERE = Path(__file__).resolve().parent
AXE = (HERE / "vendor" / "axe-core" / "axe.min.js").read_text()
CATALOGS = {
    lang: json.loads((HERE.parent.parent / "mobile_client" / "i18n" / f"{lang}.json").read_text())
    for lang in ("nl", "en")
}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DAM_SQUARE = (4.8927, 52.3731)

# Phone profiles: Playwright's Pixel 7, and a small iPhone-size screen (iPhone SE, 375 x 667).
PHONES: dict[str, Callable[[Playwright], dict[str, Any]]] = {
    "pixel": lambda p: dict(p.devices["Pixel 7"]),
    "iphone_se": lambda p: {
        **{k: v for k, v in p.devices["iPhone SE"].items() if k != "default_browser_type"},
    },
}

# Recorded before any script of the page runs (an init script is not subject to the page's CSP).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


class AccessibilityError(AssertionError):
    pass


class App:
    def __init__(self, context: BrowserContext, live: Live, language: str) -> None:
        self.context = context
        self.live = live
        self.language = language
        self.context.add_init_script(WATCH_CSP)
        self.page: Page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.set_default_timeout(15_000)

    def close(self) -> None:
        self.context.close()

    # -- texts -----------------------------------------------------------------------------------

    def t(self, key: str, **params: Any) -> str:
        """The app's text for ``key`` (plural objects: ``count`` picks one/other, as Intl does for nl/en)."""
        text = CATALOGS[self.language][key]
        if isinstance(text, dict):
            text = text["one" if params.get("count") == 1 else "other"]
        return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), text)

    # -- navigation ------------------------------------------------------------------------------

    def open(self, path: str = "/") -> Page:
        self.page.goto(path)
        self.wait_for_screen()
        return self.page

    def wait_for_screen(self) -> None:
        """Until the router has rendered a screen and moved focus to its heading."""
        self.page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")

    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    def expect_heading(self, key: str, **params: Any) -> None:
        expect(self.heading()).to_have_text(self.t(key, **params))
        self.wait_for_screen()

    def start(self, *, check: bool = False) -> None:
        """First start: the welcome screen, the app's language, "start" (registers this device)."""
        self.open("/")
        self.expect_heading("welcome.title")
        if check:
            self.check_accessibility()
        if self.language != "nl" or self.page.evaluate("document.documentElement.lang") != self.language:
            self.page.get_by_label({"nl": "Nederlands", "en": "English"}[self.language]).check()
            self.expect_heading("welcome.title")
        self.page.get_by_role("button", name=self.t("welcome.start")).click()
        self.expect_heading("report.location.title")

    def nav(self, key: str) -> None:
        self.page.get_by_role("navigation").get_by_role(
            "link", name=re.compile("^" + re.escape(self.t(key)))
        ).click()
        self.wait_for_screen()

    # -- the device's state ----------------------------------------------------------------------

    def session(self) -> dict[str, Any]:
        """The stored session (token, account id, jurisdiction), read from IndexedDB."""
        return self.page.evaluate(
            """() => new Promise((resolve, reject) => {
                 const open = indexedDB.open("civicloop");
                 open.onerror = () => reject(open.error);
                 open.onsuccess = () => {
                   const get = open.result.transaction("kv").objectStore("kv").get("session");
                   get.onsuccess = () => resolve(get.result);
                   get.onerror = () => reject(get.error);
                 };
               })"""
        )

    def offline(self, offline: bool = True) -> None:
        self.context.set_offline(offline)

    def wait_for_service_worker(self) -> None:
        self.page.wait_for_function(
            "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
        )

    # -- checks ----------------------------------------------------------------------------------

    def check_accessibility(self, *, context: str = "") -> None:
        """axe-core, WCAG 2.0/2.1 A and AA, on the whole page; no CSP violation, no page error."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE)  # evaluated by the DevTools protocol: the page's CSP does not apply
        result = self.page.evaluate(
            "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact,"
            " help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': '"
            " + (n.failureSummary || '').slice(0, 300))})); }",
            WCAG,
        )
        csp = self.page.evaluate("window.__cspViolations || []")
        where = f"{self.page.url} ({self.language}) {context}"
        if result:
            raise AccessibilityError(f"axe violations on {where}:\n{json.dumps(result, indent=1)}")
        if csp:
            raise AccessibilityError(f"Content-Security-Policy violations on {where}: {csp}")
        if self.errors:
            raise AccessibilityError(f"script errors on {where}: {self.errors}")
