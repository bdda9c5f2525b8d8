"""The content-library service: ingest (idempotent, bad input, prune, model switch), tags,
uploads, the cached index and search."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from models import Asset, Passage
from recommender.content.embedding import HashingEmbedder
from recommender.errors import (
    ConflictError,
    ModelError,
    NotFoundError,
    UnknownStageError,
    ValidationError,
)
from tests.support.library_files import make_docx, make_pdf, make_pptx
from web.runtime import Baton
from web.services.content import editing, index
from web.services.content.ingest import ingest_paths, ingest_upload, reembed


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it was asked to encode."""

    def __init__(self, dimension: int = 256):
        super().__init__(dimension)
        self.texts = 0
        self.calls = 0

    def encode(self, texts, batch_size=32):
        self.calls += 1
        self.texts += len(texts)
        return super().encode(texts, batch_size)


def md(path, body, **front):
    lines = [f"{k}: {v}" for k, v in front.items()]
    text = ("---\n" + "\n".join(lines) + "\n---\n" if lines else "") + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def counting():
    return CountingEmbedder()


@pytest.fixture
def lib(baton, counting):
    baton._embedder = counting  # the runtime accepts an injected embedder
    return baton


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "library"
    md(root / "northwind.md", "# Northwind case study\n\nNorthwind cut freight costs 18% with "
       "route optimization across 240 trucks. Payback in five months.",
       id="cs-northwind", type="case_study", stage="consideration", personas="[cfo]",
       industries="[logistics]", url="https://example.com/northwind")
    md(root / "blog" / "fuel.md", "# Why idling wastes fuel\n\nIdle trucks burn a gallon an "
       "hour. Industry trends show fuel is a third of fleet cost.")
    md(root / "pricing.md", "# Pricing\n\nStarter edition $49 per vehicle per month, annual "
       "contract, volume discounts for procurement.", type="pricing_sheet", stage="decision")
    (root / "security.pdf").write_bytes(make_pdf(["SOC 2 Type II report, AES-256 encryption "
                                                  "at rest, TLS 1.3, SSO with SAML."]))
    (root / "security.pdf.meta.yaml").write_text("id: security-overview\ntype: security_review\n"
                                                 "stage: decision\n", encoding="utf-8")
    (root / "plan.docx").write_bytes(make_docx("Implementation plan", ["Week 1: kickoff."],
                                               [["Phase", "Weeks"], ["Pilot", "4"]]))
    (root / "deck.pptx").write_bytes(make_pptx([("Route Optimizer", "18% fewer miles",
                                                 "Ask about fuel spend")]))
    return root


def snapshot(baton):
    with baton.session() as s:
        return {a.id: (a.content_hash, a.title, a.stage, a.status, a.embedding, a.updated_at,
                       tuple(p.text for p in a.passages))
                for a in s.scalars(select(Asset))}


def test_ingest_folder_stores_assets_passages_and_vectors(lib, folder, counting):
    report = ingest_paths(lib, [folder])
    assert report.ok, report.failed
    assert sorted(report.new) == ["blog-fuel", "cs-northwind", "deck", "plan", "pricing",
                                  "security-overview"]
    assert report.summary() == "new 6, updated 0, unchanged 0, retired 0, failed 0"
    with lib.session() as s:
        asset = s.get(Asset, "cs-northwind")
        vector = np.frombuffer(asset.embedding, dtype=np.float32)
        assert vector.shape == (asset.embedding_dim,) == (256,)
        assert asset.embedding_model == counting.name
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
        assert (asset.stage, asset.stage_source, asset.stage_confidence) == (
            "consideration", "given", None)
        assert asset.personas == ["cfo"] and asset.url == "https://example.com/northwind"
        assert asset.passages and asset.passages[0].text.startswith("Northwind case study")
        pdf = s.get(Asset, "security-overview")
        assert pdf.media_type == "application/pdf" and "AES-256" in pdf.text
        deck = s.get(Asset, "deck")
        assert "Ask about fuel spend" in deck.text
        blog = s.get(Asset, "blog-fuel")
        assert blog.stage_source == "auto" and 0 < blog.stage_confidence <= 1
        assert blog.type_source == "auto" and blog.type
        assert blog.inferred.get("personas") is True


