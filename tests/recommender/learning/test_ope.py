"""Off-policy evaluation: a synthetic slate world, real logged data (OBD), bad input."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from recommender.errors import ValidationError
from recommender.learning.logged_lists import LoggedLists
from recommender.learning.ope import (
    crossfit_reward_model,
    effective_sample_size,
    evaluate_policy,
    importance_weights,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "obd"


def slate_world(seed: int, n_lists: int = 4000, n_items: int = 12, k: int = 3):
    """Lists drawn by independent inclusion (exact marginals), rewards Bernoulli(q_j)."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.02, 0.4, n_items)
    incl = np.clip(rng.uniform(0.05, 0.6, n_items), 0.05, 0.9)
    target_items = np.argsort(-q)[:k]
    truth = float(q[target_items].sum())
    idx, keys, rewards, props = [], [], [], []
    for lst in range(n_lists):
        shown = np.flatnonzero(rng.random(n_items) < incl)
        for j in shown:
            idx.append(lst)
            keys.append(("s", int(j)))
            rewards.append(float(rng.random() < q[j]))
            props.append(incl[j])
    target = [{("s", int(j)): 1.0 for j in target_items}] * n_lists
    logged = LoggedLists(np.array(idx), keys, np.array(rewards), np.array(props), target)
    return logged, truth, float(sum(q * incl))


def test_estimators_recover_the_target_value_on_a_synthetic_slate_world():
    logged, truth, logging_truth = slate_world(seed=3)
    res = evaluate_policy(logged, n_boot=200, seed=1)
    for est in res.estimates:
        assert est.lower < truth < est.upper, (est, truth)
        assert abs(est.value - truth) < 0.1 * truth
    assert res.logging.lower < logging_truth < res.logging.upper
    # The target (best items) is worth more than what the logging policy shows.
    assert res.estimate("dr").value > res.logging.value
    assert res.n_lists == 4000 and res.target_items_per_list == 3.0
    assert 0 < res.effective_sample_size < res.n_items


def test_interval_coverage_is_near_nominal_across_worlds():
    hits = {"ips": 0, "snips": 0, "dr": 0}
    runs = 30
    for seed in range(runs):
        logged, truth, _ = slate_world(seed=100 + seed, n_lists=600)
        res = evaluate_policy(logged, interval="normal", level=0.9, seed=seed)
        for est in res.estimates:
            hits[est.estimator] += est.lower < truth < est.upper
    for name, count in hits.items():
        assert 0.7 <= count / runs <= 1.0, (name, count)


def test_normal_and_bootstrap_intervals_agree_roughly():
    logged, _, _ = slate_world(seed=5, n_lists=1500)
    boot = evaluate_policy(logged, interval="bootstrap", n_boot=300)
    normal = evaluate_policy(logged, interval="normal")
    for b, n in zip(boot.estimates, normal.estimates, strict=True):
        assert b.value == pytest.approx(n.value)
        assert b.se == pytest.approx(n.se, rel=0.35)


def test_clipping_caps_weights_and_is_reported():
    w, clipped = importance_weights(np.array([1.0, 1.0, 0.0]), np.array([0.01, 0.5, 0.2]),
                                    clip=10)
    assert w.tolist() == [10.0, 2.0, 0.0] and clipped == 1
    with pytest.raises(ValidationError, match="clip"):
        importance_weights(np.ones(2), np.ones(2), clip=0)


def test_effective_sample_size():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size(np.r_[100.0, np.zeros(9)]) == pytest.approx(1)
    assert effective_sample_size(np.zeros(3)) == 0.0


def test_crossfit_reward_model_never_uses_a_folds_own_rows():
    keys = np.array([0, 0, 1, 1])
    rewards = np.array([1.0, 1.0, 0.0, 0.0])
    folds = np.array([0, 1, 0, 1])
    tables = crossfit_reward_model(keys, rewards, folds, strength=0.0)
    assert tables[0][0] == 1.0 and tables[0][1] == 0.0
    only = crossfit_reward_model(np.array([0, 1]), np.array([1.0, 0.0]), np.array([0, 1]), 0.0)
    assert 0 not in only[0] and only[0][None] == 0.0  # key 0 lives only in fold 0


def test_bad_input_is_named():
    with pytest.raises(ValidationError, match="propensity"):
        LoggedLists(np.array([0]), [("a", 1)], np.array([1.0]), np.array([0.0]), [{}])
    with pytest.raises(ValidationError, match="list_index"):
        LoggedLists(np.array([3]), [("a", 1)], np.array([1.0]), np.array([0.5]), [{}])
    with pytest.raises(ValidationError, match="no logged items"):
        LoggedLists(np.array([]), [], np.array([]), np.array([]), [])
    logged, _, _ = slate_world(seed=1, n_lists=20)
    with pytest.raises(ValidationError, match="estimator"):
        evaluate_policy(logged, estimators=["magic"])
    with pytest.raises(ValidationError, match="interval"):
        evaluate_policy(logged, interval="bayes")


def _obd(policy: str):
    with gzip.open(DATA / f"{policy}_all.csv.gz", "rt") as fh:
        rows = list(csv.DictReader(fh))
    return (np.array([int(r["item_id"]) for r in rows]),
            np.array([int(r["position"]) for r in rows]),
            np.array([float(r["click"]) for r in rows]),
            np.array([float(r["propensity_score"]) for r in rows]))


def test_open_bandit_dataset_thompson_logs_estimate_the_random_policy():
    """IPS/SNIPS/DR on the Bernoulli-TS logs vs the on-policy value of the uniform random policy.

    Target: uniform over the 80 items at each position (what the random logs ran). Truth: the
    random logs' mean click rate, itself an estimate with standard error sqrt(p/n).
    """
    _, _, clicks_random, _ = _obd("random")
    truth = clicks_random.mean()
    truth_se = np.sqrt(truth * (1 - truth) / len(clicks_random))
    items, positions, clicks, pscores = _obd("bts")
    n_items = 80
    target = [{(int(p), j): 1.0 / n_items for j in range(n_items)} for p in positions]
    logged = LoggedLists(np.arange(len(items)), list(zip(positions.tolist(), items.tolist(),
                                                         strict=True)),
                         clicks, pscores, target)
    res = evaluate_policy(logged, interval="normal", level=0.9)
    for est in res.estimates:
        combined = np.hypot(est.se, truth_se)
        assert abs(est.value - truth) < 2.5 * combined, (est, truth)
    # The logging (Thompson) policy's own click rate differs from the random policy's truth.
    assert res.logging.value != pytest.approx(truth)
    assert res.max_weight > 50  # rare items under Thompson sampling: heavy weights


def test_a_single_list_has_no_interval_but_stays_json_safe():
    logged = LoggedLists(np.array([0, 0]), [("s", 1), ("s", 2)], np.array([1.0, 0.0]),
                         np.array([0.5, 0.5]), [{("s", 1): 1.0}])
    res = evaluate_policy(logged, interval="normal")
    ips = res.estimate("ips")
    assert ips.value == pytest.approx(2.0)  # weight 1 / 0.5 on a reward of 1
    assert ips.to_dict()["se"] is None and ips.to_dict()["value"] == pytest.approx(2.0)
