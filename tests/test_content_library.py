"""The sample library in content_library/ meets the coverage rules of issue 2.

Reads the files with PyYAML / python-frontmatter and the extraction libraries only (never
Baton's ingest code), so these tests describe the library itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import frontmatter
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "content_library"
STAGES_YAML = REPO / "recommender" / "stages.yaml"
BUILD_SCRIPT = REPO / "scripts" / "build_sample_binaries.py"

# The library is written as of this date: "expired" and "future" are judged against it, so
# the tests do not change verdict as the calendar moves on.
LIBRARY_DATE = dt.date(2026, 11, 23)

CONTRACT_KEYS = {"id", "title", "type", "stage", "personas", "industries", "products", "url",
                 "expires"}
ALLOWED_KEYS = CONTRACT_KEYS | {"owner", "review_by"}
BINARY_EXTS = {".pdf", ".docx", ".pptx", ".html", ".txt"}
SIDECAR_SUFFIX = ".meta.yaml"
ID_PREFIX = {
    "case_study": "cs-", "whitepaper": "wp-", "blog_post": "bl-", "ebook": "eb-",
    "analyst_report": "ar-", "webinar": "wb-", "infographic": "ig-", "datasheet": "ds-",
    "demo_video": "dv-", "comparison": "cmp-", "battlecard": "bc-", "roi_calculator": "roi-",
    "pricing_sheet": "ps-", "security_review": "sec-", "implementation_plan": "ip-",
    "proposal_template": "pt-", "testimonial": "ts-", "faq": "faq-",
}
# Practitioners' map: which buying stages a type may be labelled with.
TYPE_STAGES = {
    "blog_post": {"awareness"}, "ebook": {"awareness"}, "infographic": {"awareness"},
    "whitepaper": {"awareness", "consideration"},
    "webinar": {"awareness", "consideration"},
    "analyst_report": {"awareness", "consideration"},
    "case_study": {"consideration", "decision"}, "testimonial": {"consideration", "decision"},
    "roi_calculator": {"consideration", "decision"}, "datasheet": {"consideration"},
    "demo_video": {"consideration"}, "comparison": {"consideration"},
    "faq": {"consideration", "decision"},
    "pricing_sheet": {"decision"}, "security_review": {"decision"},
    "implementation_plan": {"decision"}, "proposal_template": {"decision"},
    "battlecard": {"decision"},
}


def _vocab() -> dict[str, set[str]]:
    config = yaml.safe_load(STAGES_YAML.read_text(encoding="utf-8"))
    return {
        "stage": {s["name"] for s in config["buying_stages"]},
        "type": {t["name"] for t in config["asset_types"]},
        "personas": {p["name"] for p in config["personas"]},
        "industries": {i["name"] for i in config["industries"]},
        "products": {p["name"] for p in config["products"]},
    }


VOCAB = _vocab()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def _load_assets() -> list[dict]:
    """Every asset as {path, meta, text (Markdown body or None)}."""
    assets = []
    for path in sorted(LIBRARY.rglob("*")):
        if not path.is_file() or path.name.endswith(SIDECAR_SUFFIX):
            continue
        if path.suffix == ".md":
            post = frontmatter.load(str(path))
            assets.append({"path": path, "meta": dict(post.metadata), "text": post.content})
        elif path.suffix in BINARY_EXTS:
            sidecar = _sidecar(path)
            meta = {}
            if sidecar.exists():
                meta = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
            assets.append({"path": path, "meta": meta, "text": None})
    return assets


ASSETS = _load_assets()
LABELLED = [a for a in ASSETS if a["meta"].get("stage")]


def _where(asset: dict) -> str:
    return str(asset["path"].relative_to(REPO))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9$%.']+", text.lower())


def extract_binary_text(path: Path) -> str:
    """Plain text of a PDF, DOCX, PPTX (slides and notes), HTML main text or .txt file."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    if path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if path.suffix == ".pptx":
        from pptx import Presentation

        parts = []
        for slide in Presentation(str(path)).slides:
            parts += [s.text_frame.text for s in slide.shapes if s.has_text_frame]
            parts.append(slide.notes_slide.notes_text_frame.text)
        return "\n".join(parts)
    if path.suffix == ".html":
        import trafilatura

        return trafilatura.extract(path.read_text(encoding="utf-8")) or ""
    return path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- files and keys


