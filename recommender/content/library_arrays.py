"""The library as arrays: vectors, passages, stages, types, tags, metadata, and search over them.

Built once per library version (the application caches it) and reused by every search and every
recommendation, so a request does only vectorised work: matrix-vector products and boolean
masks. Everything is built from plain lists and arrays, so it can be driven from a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from recommender.content.search import cosine_top_k
from recommender.errors import ValidationError

TAG_DIMENSIONS = ("personas", "industries", "products")
# Stage sources a marketer stands behind: their stage tag counts as certain.
CERTAIN_STAGE_SOURCES = ("given", "confirmed")

# Above this many passages, semantic match shortlists assets before scoring passages.
EXACT_PASSAGE_LIMIT = 20_000
SEMANTIC_SHORTLIST = 1_000
# Filter masks kept per library version before the cache starts over.
MAX_TERM_MASKS = 256


def as_list(values) -> list[str]:
    """Return ``values`` (None, one string or an iterable) as a list of strings."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values] if values else []
    return [str(v) for v in values]


@dataclass
class SearchHit:
    """One search result: the asset, its cosine score and the passage that matched best."""

    asset_id: str
    title: str
    score: float
    passage: str
    stage: str = ""
    type: str = ""
    url: str | None = None

    def to_dict(self) -> dict:
        return {"asset_id": self.asset_id, "title": self.title, "score": round(self.score, 4),
                "stage": self.stage, "type": self.type, "url": self.url,
                "passage": self.passage}


