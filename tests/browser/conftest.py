"""Real-browser tests: Playwright driving Debian's headless Chromium against ``live_server``.

Chromium is not downloaded by Playwright here: the tests launch ``/usr/bin/chromium`` with
flags that keep it from calling Google (the machine has no internet). When it is missing
the tests are skipped, unless CM_REQUIRE_SERVICES=1, in which case they fail.

Every test gets a fresh browser context (its own cookies) on the live server, and a
screenshot of its last page is saved to ``test-artifacts/browser/<test name>.png`` when it
ends, passed or failed.

Playwright's sync API keeps an asyncio loop marked as running in the main thread while the
browser is up, and Django refuses ORM calls under a running loop (SynchronousOnlyOperation).
The tests' own ORM work (building the world through the ``ingest`` command, the database
flush after each test) runs in that thread, so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while
the browser lives; browser tests are moved to the end of the session, and the browser is
closed when the last of them ends (package scope: under pytest-xdist a worker may run
other files after them), so that no other test runs alongside the loop or the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, service_missing

CHROMIUM = Path(os.environ.get("CM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
HERE = Path(__file__).resolve().parent
TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives Debian's headless Chromium (Playwright) against the live server; "
        "skipped when /usr/bin/chromium is absent unless CM_REQUIRE_SERVICES=1, then it fails",
    )


def _is_browser_test(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of this folder ``browser`` (they need PostgreSQL too: ``services``)
    and run them last, so that Playwright's loop never overlaps another test."""
    ours = [item for item in items if _is_browser_test(item)]
    for item in ours:
        for name in ("browser", "services"):
            if item.get_closest_marker(name) is None:
                item.add_marker(name)
    others = [item for item in items if not _is_browser_test(item)]
    items[:] = others + ours


@pytest.fixture(autouse=True)
def _web_urls(settings):
    """The site's URLs with the web app's pages mounted (see tests/apps/web/urls.py)."""
    settings.ROOT_URLCONF = "tests.apps.web.urls"


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One headless Chromium for the browser tests, closed after the last of them."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        service_missing(f"needs Chromium at {CHROMIUM} (Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("needs the playwright Python package (test extra)")

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # report why Chromium would not start
            service_missing(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class BrowserLog:
    """What the page did: every request URL, failed requests, console errors."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


def _artifact_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_") or "test"


@pytest.fixture
def page(browser, live_server, browser_log: BrowserLog, request: pytest.FixtureRequest):
    """A page in a fresh context on the live server; screenshot saved at the end."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("request", lambda r: browser_log.requests.append(r.url))
    page.on("requestfailed", lambda r: browser_log.failed.append(f"{r.url}: {r.failure}"))
    page.on(
        "console",
        lambda m: browser_log.console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: browser_log.console_errors.append(str(exc)))
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=ARTIFACTS / f"{_artifact_name(request.node.name)}.png", full_page=True)
    finally:
        context.close()


AXE = ROOT / "tests" / "assets" / "axe.min.js"  # axe-core 4.14.1, MPL-2.0 (docs/dependencies.md)


#: axe-core's tags for the success criteria of WCAG 2.2 levels A and AA (the target of
#: docs/languages.md, "Accessibility"); without them axe also runs its best practices.
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


def axe_start(page, tags: tuple[str, ...] = ()) -> None:
    """Start axe-core on the page as it is now, without waiting for it: several pages (in
    their own renderer processes) can then be checked at once; :func:`axe_found` waits."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the site's CSP (script-src 'self')
        # rightly refuses an injected <script>, and the test must not loosen it.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    # Only the violations are wanted: axe then keeps one node per passing rule instead of
    # all of them (its "resultTypes" option), several times faster on long tables.
    options = {"resultTypes": ["violations"]}
    if tags:
        options["runOnly"] = {"type": "tag", "values": list(tags)}
    page.evaluate("(options) => { window.__axeRun = window.axe.run(document, options); }", options)


def axe_found(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """The violations of ``impacts`` found by the run :func:`axe_start` began, each as
    ``rule (impact): help — first offending element``."""
    result = page.evaluate("async () => await window.__axeRun")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes'][0]['html'][:200]}"
        for v in result["violations"]
        if v.get("impact") in impacts
    ]


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core (every rule) on the page as it is now; the violations of ``impacts``."""
    axe_start(page)
    return axe_found(page, impacts)


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the current page."""
    found = axe_violations(page)
    assert not found, f"{page.url}:\n" + "\n".join(found)
