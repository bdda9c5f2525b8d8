"""A rep is refused the marketer and admin pages, with a friendly page; every main page passes
axe-core with no serious or critical violation."""

from __future__ import annotations

import pytest

from tests.support.browser import axe_violations, sign_in, sign_out

pytestmark = pytest.mark.browser

MARKETER_PAGES = ["/analytics", "/analytics/gaps", "/analytics/funnel", "/analytics/feedback",
                  "/library/upload", "/library/review"]


def test_rep_is_refused_marketer_pages(page, live_server):
    sign_in(page, "rep")
    assert page.get_by_role("link", name="Analytics").count() == 0
    for path in MARKETER_PAGES + ["/settings"]:
        response = page.goto(path)
        assert response.status == 403, path
        assert page.get_by_role("heading", name="Not for your role").is_visible()
    assert axe_violations(page) == []


A11Y_PAGES = ["/deals", "/deals/opp-stuck", "/library", "/library?q=freight+costs",
              "/library/assets/roi", "/analytics/funnel", "/analytics/feedback",
              "/library/review?list=auto", "/settings", "/settings/rules", "/settings/users",
              "/settings/api-keys"]


def test_main_pages_have_no_serious_accessibility_violations(page, live_server):
    page.goto("/login")
    found = {"/login": axe_violations(page)}
    sign_in(page, "admin")
    for path in A11Y_PAGES:
        page.goto(path)
        found[path] = axe_violations(page)
    assert {path: v for path, v in found.items() if v} == {}
    sign_out(page)