class LibraryArrays:
    """The library as arrays, built once per library version and reused by every request.

    Row ``i`` of every per-asset array is the asset ``asset_ids[i]``.

    Parameters
    ----------
    asset_ids : sequence of str, shape (n,)
    asset_vectors : ndarray, shape (n, d)
        Unit asset vectors.
    stages, types : sequence of str, shape (n,)
        Buying stage and asset type of each asset.
    passage_vectors : ndarray, shape (m, d), optional
        Unit passage vectors; ``passage_asset`` (m,) gives each passage's asset index.
    passage_texts : sequence of str, shape (m,), optional
    stage_confidence : sequence of float or None, shape (n,), optional
        Confidence of the stage tag (None or missing: 1).
    personas, industries, products : sequence of list of str, shape (n,), optional
    recommendable : ndarray of bool, shape (n,), optional
        False for expired or archived assets.
    stage_source : sequence of str, shape (n,), optional
        Where each stage tag came from; ``given`` and ``confirmed`` tags count as certain
        (confidence 1) whatever ``stage_confidence`` says.
    titles, urls, expires, status : sequence, shape (n,), optional
        Per-asset metadata shown with search results and recommendations.
    """

    def __init__(self, asset_ids, asset_vectors, stages, types, passage_vectors=None,
                 passage_asset=None, passage_texts=None, stage_confidence=None,
                 personas=None, industries=None, products=None, recommendable=None, *,
                 stage_source=None, titles=None, urls=None, expires=None,
                 status=None) -> None:
        self.asset_ids = np.asarray(list(asset_ids), dtype=object)
        n = len(self.asset_ids)
        vectors = np.asarray(asset_vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != n:
            raise ValidationError(f"vectors must have shape ({n}, d), got {vectors.shape}")
        self.asset_vectors = vectors
        self.position = {asset_id: i for i, asset_id in enumerate(self.asset_ids)}
        self._init_stages_and_types(stages, types, stage_confidence, stage_source)
        self._init_metadata(titles, urls, expires, status, recommendable)
        self._init_tags(personas, industries, products)
        self._init_passages(passage_vectors, passage_asset, passage_texts)
        self._term_masks: dict[tuple[str, str], np.ndarray] = {}

    def _init_stages_and_types(self, stages, types, stage_confidence, stage_source) -> None:
        n = len(self.asset_ids)
        self.stages = np.asarray([str(s) if s is not None else "" for s in stages], dtype=object)
        self.types = np.asarray([str(t) if t is not None else "" for t in types], dtype=object)
        if len(self.stages) != n or len(self.types) != n:
            raise ValidationError("stages and types must have one entry per asset")
        self.stage_source = [""] * n if stage_source is None else [str(s or "")
                                                                    for s in stage_source]
        if stage_confidence is None:
            conf = np.ones(n)
        else:
            conf = np.asarray([1.0 if c is None or source in CERTAIN_STAGE_SOURCES else float(c)
                               for c, source in zip(stage_confidence, self.stage_source,
                                                    strict=True)], dtype=np.float64)
        self.stage_confidence = np.clip(conf, 0.0, 1.0)
        self._stage_positions: dict[tuple, np.ndarray] = {}
        type_names = sorted(set(self.types))
        codes = {t: i for i, t in enumerate(type_names)}
        self.type_codes = np.asarray([codes[t] for t in self.types], dtype=np.int64)
        self.n_types = len(type_names)

    def _init_metadata(self, titles, urls, expires, status, recommendable) -> None:
        n = len(self.asset_ids)
        self.titles: list[str] = ([str(a) for a in self.asset_ids] if titles is None
                                  else list(titles))
        self.urls: list[str | None] = [None] * n if urls is None else list(urls)
        self.expires: list[date | None] = [None] * n if expires is None else list(expires)
        self.status: list[str] = ["active"] * n if status is None else list(status)
        self.recommendable = (np.ones(n, dtype=bool) if recommendable is None
                              else np.asarray(recommendable, dtype=bool))
        if not (len(self.titles) == len(self.urls) == len(self.expires) == len(self.status)
                == len(self.recommendable) == n):
            raise ValidationError("titles, urls, expires, status and recommendable must have "
                                  "one entry per asset")

    def _init_tags(self, personas, industries, products) -> None:
        n = len(self.asset_ids)
        self.tags: dict[str, list[list[str]]] = {}
        for name, values in zip(TAG_DIMENSIONS, (personas, industries, products), strict=True):
            lists = [[] for _ in range(n)] if values is None else [as_list(v) for v in values]
            if len(lists) != n:
                raise ValidationError(f"{name} must have one entry per asset")
            self.tags[name] = lists
        self._tag_index = {name: _tag_index(lists, n) for name, lists in self.tags.items()}

    def _init_passages(self, passage_vectors, passage_asset, passage_texts) -> None:
        n = len(self.asset_ids)
        d = self.asset_vectors.shape[1] if n else 0
        if passage_vectors is None or passage_asset is None or len(passage_asset) == 0:
            self.passage_vectors = np.zeros((0, d), dtype=np.float32)
            self.passage_asset = np.zeros(0, dtype=np.int64)
            self.passage_texts: Sequence[str] = []
        else:
            pa = np.asarray(passage_asset, dtype=np.int64)
            pv = np.asarray(passage_vectors, dtype=np.float32)
            texts = list(passage_texts) if passage_texts is not None else [""] * len(pa)
            if np.any(np.diff(pa) < 0):  # group passages by asset so reduceat works
                order = np.argsort(pa, kind="stable")
                pa, pv, texts = pa[order], pv[order], [texts[i] for i in order]
            self.passage_vectors, self.passage_asset, self.passage_texts = pv, pa, texts
        # The passages of asset i are rows passage_offsets[i]:passage_offsets[i + 1].
        self.passage_offsets = np.searchsorted(self.passage_asset, np.arange(n + 1))
        has = np.zeros(n, dtype=bool)
        has[self.passage_asset] = True
        self.has_passages = has
        self._no_passages = np.flatnonzero(~has)
        self._group_assets = np.unique(self.passage_asset)
        self._group_starts = self.passage_offsets[self._group_assets]
        self._group_ends = self.passage_offsets[self._group_assets + 1]

    def __len__(self) -> int:
        return len(self.asset_ids)

    def tag_mask(self, dimension: str, values: Sequence[str]) -> np.ndarray:
        """Return (n,) bool: assets listing any of ``values`` (any case) in ``dimension``."""
        index = self._tag_index[dimension]
        mask = np.zeros(len(self), dtype=bool)
        for value in values:
            hit = index["values"].get(str(value).casefold())
            if hit is not None:
                mask[hit] = True
        return mask

    def has_tags(self, dimension: str) -> np.ndarray:
        """Return (n,) bool: assets with at least one tag in ``dimension``."""
        return self._tag_index[dimension]["any"]

    def term_mask(self, column: str, value: str) -> np.ndarray:
        """Return (n,) bool: assets whose ``column`` is exactly ``value`` (for tags: lists it).

        ``column`` is ``stage``, ``type`` or a tag dimension. Masks are cached, so a filtered
        search costs no Python loop over assets.
        """
        key = (column, value)
        mask = self._term_masks.get(key)
        if mask is None:
            if column in TAG_DIMENSIONS:
                lists = self.tags[column]
                mask = np.fromiter((value in terms for terms in lists), bool, len(lists))
            elif column in ("stage", "type"):
                mask = (self.stages if column == "stage" else self.types) == value
            else:
                raise ValidationError(f"cannot filter on {column!r}")
            if len(self._term_masks) > MAX_TERM_MASKS:
                self._term_masks.clear()
            self._term_masks[key] = mask
        return mask

    def stage_positions(self, buying_stages: Sequence[str]) -> np.ndarray:
        """Return (n,) int: each asset's stage position in ``buying_stages`` (-10 if absent)."""
        key = tuple(buying_stages)
        cached = self._stage_positions.get(key)
        if cached is None:
            order = {name: i for i, name in enumerate(key)}
            cached = np.asarray([order.get(s, -10) for s in self.stages], dtype=np.int64)
            self._stage_positions[key] = cached
        return cached

    def semantic(self, vector: np.ndarray | None, exact_limit: int = EXACT_PASSAGE_LIMIT,
                 shortlist: int = SEMANTIC_SHORTLIST) -> np.ndarray:
        """Return (n,) max cosine of ``vector`` with each asset's passages (or its vector).

        Exact while the library has at most ``exact_limit`` passages. Above that, passages are
        scored only for the ``shortlist`` assets whose own vector is closest; the others keep
        their asset-vector cosine. An asset far from the deal as a whole rarely holds the best
        passage, and this cuts a pass over every passage vector (61 MB at 10k assets) to one
        over the asset vectors plus a few thousand passages.
        """
        n = len(self)
        if vector is None or n == 0:
            return np.zeros(n)
        v = np.asarray(vector, dtype=np.float32).ravel()
        if len(self.passage_asset) <= exact_limit:
            out = np.zeros(n)
            if len(self._no_passages):  # assets without passages: their own vector
                out[self._no_passages] = self.asset_vectors[self._no_passages] @ v
            if len(self.passage_asset):
                sims = self.passage_vectors @ v
                out[self._group_assets] = np.maximum.reduceat(sims, self._group_starts)
            return np.clip(out, 0.0, None)
        out = (self.asset_vectors @ v).astype(np.float64)
        groups = np.arange(len(self._group_assets))
        if len(groups) > shortlist:
            closest = out[self._group_assets]
            groups = np.sort(np.argpartition(-closest, shortlist - 1)[:shortlist])
        starts, ends = self._group_starts[groups], self._group_ends[groups]
        lengths = ends - starts
        first = np.cumsum(lengths) - lengths
        rows = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
        sims = self.passage_vectors[rows] @ v
        out[self._group_assets[groups]] = np.maximum.reduceat(sims, first)
        return np.clip(out, 0.0, None)

    def best_passage(self, i: int, vector: np.ndarray | None) -> tuple[str, float]:
        """Return the passage of asset ``i`` closest to ``vector`` and its cosine."""
        if vector is None or not self.has_passages[i]:
            return "", 0.0
        start, end = self.passage_offsets[i], self.passage_offsets[i + 1]
        sims = self.passage_vectors[start:end] @ np.asarray(vector, dtype=np.float32).ravel()
        j = int(np.argmax(sims))
        return str(self.passage_texts[start + j]), float(sims[j])

    def search(self, query_vector: np.ndarray, k: int,
               mask: np.ndarray | None = None) -> list[SearchHit]:
        """Return the ``k`` assets closest to ``query_vector``, best first.

        Parameters
        ----------
        query_vector : ndarray, shape (d,)
            A unit vector of the library's model.
        k : int
        mask : ndarray of bool, shape (n,), optional
            Assets that may be returned; None keeps all.

        Returns
        -------
        list of SearchHit
            At most ``k``, each with the asset's best-matching passage.
        """
        if len(self) == 0:
            return []
        rows, scores = cosine_top_k(query_vector, self.asset_vectors, k, mask)
        hits = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            passage, _ = self.best_passage(row, query_vector)
            hits.append(SearchHit(
                asset_id=str(self.asset_ids[row]), title=self.titles[row], score=float(score),
                passage=passage, stage=str(self.stages[row]), type=str(self.types[row]),
                url=self.urls[row],
            ))
        return hits


def _tag_index(lists: list[list[str]], n: int) -> dict:
    by_value: dict[str, list[int]] = {}
    any_mask = np.zeros(n, dtype=bool)
    for i, values in enumerate(lists):
        if values:
            any_mask[i] = True
        for value in values:
            by_value.setdefault(value.casefold(), []).append(i)
    return {"values": {k: np.asarray(v, dtype=np.int64) for k, v in by_value.items()},
            "any": any_mask}