def test_library_holds_only_asset_files_and_sidecars():
    allowed = BINARY_EXTS | {".md"}
    stray = [str(p.relative_to(REPO)) for p in LIBRARY.rglob("*") if p.is_file()
             and not p.name.endswith(SIDECAR_SUFFIX) and p.suffix not in allowed]
    assert stray == []
    for sidecar in LIBRARY.rglob("*" + SIDECAR_SUFFIX):
        stem = sidecar.name[: -len(SIDECAR_SUFFIX)]
        partners = [p for p in sidecar.parent.iterdir()
                    if p.stem == stem and p.suffix in BINARY_EXTS]
        assert len(partners) == 1, f"{sidecar}: no single binary named {stem}.*"


def test_at_least_ninety_assets():
    assert len(ASSETS) >= 90, f"only {len(ASSETS)} assets"


def test_binaries_exercise_every_extractor():
    counts = Counter(a["path"].suffix for a in ASSETS)
    for ext, minimum in {".pdf": 3, ".docx": 3, ".pptx": 3, ".html": 2, ".txt": 2}.items():
        assert counts[ext] >= minimum, f"{counts[ext]} {ext} files, want {minimum}"
    for asset in ASSETS:
        if asset["path"].suffix in {".pdf", ".docx", ".pptx", ".html"}:
            assert _sidecar(asset["path"]).exists(), f"{_where(asset)}: no sidecar"


@pytest.mark.parametrize("asset", ASSETS, ids=_where)
def test_front_matter_keys_and_values(asset):
    meta, where = asset["meta"], _where(asset)
    unknown = set(meta) - ALLOWED_KEYS
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
    if asset["path"].suffix == ".txt" and not meta:
        return  # metadata-free plain text: id from the path, title from the first line
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", meta["id"]), f"{where}: bad id {meta['id']!r}"
    assert isinstance(meta["title"], str) and len(meta["title"]) >= 10, where
    assert meta["url"] == f"https://waymark.example/resources/{meta['id']}", where
    for key in ("stage", "type"):
        if key in meta:
            assert meta[key] in VOCAB[key], f"{where}: unknown {key} {meta[key]!r}"
    for key in ("personas", "industries", "products"):
        if key in meta:
            values = meta[key]
            assert isinstance(values, list) and values, f"{where}: {key} must be a list"
            assert set(values) <= VOCAB[key], f"{where}: {key} {values} outside vocabulary"
    if "type" in meta:
        prefix = ID_PREFIX[meta["type"]]
        assert meta["id"].startswith(prefix), f"{where}: id should start with {prefix}"
    for key in ("expires", "review_by"):
        if key in meta:
            assert isinstance(meta[key], dt.date), f"{where}: {key} is not a date"
    if "owner" in meta:
        assert re.fullmatch(r"[a-z.]+@waymark\.example", meta["owner"]), where


def test_ids_are_unique():
    ids = Counter(a["meta"]["id"] for a in ASSETS if "id" in a["meta"])
    assert [i for i, n in ids.items() if n > 1] == []


# ----------------------------------------------------------------------------- texts


@pytest.mark.parametrize("asset", [a for a in ASSETS if a["text"] is not None], ids=_where)
def test_markdown_length(asset):
    n = len(asset["text"].split())
    assert 150 <= n <= 800, f"{_where(asset)}: {n} words"
    assert "lorem" not in asset["text"].lower()


@pytest.mark.parametrize("asset", [a for a in ASSETS if a["text"] is None], ids=_where)
def test_binary_text_is_real(asset):
    text = extract_binary_text(asset["path"])
    n = len(text.split())
    assert 200 <= n <= 700, f"{_where(asset)}: {n} words extracted"


