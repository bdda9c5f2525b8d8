"""Ranking for one deal: explain mode, sampling, display order, reasons and exclusions."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.errors import ValidationError
from recommender.ranking.deal_ranking import rank_for_deal
from recommender.ranking.policy import ThompsonPolicy
from recommender.ranking.rules import apply_rules, validate_rule
from tests.recommender.ranking.arrays import random_library


def effects(arrays, *rules):
    return apply_rules([validate_rule(r) for r in rules], {}, arrays)


INCLUDE = {"name": "always a7", "condition": [], "action": "include",
           "target": {"asset_id": ["a7", "a9"]}}
EXCLUDE = {"name": "never a0", "condition": [], "action": "exclude", "target": {"asset_id": "a0"}}


def test_explain_mode_is_deterministic_and_ordered_by_score():
    arrays, deal, mean, sd = random_library(30, passages=True)
    rules, policy = effects(arrays), ThompsonPolicy()
    first = rank_for_deal(arrays, deal, 5, mean, sd, rules, policy, mode="explain")
    second = rank_for_deal(arrays, deal, 5, mean, sd, rules, policy, mode="explain", seed=99)
    assert first.indices.tolist() == second.indices.tolist() and len(first.indices) == 5
    assert first.served_by == "explain" and first.seed is None
    assert np.all(first.propensities == 1.0) and not first.explored.any()
    assert np.all(np.diff(first.scores) <= 0)
    assert first.eligible_count == len(arrays)
    assert len(first.reasons) == len(first.passages) == 5
    assert first.passages[0] == f"passage {first.indices[0]}"


@pytest.mark.parametrize("mode", ["explain", "sample"])
def test_rule_inclusions_come_first_and_exclusions_never(mode):
    arrays, deal, mean, sd = random_library(30, passages=True)
    rules = effects(arrays, INCLUDE, EXCLUDE)
    for seed in range(5):
        ranking = rank_for_deal(arrays, deal, 4, mean, sd, rules, ThompsonPolicy(), mode=mode,
                                seed=seed)
        ids = [str(arrays.asset_ids[i]) for i in ranking.indices]
        assert set(ids[:2]) == {"a7", "a9"} and "a0" not in ids
        assert ranking.scores[0] >= ranking.scores[1] and np.all(np.diff(ranking.scores[2:]) <= 0)
        assert np.all(ranking.propensities[:2] == 1.0)
        assert all("rule: always a7" in reasons for reasons in ranking.reasons[:2])
        assert ranking.eligible_count == len(arrays) - 1


def test_sampling_replays_with_its_seed_and_honours_extra_exclusions():
    arrays, deal, mean, sd = random_library(30, passages=True)
    rules, policy = effects(arrays), ThompsonPolicy(0.3, 0.2, n_draws=50)
    first = rank_for_deal(arrays, deal, 5, mean, sd, rules, policy, seed=3)
    again = rank_for_deal(arrays, deal, 5, mean, sd, rules, policy, seed=3)
    assert first.indices.tolist() == again.indices.tolist() and first.seed == 3
    assert first.served_by in ("thompson", "holdout")
    stale = np.zeros(len(arrays), dtype=bool)
    stale[first.indices[:2]] = True
    fresh = rank_for_deal(arrays, deal, 5, mean, sd, rules, policy, seed=3, exclude=stale)
    assert not set(fresh.indices.tolist()) & set(first.indices[:2].tolist())
    assert fresh.eligible_count == first.eligible_count - 2


def test_unknown_mode_is_refused():
    arrays, deal, mean, sd = random_library(30, passages=True)
    with pytest.raises(ValidationError, match="mode must be"):
        rank_for_deal(arrays, deal, 3, mean, sd, effects(arrays), ThompsonPolicy(), mode="x")
