"""Exact cosine top-k with filter masks, against a brute-force sort."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.content.search import SUBSET_SHARE, best_passage, cosine_top_k, search, top_k


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 5, 50])
def test_matches_brute_force(k):
    rng = np.random.default_rng(0)
    vectors, query = _unit(rng, 500, 32), _unit(rng, 1, 32)[0]
    index, scores = cosine_top_k(query, vectors, k)
    expected = np.argsort(-(vectors @ query), kind="stable")[:k]
    assert index.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, vectors[expected] @ query, rtol=1e-6)
    assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("share", [0.05, 0.6])  # subset path and full-scan path
def test_mask_keeps_only_allowed_rows(share):
    rng = np.random.default_rng(1)
    vectors, query = _unit(rng, 400, 16), _unit(rng, 1, 16)[0]
    mask = rng.random(400) < share
    assert (mask.mean() < SUBSET_SHARE) == (share < SUBSET_SHARE)
    index, scores = cosine_top_k(query, vectors, 10, mask)
    allowed = np.flatnonzero(mask)
    expected = allowed[np.argsort(-(vectors[allowed] @ query), kind="stable")[:10]]
    assert index.tolist() == expected.tolist()
    assert np.isfinite(scores).all()


def test_k_larger_than_kept_rows_returns_only_kept():
    rng = np.random.default_rng(2)
    vectors, query = _unit(rng, 50, 8), _unit(rng, 1, 8)[0]
    mask = np.zeros(50, dtype=bool)
    mask[[3, 7, 40]] = True
    index, _ = cosine_top_k(query, vectors, 10, mask)
    assert sorted(index.tolist()) == [3, 7, 40]
    assert cosine_top_k(query, vectors, 10, np.zeros(50, dtype=bool))[0].size == 0


def test_search_returns_ids_and_empty_matrix_is_fine():
    vectors = np.eye(3, dtype=np.float32)
    ids, scores = search(np.array([0, 1, 0], np.float32), vectors, ["a", "b", "c"], k=2)
    assert ids.tolist()[0] == "b" and scores[0] == pytest.approx(1.0)
    empty_ids, _ = search(np.ones(3, np.float32), np.zeros((0, 3), np.float32), [], k=5)
    assert empty_ids.size == 0


def test_ties_are_broken_by_row_order():
    assert top_k(np.array([0.5, 0.9, 0.9, 0.1]), 2).tolist() == [1, 2]


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match="dimension 4"):
        cosine_top_k(np.ones(4), np.ones((3, 5), np.float32), 1)
    with pytest.raises(ValueError, match="mask has shape"):
        cosine_top_k(np.ones(5), np.ones((3, 5), np.float32), 1, np.ones(2, bool))


def test_best_passage():
    passages = np.array([[1, 0], [0, 1], [0.7, 0.7]], dtype=np.float32)
    assert best_passage(np.array([0, 1], np.float32), passages, np.array([0, 2])) == 2
    assert best_passage(np.array([0, 1], np.float32), passages, np.array([], int)) == -1