def test_reingest_unchanged_does_no_embedding_work(lib, folder, counting):
    ingest_paths(lib, [folder])
    before, calls = snapshot(lib), counting.calls
    report = ingest_paths(lib, [folder])
    assert len(report.unchanged) == 6 and not (report.new or report.updated)
    assert counting.calls == calls
    assert snapshot(lib) == before


def test_changed_file_is_reembedded_alone(lib, folder, counting):
    ingest_paths(lib, [folder])
    md(folder / "pricing.md", "# Pricing 2027\n\nStarter edition now $45 per vehicle.",
       type="pricing_sheet", stage="decision")
    texts = counting.texts
    report = ingest_paths(lib, [folder])
    assert report.updated == ["pricing"] and len(report.unchanged) == 5
    assert counting.texts - texts == 1  # one passage embedded, nothing else
    with lib.session() as s:
        asset = s.get(Asset, "pricing")
        assert "$45" in asset.text and [p.position for p in asset.passages] == [0]


def test_changed_sidecar_counts_as_change(lib, folder):
    ingest_paths(lib, [folder])
    (folder / "security.pdf.meta.yaml").write_text(
        "id: security-overview\ntype: security_review\nstage: consideration\n", encoding="utf-8")
    report = ingest_paths(lib, [folder])
    assert report.updated == ["security-overview"]
    with lib.session() as s:
        assert s.get(Asset, "security-overview").stage == "consideration"


def test_bad_files_fail_alone_and_change_nothing_stored(lib, folder, tmp_path):
    ingest_paths(lib, [folder])
    before = snapshot(lib)
    # Break existing files in every way, and add new bad ones.
    md(folder / "pricing.md", "Body", stage="Evaluation")
    md(folder / "northwind.md", "Body", id="cs-northwind", colour="red")
    (folder / "security.pdf").write_bytes(b"%PDF-1.7\n" + b"junk" * 50)
    (folder / "plan.docx").write_bytes(make_pdf(["a pdf in disguise"]))
    (folder / "blog" / "fuel.md").write_bytes("Caf\u00e9".encode("cp1252"))
    (folder / "locked.pdf").write_bytes(make_pdf(["secret"], password="pw"))
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    md(folder / "badyaml.md", "Body text", title="'unterminated")
    md(folder / "badtype.md", "Body text", type="podcast")
    md(folder / "baddate.md", "Body text", expires="soon")
    (folder / "big.txt").write_text("word " * 300_000, encoding="utf-8")
    md(folder / "good.md", "# A new good one\n\nFleet managers plan routes daily.")
    lib.settings.max_file_mb = 1.0
    report = ingest_paths(lib, [folder, tmp_path / "missing"])
    reasons = {path.split("/")[-1]: reason for path, reason in report.failed}
    assert report.new == ["good"] and not report.updated
    assert "unknown stage 'Evaluation'" in reasons["pricing.md"]
    assert "unknown key 'colour'" in reasons["northwind.md"]
    assert "corrupt PDF" in reasons["security.pdf"]
    assert "it is a pdf file" in reasons["plan.docx"]
    assert "not UTF-8 (byte 0xe9 at offset 3)" in reasons["fuel.md"]
    assert "encrypted" in reasons["locked.pdf"]
    assert "empty" in reasons["empty.md"]
    assert "unsupported file type (.png)" in reasons["image.png"]
    assert "not valid YAML" in reasons["badyaml.md"]
    assert "unknown type 'podcast'" in reasons["badtype.md"]
    assert "not a date" in reasons["baddate.md"]
    assert "BATON_MAX_FILE_MB" in reasons["big.txt"]
    assert reasons["missing"] == "no such file or directory"
    assert len(report.failed) == 13 and not report.ok
    after = snapshot(lib)
    assert {k: v for k, v in after.items() if k != "good"} == before


