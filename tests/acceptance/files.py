"""Builders for a content folder with every contract file kind (generated, never committed)."""

from __future__ import annotations

from pathlib import Path

import yaml

TYPES = ("blog_post", "ebook", "whitepaper", "analyst_report", "webinar", "infographic",
         "case_study", "datasheet", "demo_video", "comparison", "battlecard", "roi_calculator",
         "pricing_sheet", "security_review", "implementation_plan", "proposal_template",
         "testimonial", "faq")

PARA = ("Our refrigerated fleet telemetry cut spoilage for a dairy cooperative. Drivers see "
        "temperature alerts on their phones and dispatch reroutes trucks before loads warm up. ")


def _sidecar(path: Path, meta: dict, full_name: bool = False) -> None:
    """Write ``stem.meta.yaml`` (or ``name.ext.meta.yaml`` with ``full_name``) beside ``path``."""
    name = path.name if full_name else path.stem
    path.with_name(name + ".meta.yaml").write_text(
        yaml.safe_dump(meta), encoding="utf-8")


def write_pdf(path: Path, text: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def write_docx(path: Path, text: str) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading("Security answers", level=1)
    doc.add_paragraph(text)
    doc.save(str(path))


def write_pptx(path: Path, text: str) -> None:
    from pptx import Presentation

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "Rollout in ninety days"
    slide.placeholders[1].text = text
    prs.save(str(path))


def build_library(root: Path) -> dict[str, dict]:
    """Write one file of each kind under ``root``; return the expected metadata by asset id."""
    root.mkdir(parents=True, exist_ok=True)
    expect: dict[str, dict] = {}
    (root / "stories").mkdir()
    (root / "stories" / "dairy.md").write_text(
        "---\nid: cs-dairy-coop\ntitle: How a dairy co-op cut spoilage 31%\ntype: case_study\n"
        "stage: Consideration\npersonas: [operations, cfo]\nindustries: [food-beverage]\n"
        "products: [cold-watch]\nurl: https://example.org/dairy\nexpires: 2099-12-31\n---\n"
        f"# Dairy\n\n{PARA * 6}\n", encoding="utf-8")
    expect["cs-dairy-coop"] = {
        "type": "case_study", "stage": "consideration", "stage_source": "given",
        "title": "How a dairy co-op cut spoilage 31%", "url": "https://example.org/dairy",
        "personas": ["operations", "cfo"], "products": ["cold-watch"]}
    write_pdf(root / "pricing.pdf", "Editions, tiers, list prices and volume discounts. " * 20)
    _sidecar(root / "pricing.pdf", {"id": "price-2026", "title": "2026 price list",
                                    "type": "pricing_sheet", "stage": "decision"})
    expect["price-2026"] = {"type": "pricing_sheet", "stage": "decision", "stage_source": "given"}
    write_docx(root / "soc2.docx", "SOC 2 Type II, encryption at rest, SSO, access reviews. " * 15)
    _sidecar(root / "soc2.docx", {"id": "soc2-answers", "title": "SOC 2 answers",
                                  "type": "security_review", "stage": "decision"}, full_name=True)
    expect["soc2-answers"] = {"type": "security_review", "stage": "decision"}
    write_pptx(root / "rollout.pptx", "Phase one pilot, phase two depots, phase three all sites.")
    _sidecar(root / "rollout.pptx", {"id": "rollout-deck", "title": "Rollout plan",
                                     "type": "implementation_plan"})
    expect["rollout-deck"] = {"type": "implementation_plan", "stage_source": "auto"}
    (root / "trends.html").write_text(
        "<html><head><title>Cold chain trends 2026</title></head><body><article><h1>Cold chain "
        f"trends</h1><p>{PARA * 5}</p><p>Industry research on why change now.</p></article>"
        "</body></html>", encoding="utf-8")
    (root / "Notes On Routing.txt").write_text(
        "Frequently asked questions about route planning.\n\n" + PARA * 4, encoding="utf-8")
    (root / "old-promo.md").write_text(
        "---\nid: old-promo\ntitle: Expired spring promo\ntype: pricing_sheet\nstage: decision\n"
        f"expires: 2020-01-31\n---\n{PARA * 3}\n", encoding="utf-8")
    expect["old-promo"] = {"type": "pricing_sheet", "expired": True}
    types_dir = root / "all-types"
    types_dir.mkdir()
    for atype in TYPES:
        (types_dir / f"{atype}.md").write_text(
            f"---\nid: t-{atype.replace('_', '-')}\ntitle: A {atype}\ntype: {atype}\n"
            f"stage: awareness\n---\n{PARA * 2}\n", encoding="utf-8")
        expect[f"t-{atype.replace('_', '-')}"] = {"type": atype}
    return expect
