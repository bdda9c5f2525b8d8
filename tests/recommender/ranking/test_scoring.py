"""The scoring function, MMR diversity and eligibility, on small arrays."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from recommender.content.library_arrays import LibraryArrays
from recommender.errors import ValidationError
from recommender.ranking.scoring import (
    DealContext,
    RankingWeights,
    mmr_select,
    rank,
    score_assets,
)
from tests.recommender.ranking.arrays import STAGES, small_library, unit


def test_stage_fit_same_adjacent_other_and_confidence():
    c = small_library(stages=["decision", "consideration", "awareness", "decision"],
                      stage_confidence=[1.0, 1.0, 1.0, 0.5])
    deal = DealContext("decision", STAGES)
    b = score_assets(c, deal, np.zeros(4))
    w = RankingWeights()
    assert b.stage_fit.tolist() == [1.0, w.adjacent, 0.0, 0.5]
    assert b.total[0] > b.total[3] > b.total[1] > b.total[2]


def test_semantic_match_is_the_best_passage_cosine():
    vectors = unit([1, 0, 0], [0, 1, 0])
    passages = unit([0, 0, 1], [0.9, 0.1, 0], [0, 1, 0])
    c = small_library(vectors, ["decision", "decision"], passage_vectors=passages,
                      passage_asset=[0, 0, 1], passage_texts=["p0", "p1", "p2"])
    query = unit([1, 0, 0])[0]
    sem = c.semantic(query)
    assert sem[0] == pytest.approx(float(passages[1] @ query))
    assert sem[1] == pytest.approx(0.0)
    assert c.best_passage(0, query) == ("p1", pytest.approx(float(passages[1] @ query)))


def test_passages_given_out_of_order_are_grouped_by_asset():
    vectors = unit([1, 0], [0, 1])
    passages = unit([0, 1], [1, 0], [1, 1])
    c = small_library(vectors, ["decision"] * 2, passage_vectors=passages, passage_asset=[1, 0, 1],
                      passage_texts=["b0", "a0", "b1"])
    q = unit([1, 0])[0]
    assert c.best_passage(0, q)[0] == "a0"
    assert c.best_passage(1, q)[0] == "b1"


def test_tag_match_listed_generic_and_other():
    c = small_library(stages=["decision"] * 3, personas=[["CFO"], [], ["security"]])
    b = score_assets(c, DealContext("decision", STAGES, persona="cfo"), np.zeros(3))
    assert b.tags.tolist() == [1.0, 0.5, 0.0]


def test_effect_and_shared_demotion_move_scores_by_their_weights():
    c = small_library(stages=["decision"] * 2)
    w = RankingWeights(effect=4.0, shared=1.5)
    deal = DealContext("decision", STAGES, shared_on={"a1": date(2026, 10, 3)})
    b = score_assets(c, deal, np.array([0.1, 0.0]), w)
    assert b.total[0] - b.total[1] == pytest.approx(0.4 + 1.5)
    assert b.shared.tolist() == [False, True]


def test_rank_excludes_unrecommendable_and_filtered_assets():
    c = small_library(stages=["decision"] * 4, recommendable=[True, False, True, True])
    ids, scores, _ = rank(c, DealContext("decision", STAGES), 4, np.array([0.3, 0.5, 0, 0.1]),
                          eligible=np.array([True, True, False, True]))
    assert ids.tolist() == ["a0", "a3"]
    assert scores[0] > scores[1]


def test_mmr_avoids_near_duplicates_and_caps_each_type():
    # five near-identical case studies and two distinct assets of other types
    base = np.array([1.0, 0.0, 0.0])
    dup = [base + 0.01 * np.array([0, i, 0]) for i in range(5)]
    vectors = unit(*dup, [0, 1, 0], [0, 0, 1])
    c = small_library(vectors, ["decision"] * 7, ["case_study"] * 5 + ["datasheet", "faq"])
    effect = np.array([0.1, 0.099, 0.098, 0.097, 0.096, 0.0, 0.0])
    ids, _, _ = rank(c, DealContext("decision", STAGES), 4, effect)
    types = [c.types[c.position[i]] for i in ids]
    assert types.count("case_study") <= 2
    assert {"datasheet", "faq"} <= set(types)


def test_mmr_cap_relaxes_when_nothing_else_is_left():
    sim = np.eye(3)
    picks = mmr_select(np.array([3.0, 2.0, 1.0]), sim, np.zeros(3, dtype=int), 3,
                       max_per_type=1)
    assert picks.tolist() == [0, 1, 2]


def test_mmr_batched_rows_match_single_rows():
    rng = np.random.default_rng(3)
    v = rng.standard_normal((12, 5))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    scores = rng.standard_normal((6, 12))
    types = rng.integers(0, 3, 12)
    batch = mmr_select(scores, v @ v.T, types, 4)
    for row in range(6):
        assert batch[row].tolist() == mmr_select(scores[row], v @ v.T, types, 4).tolist()


def test_bad_shapes_and_stages_are_clear_errors():
    c = small_library(stages=["decision"] * 2)
    with pytest.raises(ValidationError, match="effect has shape"):
        score_assets(c, DealContext("decision", STAGES), np.zeros(3))
    with pytest.raises(ValidationError, match="buying stage 'closing'"):
        DealContext("closing", STAGES)
    with pytest.raises(ValidationError, match="k must be at least 1"):
        rank(c, DealContext("decision", STAGES), 0, np.zeros(2))
    with pytest.raises(ValidationError, match="vectors must have shape"):
        LibraryArrays(["a"], np.zeros((2, 3)), ["decision"], ["faq"])
