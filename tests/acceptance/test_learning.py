"""Contract 6 (learning sanity): on an independent world, true helpers beat a rep-driven decoy."""

from __future__ import annotations

from tests.acceptance.conftest import run_sh
from tests.acceptance.world import DECOY, HELPFUL


def test_helpful_assets_rank_above_decoy_in_influence_json(trained_world):
    res = run_sh(trained_world["env"], "influence", "--stage", "consideration", "--json")
    assert res.code == 0, res.stderr
    rows = {r["asset_id"]: r for r in res.json()["rows"]
            if r["buying_stage"] == "consideration" and not r.get("segment")}
    assert set(HELPFUL) | {DECOY} <= set(rows)
    for asset in HELPFUL:
        assert rows[asset]["effect"] is not None
        assert rows[asset]["effect"] > rows[DECOY]["effect"], (asset, rows[asset], rows[DECOY])
        assert rows[asset]["lower"] <= rows[asset]["effect"] <= rows[asset]["upper"]
        assert rows[asset]["support"] > 0
    assert rows[DECOY]["verdict"] != "helps", rows[DECOY]


def test_decoy_looks_good_naively_but_not_causally(trained_world):
    """The world is built so naive attribution favours the decoy: the learner must not."""
    res = run_sh(trained_world["env"], "influence", "--csv")
    assert res.code == 0, res.stderr
    import csv
    import io

    rows = [r for r in csv.DictReader(io.StringIO(res.stdout))
            if r["buying_stage"] == "consideration" and not r.get("segment")]
    by_id = {r["asset_id"]: r for r in rows}
    assert DECOY in by_id and all(a in by_id for a in HELPFUL)
    decoy_rate = float(by_id[DECOY]["win_rate_used"] or 0)
    others = [float(by_id[a]["win_rate_used"] or 0) for a in HELPFUL]
    # sanity of the world itself: the decoy's naive win rate is competitive
    assert decoy_rate > min(others) - 0.2
    order = sorted(rows, key=lambda r: -float(r["effect"] or -9))
    top = [r["asset_id"] for r in order[:2]]
    assert set(top) == set(HELPFUL), top
