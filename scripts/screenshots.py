"""Take a screenshot of each main page into docs/screenshots/ (Debian's Chromium, Playwright).

Builds a throw-away demo database (the sample library, a simulated CRM history and a trained
model) with the hashing embedder, serves the real app on a loopback port and signs in as each
role. Never lets Playwright download a browser of its own.

    python scripts/screenshots.py [--out docs/screenshots] [--deals 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from recommender.content.embedding import HashingEmbedder  # noqa: E402
from tests.support import ui as ui_support  # noqa: E402
from tests.support.browser import CHROMIUM, LiveServer, launch_chromium, sign_in  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.demo import build_demo  # noqa: E402

PAGES = [
    # file name, role, path
    ("deal-desk", "rep", "/deals"),
    ("deal", "rep", None),  # the first stuck deal, found at run time
    ("library", "rep", "/library"),
    ("library-search", "rep", "/library?q=cut+freight+costs+for+a+CFO"),
    ("asset", "marketer", None),  # the first search hit
    ("upload", "marketer", "/library/upload"),
    ("review", "marketer", "/library/review?list=auto"),
    ("analytics-influence", "marketer", "/analytics"),
    ("analytics-gaps", "marketer", "/analytics/gaps"),
    ("analytics-funnel", "marketer", "/analytics/funnel"),
    ("analytics-feedback", "marketer", "/analytics/feedback"),
    ("settings", "admin", "/settings"),
    ("settings-api-keys", "admin", "/settings/api-keys"),
    ("forbidden", "rep", "/analytics"),
]


def build(root: Path, deals: int) -> dict:
    """Build the demo database under ``root``; return the app config."""
    config = {"instance_path": str(root / "instance"),
              "database_url": f"sqlite:///{root / 'demo.db'}",
              "embedding_model": "baton-hashing", "secret_key": "screenshots"}
    baton = Baton(Settings(**config), embedder=HashingEmbedder())
    build_demo(echo=print, baton=baton, n_opportunities=deals)
    ui_support.add_users(baton)
    baton.close()
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--deals", type=int, default=400)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(build(Path(tmp), args.deals))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                shoot(browser, server, out)
                browser.close()
        finally:
            server.stop()


def shoot(browser, server: LiveServer, out: Path) -> None:
    """Visit each page as its role and save a full-page PNG."""
    pages: dict[str, object] = {}
    for role in ("rep", "marketer", "admin"):
        context = browser.new_context(base_url=server.url, locale="en-US",
                                      viewport={"width": 1280, "height": 800})
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(server.url) else route.abort())
        page = context.new_page()
        page.goto("/login")
        if role == "rep":
            page.screenshot(path=str(out / "sign-in.png"))
        sign_in(page, role)
        pages[role] = page
    for name, role, path in PAGES:
        page = pages[role]
        if name == "deal":
            page.goto("/deals?stuck=1")
            links = page.locator("table.deals tbody a")
            path = links.first.get_attribute("href") if links.count() else "/deals"
        if name == "asset":
            page.goto("/library?q=cut+freight+costs+for+a+CFO")
            path = page.locator(".cards a").first.get_attribute("href")
        page.goto(path)
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)
        print(f"{name}.png  {path}")


if __name__ == "__main__":
    main()
