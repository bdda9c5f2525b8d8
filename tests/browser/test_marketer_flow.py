"""A marketer uploads a PDF, corrects its tag, reads the analytics and downloads the review."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from models import Asset
from tests.support.browser import axe_violations, sign_in

pytestmark = pytest.mark.browser


def _pdf_bytes() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, "Security review for procurement. SOC 2 Type II report, encryption at "
                         "rest and in transit, single sign-on, access control and data privacy "
                         "answers for the security questionnaire before the contract is signed.")
    return bytes(pdf.output())


def test_marketer_uploads_a_pdf_by_drag_and_drop_and_corrects_its_tag(page, live_server):
    sign_in(page, "marketer")
    page.get_by_role("link", name="Upload content").click()
    page.wait_for_url("**/library/upload")
    data = base64.b64encode(_pdf_bytes()).decode()
    page.evaluate("""(data) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const file = new File([bytes], "security-review.pdf", {type: "application/pdf"});
        const transfer = new DataTransfer();
        transfer.items.add(file);
        const zone = document.querySelector("[data-dropzone]");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true,
                                                  cancelable: true}));
    }""", data)
    assert page.locator(".dropname").inner_text() == "security-review.pdf"
    page.get_by_label("Title").fill("Security review (browser test)")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"/library/assets/"))
    asset_id = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("heading", name="Security review (browser test)").is_visible()
    badge = page.locator("#stage-value .tag.auto")
    assert badge.inner_text() == "auto-tagged, needs review"
    tagged = page.locator("#stage-value .tag").first.inner_text()
    correction = next(s for s in ("awareness", "consideration", "decision") if s != tagged)
    page.locator(".stage-fix").get_by_role("button", name=correction.title()).click()
    page.get_by_text(f"Buying stage set to {correction}.").wait_for()
    assert page.locator("#stage-value .tag.auto").count() == 0
    with live_server.baton.session() as session:
        asset = session.get(Asset, asset_id)
        assert (asset.stage, asset.stage_source, asset.media_type) == (
            correction, "confirmed", "application/pdf")
    assert axe_violations(page) == []


def test_marketer_reads_influence_and_gaps_and_downloads_the_review(page, live_server):
    sign_in(page, "marketer")
    page.get_by_role("link", name="Analytics").click()
    page.wait_for_url("**/analytics")
    plot = page.locator("svg#forest-plot")
    assert plot.is_visible()
    assert plot.locator("line.zero").count() == 1
    table = page.locator("table.influence")
    assert table.locator("tbody tr").count() >= 1
    verdicts = set(table.locator(".verdict").all_inner_texts())
    assert verdicts and verdicts <= {"helps", "hurts", "no evidence", "not enough data"}
    assert axe_violations(page) == []

    page.get_by_role("link", name="Gaps").click()
    page.wait_for_url("**/analytics/gaps")
    heatmap = page.locator("#gaps-heatmap")
    assert heatmap.locator('th[scope="row"]').count() == 3
    everyone = heatmap.inner_text()
    page.get_by_label("Industry").select_option("retail")
    page.wait_for_url(re.compile(r"industry=retail"))
    assert page.locator("#gaps-heatmap").inner_text() != everyone
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.get_by_role("link", name="Markdown").click()
    download = info.value
    assert download.suggested_filename == "baton-quarterly-review.md"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.lstrip().startswith("#")
