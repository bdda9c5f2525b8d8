"""Small libraries as arrays for the ranking tests: hand-made ones and seeded random ones."""

from __future__ import annotations

import numpy as np

from recommender.content.library_arrays import LibraryArrays
from recommender.ranking.scoring import DealContext

STAGES = ("awareness", "consideration", "decision")
TYPES = ("case_study", "datasheet", "faq", "webinar")


def unit(*rows) -> np.ndarray:
    """Stack ``rows`` into a float32 matrix of unit rows."""
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def small_library(vectors=None, stages=None, types=None, **kw) -> LibraryArrays:
    """Assets ``a0``, ``a1``, ... with orthogonal vectors unless given; all FAQs unless given."""
    n = len(stages)
    vectors = unit(*np.eye(max(n, 2))[:n]) if vectors is None else vectors
    return LibraryArrays([f"a{i}" for i in range(n)], vectors, stages, types or ["faq"] * n, **kw)


def random_library(n: int, seed: int = 0, passages: bool = False):
    """Return ``(arrays, deal, mean, sd)``: ``n`` random assets, a decision-stage deal whose
    notes match ``a0``, and effect posteriors; with ``passages``, one passage per asset."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    extra = (dict(passage_vectors=v, passage_asset=np.arange(n),
                  passage_texts=[f"passage {i}" for i in range(n)]) if passages else {})
    arrays = LibraryArrays([f"a{i}" for i in range(n)], v, rng.choice(STAGES, n),
                           rng.choice(TYPES, n), **extra)
    deal = DealContext("decision", STAGES, v[0])
    return arrays, deal, rng.normal(0, 0.04, n), np.full(n, 0.04)
