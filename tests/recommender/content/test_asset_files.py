"""Discovery of asset files, front matter / sidecar validation, default id and title, hashing."""

from __future__ import annotations

from datetime import date

import pytest

from recommender.content.asset_files import (
    AssetFile,
    content_hash,
    default_id,
    discover,
    load_asset,
    parse_metadata,
)
from recommender.errors import MetadataError
from recommender.stage_config import load_stage_config
from tests.support.library_files import make_pdf

STAGES = load_stage_config()
MB = 1024 * 1024


def _meta(raw, default_id="d", default_title="T"):
    return parse_metadata(raw, stages=STAGES, default_asset_id=default_id,
                          default_title=default_title)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_discover_skips_hidden_underscore_and_sidecars(tmp_path):
    keep = [_write(tmp_path / "a.md", "a"), _write(tmp_path / "sub" / "b.txt", "b"),
            _write(tmp_path / "sub" / "c.pdf", "c")]
    _write(tmp_path / "sub" / "c.pdf.meta.yaml", "id: c")
    _write(tmp_path / ".hidden.md", "x")
    _write(tmp_path / ".git" / "x.md", "x")
    _write(tmp_path / "_drafts" / "d.md", "x")
    _write(tmp_path / "_notes.md", "x")
    files, missing = discover([tmp_path, tmp_path / "nope"])
    assert [f.path for f in files] == sorted(p.resolve() for p in keep)
    assert all(f.root == tmp_path.resolve() for f in files)
    assert missing == [(str(tmp_path / "nope"), "no such file or directory")]


def test_discover_single_file_root_is_its_folder(tmp_path):
    path = _write(tmp_path / "x" / "one.md", "hi")
    files, _ = discover([path, path])
    assert len(files) == 1 and files[0].root == path.parent.resolve()


def test_default_id_is_slug_of_relative_path(tmp_path):
    assert default_id(tmp_path / "Case Studies" / "North_Wind.md", tmp_path) == \
        "case-studies-north-wind"
    assert default_id(tmp_path / "deck.pptx", tmp_path) == "deck"


def test_full_metadata_is_validated_and_normalised():
    meta, given = _meta({
        "id": "cs-northwind", "title": "  How Northwind cut costs ", "type": "Case Study",
        "stage": " needs analysis ", "personas": ["CFO", "VP Operations"],
        "industries": "logistics, Food & Beverage, Mining", "products": ["Route Optimizer"],
        "url": "https://example.com/x", "expires": date(2027, 6, 30), "owner": "mia",
        "review_by": "2027-01-15",
    })
    assert meta.id == "cs-northwind" and meta.title == "How Northwind cut costs"
    assert meta.type == "case_study"
    assert meta.stage == "consideration"  # pipeline stage stored as its buying stage
    assert meta.personas == ["cfo", "operations"]  # a vocabulary label maps to its name
    assert meta.industries == ["logistics", "food-beverage", "mining"]  # free terms kept
    assert meta.products == ["route-optimizer"]
    assert meta.expires == date(2027, 6, 30) and meta.review_by == date(2027, 1, 15)
    assert "stage" in given and "personas" in given


def test_defaults_when_keys_absent():
    meta, given = _meta({}, default_id="blog-x", default_title="Blog X")
    assert (meta.id, meta.title, meta.type, meta.stage) == ("blog-x", "Blog X", None, None)
    assert given == set()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"colour": "red", "tags": []}, r"unknown keys 'colour', 'tags'; allowed: id, title"),
        ({"stage": "Evaluation"}, r"unknown stage 'Evaluation'; known stages: awareness"),
        ({"stage": "Closed Won"}, "closing pipeline stage"),
        ({"type": "podcast"}, r"unknown type 'podcast'; known types: blog_post"),
        ({"expires": "next june"}, r"expires 'next june' is not a date \(use YYYY-MM-DD\)"),
        ({"review_by": "2027-13-01"}, "review_by"),
        ({"id": "has space"}, "must start with a letter or digit"),
        ({"url": "javascript:alert(1)"}, "must start with http"),
        ({"personas": {"cfo": 1}}, "personas must be a list"),
        ({"title": ["a", "b"]}, "title must be a single value"),
    ],
)
def test_bad_metadata_names_key_and_problem(raw, reason):
    with pytest.raises(MetadataError, match=reason):
        _meta(raw)


def test_load_markdown_front_matter(tmp_path):
    path = _write(tmp_path / "posts" / "fuel.md",
                  "---\ntype: blog_post\npersonas: [cfo]\n---\n# Fuel waste\n\nIdling costs.")
    loaded = load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)
    assert loaded.metadata.id == "posts-fuel"
    assert loaded.metadata.title == "Fuel waste"
    assert loaded.metadata.type == "blog_post" and loaded.metadata.stage is None
    assert loaded.given == {"type", "personas"}
    assert loaded.content_hash == content_hash(path)


def test_default_title_falls_back_to_first_line_then_name(tmp_path):
    path = _write(tmp_path / "notes.txt", "\n\nFleet checklist for winter\nmore\n")
    loaded = load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)
    assert loaded.metadata.title == "Fleet checklist for winter"


def test_sidecar_for_binary_and_hash_covers_it(tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(make_pdf(["Payback in five months."]))
    before = content_hash(path)
    sidecar = _write(tmp_path / "brief.pdf.meta.yaml", "id: brief\nstage: decision\n")
    loaded = load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)
    assert (loaded.metadata.id, loaded.metadata.stage) == ("brief", "decision")
    assert loaded.content_hash == content_hash(path) != before
    sidecar.write_text("id: brief\nstage: awareness\n", encoding="utf-8")
    assert content_hash(path) != loaded.content_hash


def test_stem_sidecar_is_accepted(tmp_path):
    path = tmp_path / "deck.pdf"
    path.write_bytes(make_pdf(["x y z"]))
    _write(tmp_path / "deck.meta.yaml", "title: The deck\n")
    loaded = load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)
    assert loaded.metadata.title == "The deck"


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("id: [unclosed\n", r"front matter is not valid YAML at line \d+, column \d+"),
        ("- a\n- b\n", "front matter must be a YAML mapping"),
    ],
)
def test_bad_front_matter_yaml(tmp_path, front, reason):
    path = _write(tmp_path / "x.md", f"---\n{front}---\nBody text.\n")
    with pytest.raises(MetadataError, match=reason):
        load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)


def test_bad_sidecar_yaml_names_the_sidecar(tmp_path):
    path = _write(tmp_path / "x.txt", "Body text.")
    _write(tmp_path / "x.txt.meta.yaml", "title: 'unterminated\n")
    with pytest.raises(MetadataError, match="sidecar x.txt.meta.yaml is not valid YAML"):
        load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=MB)


def test_oversized_file_refused_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 1000)
    with pytest.raises(Exception, match="BATON_MAX_FILE_MB"):
        load_asset(AssetFile(path, tmp_path), stages=STAGES, max_bytes=1000)