def test_duplicate_ids_name_both_files_and_reject_the_later(lib, tmp_path):
    root = tmp_path / "dup"
    md(root / "a.md", "First text about routes.", id="same")
    md(root / "b.md", "Second text about fleets.", id="same")
    report = ingest_paths(lib, [root])
    assert report.new == ["same"]
    [(path, reason)] = report.failed
    assert path.endswith("b.md") and "duplicate id 'same'" in reason and "a.md" in reason
    with lib.session() as s:
        assert "First text" in s.get(Asset, "same").text


def test_duplicate_of_an_already_stored_file_is_rejected(lib, tmp_path):
    md(tmp_path / "one" / "a.md", "Original text.", id="same")
    ingest_paths(lib, [tmp_path / "one"])
    md(tmp_path / "two" / "b.md", "Impostor text.", id="same")
    report = ingest_paths(lib, [tmp_path / "two"])
    assert "duplicate id 'same'" in report.failed[0][1] and "a.md" in report.failed[0][1]
    with lib.session() as s:
        assert s.get(Asset, "same").text == "Original text."


def test_prune_retires_assets_whose_files_are_gone(lib, folder):
    ingest_paths(lib, [folder])
    (folder / "deck.pptx").unlink()
    assert ingest_paths(lib, [folder]).retired == []
    report = ingest_paths(lib, [folder], prune=True)
    assert report.retired == ["deck"]
    with lib.session() as s:
        assert s.get(Asset, "deck").status == "retired"
        assert s.get(Asset, "plan").status == "active"
    (folder / "deck.pptx").write_bytes(make_pptx([("Back", "again", "")]))
    assert ingest_paths(lib, [folder]).updated == ["deck"]
    with lib.session() as s:
        assert s.get(Asset, "deck").status == "active"


def test_model_switch_refuses_mixed_search_until_reembedded(lib, folder, settings):
    ingest_paths(lib, [folder])
    other = Baton(settings, embedder=HashingEmbedder(128))
    try:
        with other.session() as s, pytest.raises(ModelError, match="baton reembed"):
            index.search_assets(other, s, "fuel")
        report = ingest_paths(other, [folder / "pricing.md"])
        assert report.updated == ["pricing"]  # unchanged file, other model: re-embedded
        with other.session() as s, pytest.raises(ModelError, match="5 with"):
            index.search_assets(other, s, "fuel")
        done = reembed(other)
        assert len(done) == 5 and "pricing" not in done
        with other.session() as s:
            assert index.search_assets(other, s, "idling fuel")[0].asset_id == "blog-fuel"
            dims = set(s.scalars(select(Asset.embedding_dim)))
            assert dims == {128}
            assert {len(p.embedding) for p in s.scalars(select(Passage))} == {128 * 4}
    finally:
        other.close()


def test_search_filters_and_exclusions(lib, folder):
    md(folder / "old.md", "Expired fuel tax guide for idling trucks.", expires="2020-01-01")
    ingest_paths(lib, [folder])
    with lib.session() as s:
        hits = index.search_assets(lib, s, "idling trucks fuel", k=3)
        assert hits[0].asset_id == "blog-fuel" and "gallon" in hits[0].passage
        assert hits[0].score >= hits[-1].score and len(hits) == 3
        assert "old" not in [h.asset_id for h in index.search_assets(lib, s, "fuel", k=50)]
        decision = index.search_assets(lib, s, "encryption", stage="Negotiation/Review", k=50)
        assert {h.stage for h in decision} == {"decision"}
        assert [h.asset_id for h in index.search_assets(lib, s, "x", type="Case Study")] == \
            ["cs-northwind"]
        assert [h.asset_id for h in index.search_assets(lib, s, "x", persona="CFO / Finance",
                                                          industry="logistics")] == \
            ["cs-northwind"]
        editing.archive_asset(lib, s, "blog-fuel")
        assert "blog-fuel" not in [h.asset_id for h in index.search_assets(lib, s, "idling")]
        with pytest.raises(UnknownStageError, match="known stages"):
            index.search_assets(lib, s, "x", stage="Purchase")
        with pytest.raises(ValidationError, match="unknown type"):
            index.search_assets(lib, s, "x", type="podcast")
        with pytest.raises(ValidationError, match="empty"):
            index.search_assets(lib, s, "  ")


