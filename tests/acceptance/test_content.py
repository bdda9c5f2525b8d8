"""Contract 2: a content folder of Markdown, PDF, DOCX, PPTX, HTML and text, with sidecars."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import Api, make_env, run_sh
from tests.acceptance.files import TYPES, build_library

VALID_TYPES = set(TYPES)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """One library of every file kind, ingested by the real ``baton ingest`` subprocess."""
    root = tmp_path_factory.mktemp("content")
    expect = build_library(root / "lib")
    env = make_env(root)
    res = run_sh(env, "ingest", str(root / "lib"))
    assert res.code == 0, res.stderr
    client = Api(env)
    yield expect, client, env
    client.close()


def _assets(api) -> dict[str, dict]:
    res = api.call("GET", "/api/v1/assets?status=all&per_page=100", role="rep")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["total"] == len(body["items"])
    return {a["id"]: a for a in body["items"]}


def test_every_file_kind_is_ingested_with_its_metadata(lib):
    expect, api, _ = lib
    assets = _assets(api)
    for asset_id, want in expect.items():
        assert asset_id in assets, (asset_id, sorted(assets))
        got = assets[asset_id]
        for key, value in want.items():
            if key == "expired":
                continue
            assert got[key] == value, (asset_id, key, got[key], value)
    # sidecars are metadata, never assets themselves
    assert not any("meta" in a for a in assets), sorted(assets)
    # 11 files + 18 types - (none twice) = every file is one asset
    assert len(assets) == len(expect) + 2
    # all 18 contract types accepted as given
    assert {assets[f"t-{t.replace('_', '-')}"]["type"] for t in TYPES} == VALID_TYPES


def test_defaults_id_slug_inferred_type_and_auto_stage(lib):
    _, api, _ = lib
    assets = _assets(api)
    # no front matter: id is the slug of the file path, type inferred, stage auto-tagged
    for asset_id in ("notes-on-routing", "trends"):
        assert asset_id in assets, sorted(assets)
        got = assets[asset_id]
        assert got["type"] in VALID_TYPES
        assert got["type_source"] != "given"
        assert got["stage"] in {"awareness", "consideration", "decision"}
        assert got["stage_source"] == "auto"
    assert assets["trends"]["title"] == "Cold chain trends 2026"
    # a sidecar without a stage: auto-tagged and flagged
    assert assets["rollout-deck"]["stage_source"] == "auto"


def test_same_file_name_in_two_folders_gets_two_ids(tmp_path, cli, api):
    for folder in ("emea", "apac"):
        (tmp_path / "lib" / folder).mkdir(parents=True)
        (tmp_path / "lib" / folder / "faq.md").write_text(
            f"# {folder} questions\n\nWhat does delivery cost in {folder}? It depends.\n",
            encoding="utf-8")
    res = cli("ingest", str(tmp_path / "lib"))
    assert res.code == 0, res.stderr
    assert len(_assets(api)) == 2, sorted(_assets(api))


def test_expired_asset_is_never_recommended(lib):
    _, api, env = lib
    put = api.call("PUT", "/api/v1/opportunities/EXP-1", json={
        "name": "Expiry check", "stage": "Negotiation/Review", "persona": "procurement",
        "industry": "food-beverage", "created_at": "2026-01-05T10:00:00"})
    assert put.status_code in (200, 201), put.get_json()
    seen = set()
    for _ in range(5):
        res = api.call("GET", "/api/v1/opportunities/EXP-1/recommendations?k=20", role="rep")
        assert res.status_code == 200, res.get_json()
        seen |= {item["asset_id"] for item in res.get_json()["recommendations"]}
    assert seen and "old-promo" not in seen
    res = run_sh(env, "recommend", "EXP-1", "--k", "20", "--json")
    assert res.code == 0, res.stderr
    assert "old-promo" not in {i["asset_id"] for i in res.json()["recommendations"]}


@pytest.mark.real_model
def test_real_model_infers_type_and_stage_of_untagged_files(tmp_path):
    """With the shipped embedding model, obvious files get sensible auto tags."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "price-list.md").write_text(
        "# Price list 2026\n\nEditions and tiers: Starter $49 per user per month, Growth $99, "
        "Enterprise on quote. Volume discounts from 100 seats, annual contract terms, payment "
        "net 30, renewal uplift capped at 5%.\n", encoding="utf-8")
    (lib / "trends.md").write_text(
        "# Five trends reshaping last-mile delivery\n\nAn educational blog post about industry "
        "trends: why customers expect same-day delivery, why fuel costs keep rising, and what "
        "best-practice operators are starting to think about. No product pitch.\n",
        encoding="utf-8")
    env = {**make_env(tmp_path), "BATON_EMBEDDING_MODEL": "all-MiniLM-L6-v2"}
    res = run_sh(env, "ingest", str(lib))
    assert res.code == 0, res.stderr
    client = Api(env)
    try:
        assets = _assets(client)
    finally:
        client.close()
    assert assets["price-list"]["stage"] == "decision"
    assert assets["price-list"]["type"] == "pricing_sheet"
    assert assets["trends"]["stage"] == "awareness"
    assert all(a["stage_source"] == "auto" for a in assets.values())


def test_bad_front_matter_is_reported_per_file_and_the_rest_ingested(tmp_path, cli, api):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "limbo.md").write_text("---\nstage: Limbo\n---\n# Limbo\n\nText.\n", encoding="utf-8")
    (lib / "brochure.md").write_text("---\ntype: brochure\n---\n# B\n\nText.\n",
                                     encoding="utf-8")
    (lib / "pipe.md").write_text("---\nstage: ' negotiation/review'\ntitle: Pipe\n---\nText.\n",
                                 encoding="utf-8")
    res = cli("ingest", str(lib))
    assert res.code != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    limbo = [ln for ln in lines if "limbo.md" in ln]
    assert len(limbo) == 1 and "Limbo" in limbo[0] and "decision" in limbo[0], res.stderr
    brochure = [ln for ln in lines if "brochure.md" in ln]
    assert len(brochure) == 1 and "brochure" in brochure[0] and "case_study" in brochure[0]
    assets = _assets(api)
    assert set(assets) == {"pipe"}
    # a pipeline stage name in front matter maps to its buying stage
    assert assets["pipe"]["stage"] == "decision" and assets["pipe"]["stage_source"] == "given"
