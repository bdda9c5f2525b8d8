"""Semantic match over passages: the shortlist path agrees with the exact one where it counts."""

import numpy as np

from recommender.content.embedding import normalize_rows
from recommender.content.library_arrays import LibraryArrays


def _library(n_assets=400, per_asset=3, d=32, seed=0):
    rng = np.random.default_rng(seed)
    centres = normalize_rows(rng.standard_normal((n_assets, d)))
    passages = normalize_rows(np.repeat(centres, per_asset, axis=0)
                              + 0.15 * rng.standard_normal((n_assets * per_asset, d)))
    owner = np.repeat(np.arange(n_assets), per_asset)
    vectors = normalize_rows(np.add.reduceat(passages, np.arange(0, len(owner), per_asset)))
    library = LibraryArrays([f"a{i}" for i in range(n_assets)], vectors,
                            ["awareness"] * n_assets, ["blog_post"] * n_assets,
                            passage_vectors=passages, passage_asset=owner,
                            passage_texts=[f"p{i}" for i in range(len(owner))])
    return library, rng


def test_shortlist_keeps_the_best_matches_exact():
    candidates, rng = _library()
    query = normalize_rows(rng.standard_normal((1, 32)))[0]
    exact = candidates.semantic(query)
    fast = candidates.semantic(query, exact_limit=0, shortlist=100)
    top = np.argsort(-exact)[:20]
    assert np.allclose(fast[top], exact[top])  # the best matches are scored exactly
    assert set(np.argsort(-fast)[:20]) == set(top)
    assert np.all(fast <= exact + 1e-6)  # elsewhere an asset vector never beats its passages
    assert fast.shape == exact.shape == (400,)


def test_shortlist_larger_than_library_is_exact():
    candidates, rng = _library(n_assets=50)
    query = normalize_rows(rng.standard_normal((1, 32)))[0]
    assert np.allclose(candidates.semantic(query, exact_limit=0, shortlist=1000),
                       candidates.semantic(query))