def test_index_is_cached_until_the_library_changes(lib, folder):
    ingest_paths(lib, [folder])
    with lib.session() as s:
        first = index.get_library_arrays(lib, s)
        assert index.get_library_arrays(lib, s) is first
        assert first.asset_vectors.shape == (6, 256)
        assert first.passage_vectors.shape[0] == len(first.passage_texts) == \
            first.passage_asset.shape[0]
        assert first.recommendable.all()
        editing.update_asset(lib, s, "deck", {"expires": date.today() - timedelta(days=1)})
        second = index.get_library_arrays(lib, s)
    assert second is not first
    assert not second.recommendable[second.position["deck"]]


def test_index_sees_changes_made_by_another_worker(lib, folder, settings):
    ingest_paths(lib, [folder])
    worker = Baton(settings, embedder=lib.embedder)
    try:
        with worker.session() as s:
            first = index.get_library_arrays(worker, s)
        with lib.session() as s:
            editing.delete_asset(lib, s, "plan")
        with worker.session() as s:
            assert "plan" not in index.get_library_arrays(worker, s).asset_ids
            assert "plan" in first.asset_ids
    finally:
        worker.close()


def test_review_queue_and_confirm(lib, folder):
    ingest_paths(lib, [folder])
    with lib.session() as s:
        queue = editing.review_queue(lib, s, threshold=1.01)
        ids = [item.asset_id for item in queue]
        assert "blog-fuel" in ids and "pricing" not in ids  # given tags are never listed
        confidences = [item.stage_confidence for item in queue]
        assert confidences == sorted(confidences)
        assert editing.review_queue(lib, s, threshold=0.0) == []
        asset = editing.confirm_stage(lib, s, "blog-fuel", "Prospecting")
        assert (asset.stage, asset.stage_source) == ("awareness", "confirmed")
        assert "blog-fuel" not in [i.asset_id for i in editing.review_queue(lib, s, 1.01)]
        with pytest.raises(NotFoundError):
            editing.confirm_stage(lib, s, "nope")
    # a confirmed stage survives a change of the file that gives no stage
    md(folder / "blog" / "fuel.md", "# Why idling wastes fuel\n\nNew numbers for 2027.")
    ingest_paths(lib, [folder])
    with lib.session() as s:
        asset = s.get(Asset, "blog-fuel")
        assert (asset.stage, asset.stage_source) == ("awareness", "confirmed")


def _labelled_library(root, per_stage):
    words = {"awareness": "trends research benchmark why change industry guide education",
             "consideration": "case study results ROI customer comparison proof evaluation",
             "decision": "pricing contract terms security proposal negotiation signature"}
    for stage, vocab in words.items():
        for i in range(per_stage):
            md(root / f"{stage}-{i}.md", f"{vocab} item {i} " + vocab.split()[i % 7] * 3,
               stage=stage, type="blog_post")


def test_classifier_takes_over_with_enough_labels(lib, tmp_path):
    _labelled_library(tmp_path / "lab", per_stage=12)
    md(tmp_path / "lab" / "unlabelled.md", "pricing contract terms proposal signature")
    report = ingest_paths(lib, [tmp_path / "lab"])
    assert report.tagging["n_labelled"] == 36
    assert set(report.tagging["cv_accuracy"]) == {"zero-shot", "logistic", "knn"}
    chosen = report.tagging["chosen"]
    assert report.tagging["cv_accuracy"][chosen] == max(report.tagging["cv_accuracy"].values())
    with lib.session() as s:
        asset = s.get(Asset, "unlabelled")
        assert asset.stage_source == "auto" and asset.stage == "decision"


