"""The serving policy: propensities, exploration and holdout rates, seeds, rule inclusions."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.errors import ValidationError
from recommender.ranking.policy import ThompsonPolicy
from tests.recommender.ranking.arrays import random_library


def test_propensities_sum_to_the_list_length_and_lie_in_0_1():
    c, deal, mean, sd = random_library(24)
    served = ThompsonPolicy(0.2, 0.1, n_draws=300).serve(c, deal, 5, mean, sd, seed=1)
    assert served.propensity_all.sum() == pytest.approx(5.0)
    assert np.all((served.propensity_all > 0) & (served.propensity_all <= 1 + 1e-12))
    assert len(served.indices) == 5 and len(set(served.indices.tolist())) == 5
    assert np.allclose(served.propensities, served.propensity_all[served.indices])


@pytest.mark.parametrize("pool_size", [100, 8])
def test_monte_carlo_propensity_matches_empirical_frequency(pool_size):
    c, deal, mean, sd = random_library(24)
    policy = ThompsonPolicy(0.2, 0.1, n_draws=2000, pool_size=pool_size)
    expected = policy.serve(c, deal, 5, mean, sd, seed=0).propensity_all
    counts = np.zeros(len(c))
    trials = 2000
    # The served list is drawn before the Monte-Carlo re-draws, so a cheap estimator serves
    # exactly the same lists.
    server = ThompsonPolicy(0.2, 0.1, n_draws=1, pool_size=pool_size)
    assert server.serve(c, deal, 5, mean, sd, seed=9).indices.tolist() == policy.serve(
        c, deal, 5, mean, sd, seed=9).indices.tolist()
    for seed in range(1, trials + 1):
        counts[server.serve(c, deal, 5, mean, sd, seed=seed).indices] += 1
    observed = counts / trials
    # binomial sd at p=.5 over 2000 trials is 0.011; the estimate's own MC error is similar
    assert np.max(np.abs(observed - expected)) < 0.06
    assert np.corrcoef(observed, expected)[0, 1] > 0.98


def test_exploration_rate_is_honoured():
    c, deal, mean, sd = random_library(40)
    policy = ThompsonPolicy(exploration=0.3, holdout=0.0, n_draws=20)
    explored = [policy.serve(c, deal, 5, mean, sd, seed=s).explored.mean() for s in range(600)]
    assert np.mean(explored) == pytest.approx(0.3, abs=0.03)
    none = ThompsonPolicy(exploration=0.0, holdout=0.0, n_draws=20)
    assert not any(none.serve(c, deal, 5, mean, sd, seed=s).explored.any() for s in range(50))


def test_holdout_share_of_lists_is_uniform_random():
    c, deal, mean, sd = random_library(30)
    policy = ThompsonPolicy(exploration=0.0, holdout=0.25, n_draws=20)
    lists = [policy.serve(c, deal, 3, mean, sd, seed=s) for s in range(800)]
    share = np.mean([s.served_by == "holdout" for s in lists])
    assert share == pytest.approx(0.25, abs=0.04)
    holdout_counts = np.zeros(len(c))
    for s in lists:
        if s.served_by == "holdout":
            holdout_counts[s.indices] += 1
    # uniform: no asset is shown in holdout lists far more often than 3/30 of the time
    freq = holdout_counts / max(1, sum(s.served_by == "holdout" for s in lists))
    assert np.all(np.abs(freq - 0.1) < 0.08)


def test_seed_reproduces_the_list_and_fresh_seeds_are_recorded():
    c, deal, mean, sd = random_library(24)
    policy = ThompsonPolicy()
    a = policy.serve(c, deal, 5, mean, sd, seed=42)
    b = policy.serve(c, deal, 5, mean, sd, seed=42)
    assert a.indices.tolist() == b.indices.tolist() and a.seed == 42
    fresh = policy.serve(c, deal, 5, mean, sd)
    again = policy.serve(c, deal, 5, mean, sd, seed=fresh.seed)
    assert fresh.indices.tolist() == again.indices.tolist()
    assert "eps=0.1" in policy.version and "holdout=0.1" in policy.version


def test_inclusions_come_first_with_propensity_one_and_exclusions_never_show():
    c, deal, mean, sd = random_library(24)
    include = np.zeros(len(c), bool)
    include[[3, 7]] = True
    exclude = np.zeros(len(c), bool)
    exclude[[0, 1, 2]] = True
    policy = ThompsonPolicy(0.5, 0.5, n_draws=50)
    for seed in range(30):
        s = policy.serve(c, deal, 4, mean, sd, include=include, exclude=exclude, seed=seed)
        assert set(s.indices[:2].tolist()) == {3, 7}
        assert s.propensities[:2].tolist() == [1.0, 1.0]
        assert not set(s.indices.tolist()) & {0, 1, 2}
        assert s.propensity_all[[0, 1, 2]].sum() == 0
        assert s.propensity_all.sum() == pytest.approx(4.0)


def test_a_confident_winner_is_shown_almost_always_and_a_new_asset_sometimes():
    c, deal, mean, sd = random_library(20)
    mean = np.zeros(20)
    sd = np.full(20, 0.005)
    mean[5] = 0.3  # known to help a lot
    sd[9] = 0.08  # new, uncertain
    served = ThompsonPolicy(0.1, 0.1, n_draws=500).serve(c, deal, 3, mean, sd, seed=3)
    p = served.propensity_all
    assert p[5] > 0.9
    others = np.delete(p, [5, 9])
    assert p[9] > np.median(others)


def test_small_libraries_show_everything_with_propensity_one():
    c, deal, mean, sd = random_library(3)
    s = ThompsonPolicy().serve(c, deal, 5, mean, sd, seed=0)
    assert sorted(s.indices.tolist()) == [0, 1, 2] and s.propensities.tolist() == [1, 1, 1]


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValidationError, match="exploration=1.5"):
        ThompsonPolicy(exploration=1.5)
    with pytest.raises(ValidationError, match="holdout=-0.1"):
        ThompsonPolicy(holdout=-0.1)
    c, deal, mean, sd = random_library(24)
    with pytest.raises(ValidationError, match="effect posterior must have shape"):
        ThompsonPolicy().serve(c, deal, 5, mean[:3], sd, seed=0)


@pytest.mark.parametrize("n, k, eps, hold, n_inc, n_exc", [
    (10, 5, 0.0, 0.0, 0, 0), (10, 5, 1.0, 0.0, 0, 0), (10, 5, 0.0, 1.0, 0, 0),
    (50, 7, 0.3, 0.2, 2, 5), (8, 5, 0.5, 0.5, 1, 2), (6, 5, 0.1, 0.1, 0, 0),
    (300, 10, 0.05, 0.05, 3, 40),
])
def test_propensities_always_add_up_to_the_list_length(n, k, eps, hold, n_inc, n_exc):
    c, deal, mean, sd = random_library(n, seed=n)
    include = np.zeros(n, bool)
    include[:n_inc] = True
    exclude = np.zeros(n, bool)
    exclude[n - n_exc:] = True
    served = ThompsonPolicy(eps, hold, n_draws=50, pool_size=20).serve(
        c, deal, k, mean, sd, include=include, exclude=exclude, seed=n + k)
    assert len(served.indices) == min(k, n - n_exc)
    assert served.propensity_all.sum() == pytest.approx(len(served.indices))
    assert np.all(served.propensity_all[exclude] == 0)
    assert np.all((served.propensity_all >= 0) & (served.propensity_all <= 1 + 1e-9))
