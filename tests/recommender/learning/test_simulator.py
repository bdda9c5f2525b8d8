"""The simulator: reproducible worlds in the baton CSV contract, with the traps of real data."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import numpy as np
import pytest

from recommender.domain import EVENT_TYPES
from recommender.errors import ValidationError
from recommender.learning.simulator import simulate_world
from recommender.learning.simulator_files import (
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    write_world,
)
from recommender.stage_config import load_stage_config


@pytest.fixture(scope="module")
def world():
    return simulate_world(5, n_opportunities=800)


def test_same_seed_same_world_other_seed_differs():
    a = simulate_world(3, n_opportunities=150)
    b = simulate_world(3, n_opportunities=150)
    c = simulate_world(4, n_opportunities=150)
    assert a.events == b.events and a.stage_history == b.stage_history
    assert a.truth == b.truth
    assert a.events != c.events


def test_rejects_empty_world():
    with pytest.raises(ValidationError, match="n_opportunities"):
        simulate_world(1, n_opportunities=0)


def test_write_world_follows_the_baton_csv_contract(world, tmp_path):
    out = write_world(world, tmp_path / "w")
    stages = load_stage_config(None)
    for name, cols in (("opportunities.csv", OPPORTUNITY_COLUMNS),
                       ("stage_history.csv", HISTORY_COLUMNS),
                       ("content_events.csv", EVENT_COLUMNS)):
        with open(out / name, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == cols
            rows = list(reader)
        assert rows, name
        if name == "opportunities.csv":
            assert {r["status"] for r in rows} == {"open", "won", "lost"}
            for r in rows:
                stages.pipeline_stage(r["stage"])  # every stage is a known Salesforce stage
                datetime.fromisoformat(r["created_at"])
        if name == "content_events.csv":
            assert {r["event_type"] for r in rows} == set(EVENT_TYPES)
            recs = [r for r in rows if r["event_type"] == "recommended"]
            props = np.array([float(r["propensity"]) for r in recs])
            assert ((props > 0) & (props <= 1)).all()
            assert len({r["event_id"] for r in rows}) == len(rows)
    md = sorted((out / "content").glob("*.md"))
    assert len(md) == len(world.assets)
    texts = {p.read_text() for p in md}
    assert len(texts) == len(md)  # distinct texts
    truth = json.loads((out / "truth.json").read_text())
    assert set(truth["assets"]) == {a["id"] for a in world.assets}
    for entry in truth["assets"].values():
        assert set(entry["effects"]) == {"awareness", "consideration", "decision"}


def test_world_has_the_traps(world):
    truth = world.truth["assets"]
    decoys = [a for a, t in truth.items() if t["decoy"]]
    assert decoys and all(truth[a]["effects"][truth[a]["stage"]] == 0.0 for a in decoys)
    # Strong reps share the decoys: the mean skill of decoy sharers is above the average sharer.
    shares = [e for e in world.events if e["event_type"] == "shared"]
    skill = world.reps
    decoy_skill = np.mean([skill[e["user"]] for e in shares if e["asset_id"] in decoys])
    other_skill = np.mean([skill[e["user"]] for e in shares if e["asset_id"] not in decoys])
    assert decoy_skill > other_skill
    # Assets that hurt when shared in too early a stage.
    assert any(t["effects"]["awareness"] < -0.03 for t in truth.values())
    # Rarely shared helpful assets.
    counts = {a: 0 for a in truth}
    for e in shares:
        if not e["stage"].startswith("Closed"):  # post-sale shares are not the rep's choice
            counts[e["asset_id"]] += 1
    rare = [a for a, t in truth.items() if t["role"] == "rare_helpful"]
    assert rare and max(counts[a] for a in rare) < np.median(list(counts.values()))
    # Segment effects, open (censored) deals and shares after the deal closed.
    assert any(t["segments"] for t in truth.values())
    opps = {o["opportunity_id"]: o for o in world.opportunities}
    assert sum(o["status"] == "open" for o in opps.values()) > 0
    post = [e for e in shares if opps[e["opportunity_id"]]["closed_at"]
            and e["occurred_at"] > opps[e["opportunity_id"]]["closed_at"]]
    assert post
    # A randomized share of recommendations: propensities below the deterministic top-3's.
    props = {float(e["propensity"]) for e in world.events if e["event_type"] == "recommended"}
    assert min(props) < 0.5 < max(props)


def test_open_deals_end_before_now_with_days_in_stage(world):
    end = world.end
    open_deals = [o for o in world.opportunities if o["status"] == "open"]
    entered = [datetime.fromisoformat(o["stage_entered_at"]) for o in open_deals]
    assert all(t <= end for t in entered)
    assert max((end - t).days for t in entered) > 7
    for e in world.events:
        assert datetime.fromisoformat(e["occurred_at"]) <= end


def test_takes_library_assets_and_end():
    assets = [{"id": f"lib-{i}", "type": "case_study", "stage": s, "personas": [],
               "industries": []} for i, s in enumerate(
                   ["awareness", "consideration", "decision"] * 4)]
    end = datetime(2027, 1, 15)
    w = simulate_world(2, n_opportunities=120, assets=assets, end=end)
    used = {e["asset_id"] for e in w.events}
    assert used <= {a["id"] for a in assets}
    assert w.end == end
    assert max(e["occurred_at"] for e in w.events) <= end.isoformat()