def test_update_asset_validates_and_marks_given(lib, folder):
    ingest_paths(lib, [folder])
    with lib.session() as s:
        asset = editing.update_asset(lib, s, "blog-fuel", {
            "stage": "decision", "type": "FAQ", "personas": ["Fleet manager"],
            "title": "Idling FAQ"})
        assert (asset.stage_source, asset.type, asset.type_source) == ("given", "faq", "given")
        assert asset.personas == ["fleet-manager"] and "personas" not in asset.inferred
        with pytest.raises(ValidationError, match="cannot change 'id'"):
            editing.update_asset(lib, s, "blog-fuel", {"id": "x"})
        with pytest.raises(ValidationError, match="unknown stage"):
            editing.update_asset(lib, s, "blog-fuel", {"stage": "later"})
        with pytest.raises(ValidationError, match="not a date"):
            editing.update_asset(lib, s, "blog-fuel", {"expires": "tomorrow"})
        with pytest.raises(NotFoundError):
            editing.update_asset(lib, s, "missing", {"title": "x"})


def test_upload_is_stored_and_ingested(lib):
    data = make_docx("Fleet ROI worksheet", ["Savings of $1,200 per truck per year."])
    asset_id = ingest_upload(lib, "../../ROI sheet.docx", data,
                                     {"stage": "consideration", "type": "roi_calculator"})
    assert asset_id == "roi-sheet"
    stored = lib.settings.files_dir / "roi-sheet.docx"
    assert stored.read_bytes() == data
    with lib.session() as s:
        asset = s.get(Asset, "roi-sheet")
        assert asset.stored_file == "roi-sheet.docx" and asset.source_path is None
        assert "$1,200" in asset.text and asset.stage == "consideration"
    with pytest.raises(ConflictError):
        ingest_upload(lib, "ROI sheet.docx", data, {})
    with pytest.raises(Exception, match="unsupported file type"):
        ingest_upload(lib, "virus.exe", b"MZ", {})


def test_ingest_and_search_on_any_database(any_db_baton, folder):
    runtime = any_db_baton
    assert len(ingest_paths(runtime, [folder]).new) == 6
    assert len(ingest_paths(runtime, [folder]).unchanged) == 6
    with runtime.session() as s:
        hits = index.search_assets(runtime, s, "SOC 2 encryption SAML", k=2)
        assert hits[0].asset_id == "security-overview"


@pytest.mark.real_model
def test_real_model_finds_the_right_asset_by_meaning(tmp_path, settings):
    root = tmp_path / "real"
    md(root / "security.md", "# Protecting customer data\n\nAll records are encrypted at rest "
       "and in transit; we hold a SOC 2 Type II attestation and support single sign-on.",
       type="security_review")
    md(root / "drivers.md", "# Keeping drivers\n\nFleets that coach drivers with weekly "
       "scorecards see turnover fall by a third within a year.", type="blog_post")
    md(root / "pricing.md", "# Editions and prices\n\nStarter costs $49 per vehicle per month; "
       "Enterprise adds volume discounts on annual contracts.", type="pricing_sheet")
    settings.embedding_model = "all-MiniLM-L6-v2"
    runtime = Baton(settings)  # loads the packaged MiniLM weights, offline
    try:
        runtime.init_database()
        report = ingest_paths(runtime, [root])
        assert len(report.new) == 3
        with runtime.session() as s:
            assert index.get_library_arrays(runtime, s).asset_vectors.shape == (3, 384)
            queries = {"is our information safe from hackers": "security",
                       "how much will this cost us": "pricing",
                       "staff leaving the company": "drivers"}
            for query, expected in queries.items():
                assert index.search_assets(runtime, s, query, k=1)[0].asset_id == expected
            assert s.get(Asset, "pricing").stage == "decision"  # zero-shot with the type prior
    finally:
        runtime.close()
