"""The quarterly review: Markdown and CSV exports, and CSV cells that cannot run formulas."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.learning.analytics import HURTS, AssetInfo, gap_cells, influence_rows
from recommender.learning.review import (
    ReviewInput,
    csv_safe,
    review_csv,
    review_markdown,
    write_csv,
)
from tests.recommender.learning.estimates import STAGES, Estimate


@pytest.mark.parametrize("raw", ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_safe_neutralises_formulas(raw):
    assert csv_safe(raw) == "'" + raw


def test_csv_safe_keeps_numbers_and_plain_text():
    assert csv_safe(-0.25) == -0.25 and csv_safe(3) == 3 and csv_safe(None) == ""
    assert csv_safe("Case study") == "Case study"
    text = write_csv([["=cmd|' /C calc'!A0", -0.1]], ["title", "effect"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-0.1"]


def test_review_markdown_and_csv():
    assets = {"good": AssetInfo("good", "Good | piped", "case_study", "consideration"),
              "bad": AssetInfo("bad", "=evil()", "pricing_sheet", "decision")}
    estimates = [Estimate("good", "consideration", 0.08, 0.02, 0.14, 120),
                 Estimate("bad", "decision", -0.05, -0.09, -0.01, 60)]
    rows = influence_rows(estimates, assets, {}, STAGES)
    cells = gap_cells(assets.values(), STAGES, ["cfo"], ["retail"],
                      {(r.asset_id, r.buying_stage): r.verdict for r in rows})
    data = ReviewInput(stages=STAGES, influence=rows, gaps=cells,
                       requests=[{"need": "ROI calculator for retail CFOs",
                                  "buying_stage": "consideration", "persona": "cfo",
                                  "industry": None}],
                       generated_at=datetime(2026, 7, 1), period="2026 Q2")
    md = review_markdown(data)
    assert md.startswith("# Content review — 2026 Q2")
    assert "## Consideration" in md and "### What worked" in md
    assert "Good \\| piped" in md  # table cells escape pipes
    assert "+8.0%" in md and "Shown to hurt" in md
    assert "ROI calculator for retail CFOs (consideration · cfo · any)" in md
    assert "no asset" in md  # awareness has no asset at all
    table = list(csv.DictReader(io.StringIO(review_csv(data))))
    sections = {r["section"] for r in table}
    assert sections == {"influence", "gap"}
    bad = next(r for r in table if r["asset_id"] == "bad")
    assert bad["title"] == "'=evil()" and bad["verdict"] == HURTS
    assert float(bad["effect"]) == pytest.approx(-0.05)
    untrained = review_markdown(ReviewInput(stages=STAGES, influence=[], gaps=[],
                                            model_trained=False))
    assert "Model not trained" in untrained


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_csv_safe_never_leaves_a_formula_start(text):
    safe = csv_safe(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe.lstrip("'") == text.lstrip("'") or safe == "'" + text
