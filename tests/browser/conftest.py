"""Browser tests: the real app on a loopback port, driven by Debian's Chromium via Playwright.

Playwright never downloads a browser here: it drives ``/usr/bin/chromium`` (``apt-get
install chromium``). Every test saves a screenshot into tests/browser/screenshots/ when it fails.
The live server, the launch settings and the page helpers are in tests/support/browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.content.embedding import HashingEmbedder
from tests.support import ui as ui_support
from tests.support.browser import CHROMIUM, LiveServer, launch_chromium
from web.config import Settings
from web.runtime import Baton
from web.services.content.ingest import ingest_paths

CONTENT_LIBRARY = Path(__file__).resolve().parents[2] / "content_library"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_collection_modifyitems(config, items):
    reason = None
    if not CHROMIUM.exists():
        reason = f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "browser tests skipped: the playwright package is not installed"
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def build_site(root: Path) -> dict:
    """Create a database with users, a small library and a CRM history; return app config."""
    config = {"instance_path": str(root / "instance"),
              "database_url": f"sqlite:///{root / 'baton.db'}",
              "embedding_model": "baton-hashing", "secret_key": "browser-test-secret"}
    baton = Baton(Settings(**config), embedder=HashingEmbedder())
    baton.init_database()
    ui_support.add_users(baton)
    ui_support.add_library(baton)
    ui_support.add_deals(baton)
    if CONTENT_LIBRARY.is_dir():
        report = ingest_paths(baton, [CONTENT_LIBRARY])
        assert report.ok, report.summary()
    baton.close()
    return config


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(build_site(tmp_path_factory.mktemp("site")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request, live_server):
    # bypass_csp lets axe-core be injected; the app's own pages never need it.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True,
                                  accept_downloads=True, locale="en-GB",
                                  timezone_id="Europe/Paris")
    context.set_default_timeout(15000)
    # Assets link to outside sites; nothing may leave the machine, so answer those locally.
    def outside(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            route.fulfill(status=200, content_type="text/html",
                          body="<title>asset</title><p>the shared asset</p>")

    context.route("**/*", outside)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