def test_no_near_duplicate_texts():
    def shingles(text):
        words = _words(text)
        return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}

    texts = {_where(a): shingles(a["text"] if a["text"] is not None
                                 else extract_binary_text(a["path"])) for a in ASSETS}
    worst = max(((len(x & y) / len(x | y), p, q) for (p, x), (q, y)
                 in itertools.combinations(texts.items(), 2)))
    assert worst[0] < 0.3, f"near-duplicates: {worst}"


# ----------------------------------------------------------------------------- coverage


def test_every_stage_covers_every_persona_and_industry():
    for stage in sorted(VOCAB["stage"]):
        in_stage = [a["meta"] for a in LABELLED if a["meta"]["stage"] == stage]
        personas = {p for m in in_stage for p in m.get("personas", [])}
        industries = {i for m in in_stage for i in m.get("industries", [])}
        assert personas == VOCAB["personas"], f"{stage}: missing {VOCAB['personas'] - personas}"
        assert industries == VOCAB["industries"], (
            f"{stage}: missing {VOCAB['industries'] - industries}")
        types = {m["type"] for m in in_stage if "type" in m}
        assert len(types) >= 5, f"{stage}: only types {sorted(types)}"


def test_every_type_appears():
    types = {a["meta"]["type"] for a in ASSETS if "type" in a["meta"]}
    assert types == VOCAB["type"], f"missing {VOCAB['type'] - types}"


def test_types_follow_the_practitioners_map():
    for asset in LABELLED:
        meta = asset["meta"]
        if "type" in meta:
            assert meta["stage"] in TYPE_STAGES[meta["type"]], (
                f"{_where(asset)}: {meta['type']} labelled {meta['stage']}")


def test_construction_security_decision_is_a_real_gap():
    hits = [_where(a) for a in LABELLED if a["meta"]["stage"] == "decision"
            and "security" in a["meta"].get("personas", [])
            and "construction" in a["meta"].get("industries", [])]
    assert hits == []


# ----------------------------------------------------------------------------- inference demo


def test_about_a_quarter_carry_no_stage_spread_over_types():
    unlabelled = [a for a in ASSETS if not a["meta"].get("stage")]
    share = len(unlabelled) / len(ASSETS)
    assert 0.22 <= share <= 0.28, f"{len(unlabelled)}/{len(ASSETS)} = {share:.0%} unlabelled"
    assert len({a["meta"].get("type") for a in unlabelled}) >= 12
    assert len({a["path"].parent.name for a in unlabelled}) >= 10


def test_a_few_assets_leave_type_personas_or_industries_to_inference():
    no_type = [_where(a) for a in ASSETS if "type" not in a["meta"]]
    assert 3 <= len(no_type) <= 4, no_type
    partial = [_where(a) for a in ASSETS
               if "personas" not in a["meta"] or "industries" not in a["meta"]]
    assert 5 <= len(partial) <= 8, partial


def test_expiry_and_review_dates():
    expires = [a["meta"]["expires"] for a in ASSETS if "expires" in a["meta"]]
    past = [d for d in expires if d < LIBRARY_DATE]
    assert len(past) == 2, f"expired assets: {past}"
    assert len(expires) - len(past) >= 3
    with_review = sum("review_by" in a["meta"] for a in ASSETS)
    assert 0.28 <= with_review / len(ASSETS) <= 0.40, f"{with_review} with review_by"


# ----------------------------------------------------------------------------- binaries script


def test_build_script_reproduces_the_committed_binaries(tmp_path):
    # The script is run as its README says, never imported: it prints each path it wrote.
    built = subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(tmp_path)],
                           capture_output=True, text=True, check=True, timeout=300)
    written = [Path(line) for line in built.stdout.splitlines()]
    assert len(written) == 18
    for path in written:
        committed = LIBRARY / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: rebuild it"
