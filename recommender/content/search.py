"""Exact cosine top-k over a matrix of unit vectors, with boolean filter masks.

Vectors are L2-normalised at embedding time, so cosine is a dot product. Top-k uses
``np.argpartition`` (linear time) and sorts only the k winners. With a selective filter, only the
kept rows are scored.
"""

from __future__ import annotations

import numpy as np

# Below this share of kept rows, score only the kept rows (gathering them costs less than
# scoring everything).
SUBSET_SHARE = 0.25


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the indices of the ``k`` largest ``scores`` (n,), best first; ties by index."""
    n = scores.shape[0]
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.arange(n)
    order = np.lexsort((part, -scores[part]))
    return part[order].astype(np.int64)


def cosine_top_k(query: np.ndarray, vectors: np.ndarray, k: int = 10,
                 mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows of ``vectors`` most similar to ``query``.

    Parameters
    ----------
    query : ndarray of shape (d,)
        A unit vector.
    vectors : ndarray of shape (n, d)
        Unit rows (float32).
    k : int
        Number of results wanted.
    mask : ndarray of bool, shape (n,), optional
        Rows that may be returned; None keeps all.

    Returns
    -------
    indices : ndarray of int64, shape (m,)
        Row indices, best first, ``m = min(k, number of kept rows)``.
    scores : ndarray of float32, shape (m,)
        Their cosine similarities.
    """
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    n = vectors.shape[0]
    if vectors.ndim != 2 or (n and vectors.shape[1] != query.shape[0]):
        raise ValueError(
            f"query has dimension {query.shape[0]} but vectors have shape {vectors.shape}"
        )
    if mask is None:
        scores = vectors @ query
        best = top_k(scores, k)
        return best, scores[best]
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"mask has shape {mask.shape}, expected ({n},)")
    kept = np.flatnonzero(mask)
    if kept.size < SUBSET_SHARE * n:
        scores = vectors[kept] @ query
        best = top_k(scores, k)
        return kept[best], scores[best]
    scores = vectors @ query
    scores[~mask] = -np.inf
    best = top_k(scores, min(k, kept.size))
    return best, scores[best]


def search(query: np.ndarray, vectors: np.ndarray, ids: np.ndarray | list, k: int = 10,
           mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ids, scores)`` of the ``k`` rows most similar to ``query``.

    Same parameters as ``cosine_top_k``; ``ids`` (n,) names each row.
    """
    index, scores = cosine_top_k(query, vectors, k, mask)
    return np.asarray(ids)[index], scores


def best_passage(query: np.ndarray, passage_vectors: np.ndarray, rows: np.ndarray) -> int:
    """Return the row (of ``rows``, indices into ``passage_vectors``) most similar to ``query``."""
    if len(rows) == 0:
        return -1
    scores = passage_vectors[rows] @ np.asarray(query, dtype=np.float32)
    return int(rows[int(np.argmax(scores))])
