"""The outcome learner: recovers simulated effects, shrinks, serves posteriors, round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from recommender.errors import ModelError, NotFittedError, UnknownStageError, ValidationError
from recommender.learning.effects import ContentEffectModel, EffectEstimate
from recommender.learning.episodes import build_episodes
from recommender.learning.simulator import simulate_world
from recommender.stage_config import load_stage_config


@pytest.fixture(scope="module")
def world():
    return simulate_world(21, n_opportunities=1500)


@pytest.fixture(scope="module")
def fitted(world):
    ep = build_episodes(world.opportunities, world.stage_history, world.events,
                        load_stage_config(None), now=world.end)
    model = ContentEffectModel(random_state=0)
    out = model.fit(ep, asset_types={a["id"]: a["type"] for a in world.assets},
                    asset_stages={a["id"]: a["stage"] for a in world.assets})
    assert out is model
    return model


def pooled(model):
    return [e for e in model.effects_ if e.segment is None]


def test_recovers_true_effects_better_than_naive(world, fitted):
    truth = world.truth["assets"]
    est = pooled(fitted)
    true = [truth[e.asset_id]["effects"][e.buying_stage] for e in est]
    rho = spearmanr([e.effect for e in est], true)[0]
    naive = [(e.naive_rate or 0) - (e.naive_rate_unused or 0) for e in est]
    rho_naive = spearmanr(naive, true)[0]
    assert rho > 0.6
    assert rho > rho_naive + 0.4
    coverage = np.mean([e.lower <= t <= e.upper for e, t in zip(est, true, strict=True)])
    assert 0.7 <= coverage <= 1.0


def test_decoys_are_not_ranked_high(world, fitted):
    truth = world.truth["assets"]
    for stage in ("awareness", "consideration", "decision"):
        ranked = sorted((e for e in pooled(fitted) if e.buying_stage == stage),
                        key=lambda e: -e.effect)
        assert not [e.asset_id for e in ranked[:3] if truth[e.asset_id]["decoy"]], stage


def test_estimates_carry_intervals_support_and_naive_rates(fitted):
    est = pooled(fitted)
    assert all(isinstance(e, EffectEstimate) for e in fitted.effects_)
    assert all(e.lower <= e.effect <= e.upper for e in est)
    assert all(e.win_lower <= e.win_effect <= e.win_upper for e in est)
    assert any(e.support > 100 for e in est) and any(e.support < 10 for e in est)
    assert all(e.naive_rate is None or 0 <= e.naive_rate <= 1 for e in est)
    # Shrinkage pulls small-support estimates harder towards their prior.
    small = [e for e in est if e.raw_effect is not None and 5 <= e.support < 30]
    big = [e for e in est if e.raw_effect is not None and e.support > 200]
    pull = lambda e: abs(e.effect - e.raw_effect) / max(abs(e.prior_mean - e.raw_effect), 1e-9)  # noqa: E731
    assert np.mean([pull(e) for e in small]) > np.mean([pull(e) for e in big])


def test_posterior_shapes_context_and_cold_start(world, fitted):
    ids = [a["id"] for a in world.assets[:4]] + ["brand-new-asset"]
    mean, sd = fitted.posterior(ids, "Consideration")
    assert mean.shape == sd.shape == (5,)
    assert (sd > 0).all()
    # A new asset gets its type x stage prior; a type never seen gets the stage prior.
    m_type, s_type = fitted.prior("consideration", "case_study")
    m2, s2 = fitted.posterior(["brand-new-asset"], "consideration",
                              asset_types={"brand-new-asset": "case_study"})
    assert (m2[0], s2[0]) == pytest.approx((m_type, s_type))
    assert mean[-1] == pytest.approx(fitted.prior("consideration")[0])
    pooled_of = {(e.asset_id, e.buying_stage): e for e in pooled(fitted)}
    segs = [e for e in fitted.effects_ if e.segment]
    assert segs
    used = 0
    for seg in segs:
        kind, value = seg.segment.split("=", 1)
        base = pooled_of[(seg.asset_id, seg.buying_stage)]
        m3, s3 = fitted.posterior([seg.asset_id], seg.buying_stage, {kind: value})
        if abs(seg.effect - base.effect) > 1.645 * seg.sd:  # credibly different: used
            assert (m3[0], s3[0]) == pytest.approx((seg.effect, seg.sd))
            used += 1
        else:
            assert (m3[0], s3[0]) == pytest.approx((base.effect, base.sd))
    assert used < len(segs)
    with pytest.raises(UnknownStageError, match="purchase"):
        fitted.posterior(ids, "purchase")


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "model.json", extra={"run": 1})
    loaded = ContentEffectModel.load(path)
    ids = sorted({e.asset_id for e in fitted.effects_})[:10] + ["unseen"]
    for stage in ("awareness", "decision"):
        a, b = fitted.posterior(ids, stage), loaded.posterior(ids, stage)
        np.testing.assert_allclose(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1])
    assert loaded.version == fitted.version
    assert json.loads(path.read_text())["format"] == "baton-effects/1"


def test_load_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError):
        ContentEffectModel.load(bad)
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelError, match="artifact"):
        ContentEffectModel.load(bad)
    with pytest.raises(ModelError):
        ContentEffectModel.load(tmp_path / "missing.json")


def test_unfitted_contract():
    model = ContentEffectModel(random_state=3, min_support=7)
    assert model.get_params()["min_support"] == 7
    assert not hasattr(model, "effects_")
    with pytest.raises(NotFittedError):
        model.posterior(["a"], "awareness")
    with pytest.raises(NotFittedError):
        model.save("x.json")
    with pytest.raises(ValidationError):
        model.fit([{"not": "episodes"}])


def test_fit_without_any_share_serves_neutral_priors():
    w = simulate_world(4, n_opportunities=200)
    no_shares = [e for e in w.events if e["event_type"] != "shared"]
    ep = build_episodes(w.opportunities, w.stage_history, no_shares, load_stage_config(None),
                        now=w.end)
    model = ContentEffectModel(random_state=0).fit(ep)
    assert model.effects_ == []
    mean, sd = model.posterior(["anything"], "decision")
    assert mean[0] == pytest.approx(0.0) and sd[0] > 0


def test_segment_estimate_used_only_when_it_credibly_differs(fitted):
    data = fitted.to_dict()
    base = dict(data["effects"][0], segment=None, effect=0.02, sd=0.01)
    strong = dict(base, segment="industry=retail", effect=0.15, sd=0.03)
    weak = dict(base, segment="persona=cfo", effect=0.04, sd=0.03)
    data["effects"] = [base, strong, weak]
    model = ContentEffectModel.from_dict(data)
    aid, stage = base["asset_id"], base["buying_stage"]
    assert model.posterior([aid], stage, {"industry": "retail"})[0][0] == pytest.approx(0.15)
    assert model.posterior([aid], stage, {"persona": "cfo"})[0][0] == pytest.approx(0.02)
    assert model.posterior([aid], stage, {"industry": "healthcare"})[0][0] == pytest.approx(0.02)
