"""The library commands: ingest, search, reembed, tags review / confirm."""

from __future__ import annotations

import json

import pytest

from web.cli import main


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "content"
    _write(root / "fuel.md", "---\ntype: blog_post\n---\n# Idling wastes fuel\n\nIdle trucks "
           "burn a gallon of diesel an hour.")
    _write(root / "soc2.md", "---\nid: soc2\ntype: security_review\nstage: decision\n---\n"
           "# SOC 2\n\nAES-256 encryption at rest and SAML single sign-on.")
    return root


def test_ingest_summary_then_idempotent(runner, folder):
    result = runner.invoke(main, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert "new 2, updated 0, unchanged 0, retired 0, failed 0" in result.stdout
    again = runner.invoke(main, ["ingest", str(folder)])
    assert again.exit_code == 0
    assert "new 0, updated 0, unchanged 2, retired 0, failed 0" in again.stdout


def test_ingest_failures_one_line_each_and_exit_1(runner, folder):
    _write(folder / "bad.md", "---\nstage: someday\n---\nBody")
    (folder / "latin.txt").write_bytes("na\u00efve".encode("latin-1"))
    result = runner.invoke(main, ["ingest", str(folder)])
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("error: ") and "bad.md: unknown stage 'someday'" in errors[0]
    assert "latin.txt: not UTF-8 (byte 0xef at offset 2)" in errors[1]
    assert "Traceback" not in result.output
    assert "new 2, updated 0, unchanged 0, retired 0, failed 2" in result.stdout


def test_ingest_prune(runner, folder):
    runner.invoke(main, ["ingest", str(folder)])
    (folder / "fuel.md").unlink()
    result = runner.invoke(main, ["ingest", str(folder), "--prune"])
    assert "retired 1" in result.stdout and result.exit_code == 0


def test_search_text_and_json(runner, folder):
    runner.invoke(main, ["ingest", str(folder)])
    text = runner.invoke(main, ["search", "diesel idle trucks"])
    assert text.exit_code == 0 and text.stdout.splitlines()[0].split()[2] == "fuel"
    result = runner.invoke(main, ["search", "encryption", "--stage", "Proposal/Price Quote",
                                  "--json", "--k", "5"])
    doc = json.loads(result.stdout)
    assert doc["hits"][0]["asset_id"] == "soc2" and "SAML" in doc["hits"][0]["passage"]
    assert {h["stage"] for h in doc["hits"]} == {"decision"}
    typed = json.loads(runner.invoke(main, ["search", "fuel", "--type", "blog_post",
                                            "--json"]).stdout)
    assert [h["asset_id"] for h in typed["hits"]] == ["fuel"]
    bad = runner.invoke(main, ["search", "x", "--stage", "Purchase"])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: unknown stage 'Purchase'")


def test_tags_review_and_confirm(runner, folder):
    runner.invoke(main, ["ingest", str(folder)])
    review = runner.invoke(main, ["tags", "review", "--threshold", "1", "--json"])
    doc = json.loads(review.stdout)
    assert [a["asset_id"] for a in doc["assets"]] == ["fuel"]
    confirm = runner.invoke(main, ["tags", "confirm", "fuel", "--stage", "awareness"])
    assert confirm.exit_code == 0 and "fuel: stage awareness (confirmed)" in confirm.stdout
    after = runner.invoke(main, ["tags", "review", "--threshold", "1"])
    assert "no low-confidence auto tags" in after.stdout
    missing = runner.invoke(main, ["tags", "confirm", "nope"])
    assert missing.exit_code == 1 and "no asset with id 'nope'" in missing.stderr


def test_reembed_after_model_switch(runner, cli_env, folder):
    runner.invoke(main, ["ingest", str(folder)])
    env = {**cli_env, "BATON_EMBEDDING_MODEL": "baton-hashing-64"}
    refused = runner.invoke(main, ["search", "fuel"], env=env)
    assert refused.exit_code == 1 and "run `baton reembed`" in refused.stderr
    result = runner.invoke(main, ["reembed"], env=env)
    assert result.exit_code == 0 and "re-embedded 2 assets with baton-hashing-64" in result.stdout
    assert runner.invoke(main, ["search", "fuel"], env=env).exit_code == 0
