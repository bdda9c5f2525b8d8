"""Drive the real app in Debian's Chromium through Playwright: the live server, the launch
settings, signing in and out, and the axe-core accessibility check.

Shared by the browser tests and ``scripts/screenshots.py``. Playwright never downloads a
browser here: it drives ``/usr/bin/chromium`` (``apt-get install chromium``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import make_server

from recommender.content.embedding import HashingEmbedder
from tests.support import ui as ui_support
from web import create_app
from web.runtime import Baton

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe.min.js"


def launch_chromium(playwright):
    """Launch Debian's Chromium (never a downloaded one) with the settings every run uses."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


class LiveServer:
    """The real app served by werkzeug in a thread on a free loopback port."""

    def __init__(self, config: dict):
        self.app = create_app(config, embedder=HashingEmbedder())
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def baton(self) -> Baton:
        return self.app.extensions["baton"]

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.baton.close()


def sign_in(page, role: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(ui_support.EMAILS[role])
    page.get_by_label("Password").fill(ui_support.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, f"sign-in as {role} failed"


def sign_out(page) -> None:
    """Sign out with the header's button."""
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/login")


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page; return the violations of the given impacts."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in impacts]
