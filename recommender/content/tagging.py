"""Inferring an asset's buying stage, type, personas and industries from its vector.

Every label is described in the stage config; its description embeds as one or more prototype
vectors (``tag_prototypes``). The stage and type taggers are ``LabelTagger``s: zero-shot against
those prototypes (the stage with a prior from the asset type) until enough marketer-labelled
assets exist, then the best of zero-shot / logistic regression / kNN by cross-validated accuracy
(see ``recommender.content.classifiers``). Personas and industries are multi-label: every term
whose probability is at least ``relative`` times the best one is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.content.classifiers import LabelTagger, ZeroShotClassifier
from recommender.content.embedding import Embedder
from recommender.domain import ASSET_TYPES, StageConfig

TEMPERATURE = 0.05


def describe(label: str, description: str) -> str:
    """Return the text embedded as a label's prototype: its label and description."""
    return f"{label}. {description}".strip() if description else label


def description_phrases(label: str, description: str) -> list[str]:
    """Return the prototype texts of a label: its whole description, then each phrase of it.

    Stage descriptions list many kinds of content ("case studies, ROI calculators, ..."); an
    asset matches one of them, not their average, so each phrase gets its own vector.
    """
    phrases = [p.strip() for p in re.split(r"[.;:,]", description or "") if len(p.strip()) > 3]
    return [describe(label, description)] + [p for p in phrases if p != label]


def type_stage_affinity(type_vectors: np.ndarray, stage_prototypes: np.ndarray,
                        prototype_class: np.ndarray, n_stages: int) -> np.ndarray:
    """Best cosine of each type description with each stage's prototypes, shape (t, c).

    Used as the zero-shot's prior from the asset type (``extra_scores``): the stage config
    says which kinds of content belong to which stage.
    """
    cos = np.asarray(type_vectors, dtype=np.float32) @ np.asarray(stage_prototypes).T
    owner = np.asarray(prototype_class)
    return np.stack([cos[:, owner == c].max(axis=1) for c in range(n_stages)], axis=1)


def type_features(vectors: np.ndarray, types: Sequence[str | None],
                  type_names: Sequence[str], weight: float = 0.5) -> np.ndarray:
    """Append a one-hot of the asset type to the embeddings.

    Parameters
    ----------
    vectors : ndarray of shape (n, d)
    types : sequence of n type names (None or unknown → all zeros)
    type_names : the vocabulary, in column order
    weight : value of the hot column (the embedding rows have unit norm)

    Returns
    -------
    ndarray of shape (n, d + len(type_names)), float32
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    hot = np.zeros((vectors.shape[0], len(type_names)), dtype=np.float32)
    column = {name: i for i, name in enumerate(type_names)}
    for row, name in enumerate(types):
        if name in column:
            hot[row, column[name]] = weight
    return np.hstack([vectors, hot])


def infer_terms(vectors: np.ndarray, prototypes: np.ndarray, names: Sequence[str],
                temperature: float = 0.05, relative: float = 0.6,
                max_terms: int = 3) -> list[list[str]]:
    """Multi-label zero-shot: the terms whose probability is ≥ ``relative`` × the best.

    Parameters
    ----------
    vectors : ndarray (n, d) unit asset vectors
    prototypes : ndarray (c, d) term description vectors
    names : c term names
    temperature, relative : float
    max_terms : int
        At most this many terms per asset, best first.

    Returns
    -------
    list of n lists of term names
    """
    if len(names) == 0 or len(vectors) == 0:
        return [[] for _ in range(len(vectors))]
    proba = ZeroShotClassifier(prototypes, list(names), temperature).fit(
        vectors).predict_proba(vectors)
    out = []
    for row in proba:
        order = np.argsort(-row, kind="stable")
        keep = [names[i] for i in order[:max_terms] if row[i] >= relative * row[order[0]]]
        out.append(keep)
    return out


def tag_prototypes(stages: StageConfig, embedder: Embedder) -> dict:
    """Embed the descriptions of every label the taggers choose among.

    Parameters
    ----------
    stages : the stage config (buying stages and the vocabularies, with descriptions)
    embedder : encodes the description texts

    Returns
    -------
    dict
        ``type``, ``personas``, ``industries``: ``(names, vectors of shape (c, d))``;
        ``stage``: ``(names, phrase vectors (p, d), class index per phrase (p,), type prior of
        shape (t, c))``, where ``t`` is the number of types.
    """
    stage_texts: list[str] = []
    owner: list[int] = []
    for i, s in enumerate(stages.buying_stages):
        phrases = description_phrases(s.label, s.description)
        stage_texts += phrases
        owner += [i] * len(phrases)
    vocab = {
        "type": [(t.name, describe(t.label, t.description)) for t in stages.asset_types]
        or [(t, t.replace("_", " ")) for t in ASSET_TYPES],
        "personas": [(t.name, describe(t.label, t.description)) for t in stages.personas],
        "industries": [(t.name, describe(t.label, t.description)) for t in stages.industries],
    }
    texts = stage_texts + [text for pairs in vocab.values() for _, text in pairs]
    vectors = embedder.encode(texts)
    stage_vecs, start = vectors[:len(stage_texts)], len(stage_texts)
    out: dict = {}
    for name, pairs in vocab.items():
        out[name] = ([n for n, _ in pairs], vectors[start:start + len(pairs)])
        start += len(pairs)
    owner_arr = np.asarray(owner, dtype=np.int64)
    out["stage"] = (stages.buying_stage_names, stage_vecs, owner_arr,
                    type_stage_affinity(out["type"][1], stage_vecs, owner_arr,
                                        len(stages.buying_stages)))
    return out


@dataclass
class Taggers:
    """Fitted stage and type taggers, and the persona and industry prototypes."""

    stage: LabelTagger
    type: LabelTagger
    type_names: list[str]
    personas: tuple[list[str], np.ndarray]
    industries: tuple[list[str], np.ndarray]

    def summary(self) -> str:
        acc = self.stage.cv_accuracy_.get(self.stage.chosen_)
        shown = f", accuracy {acc:.2f} on {self.stage.n_labelled_} labelled" if acc is not None \
            else f", {self.stage.n_labelled_} labelled"
        return f"stage tagger: {self.stage.chosen_}{shown}"

    def as_dict(self) -> dict:
        return {"chosen": self.stage.chosen_, "n_labelled": self.stage.n_labelled_,
                "cv_accuracy": {k: round(v, 4) for k, v in self.stage.cv_accuracy_.items()}}


def fit_taggers(prototypes: dict, vectors: np.ndarray, types: Sequence[str | None],
                stage_labels: Sequence[str | None], type_labels: Sequence[str | None],
                random_state: int = 0) -> Taggers:
    """Fit the stage and type taggers on the labelled assets of a library.

    Parameters
    ----------
    prototypes : dict from ``tag_prototypes``
    vectors : ndarray of shape (n, d), the asset vectors
    types : n asset types, labelled or not (the stage tagger's type feature)
    stage_labels : n stages a marketer gave or confirmed; None for the others
    type_labels : n types a marketer gave; None for the others
    random_state : int

    Returns
    -------
    Taggers
    """
    stage_names, stage_vecs, stage_owner, affinity = prototypes["stage"]
    type_names, type_vecs = prototypes["type"]
    staged = [i for i, label in enumerate(stage_labels) if label in stage_names]
    stage = LabelTagger(stage_vecs, stage_names, TEMPERATURE, prototype_class=stage_owner,
                        extra_scores=affinity, random_state=random_state)
    stage.fit(type_features(vectors[staged], [types[i] for i in staged], type_names),
              [stage_labels[i] for i in staged])
    typed = [i for i, label in enumerate(type_labels) if label in type_names]
    type_tagger = LabelTagger(type_vecs, type_names, TEMPERATURE, random_state=random_state)
    type_tagger.fit(vectors[typed], [type_labels[i] for i in typed])
    return Taggers(stage, type_tagger, type_names, prototypes["personas"],
                   prototypes["industries"])


def infer_tags(taggers: Taggers, vector: np.ndarray, given: Mapping) -> dict:
    """Return the tags of one asset: given values kept, the others inferred.

    Parameters
    ----------
    taggers : fitted ``Taggers``
    vector : ndarray of shape (d,), the asset vector
    given : the marketer's ``type``, ``stage`` (with ``stage_source``), ``personas`` and
        ``industries``; None (or absent) where not given

    Returns
    -------
    dict
        ``type``, ``type_source``, ``stage``, ``stage_source``, ``stage_confidence`` (None when
        given), ``personas``, ``industries`` and ``inferred`` (``{"personas": True, ...}`` for
        the inferred term lists).
    """
    row = vector.reshape(1, -1)
    out: dict = {"inferred": {}}
    if given.get("type"):
        out["type"], out["type_source"] = given["type"], "given"
    else:
        labels, _ = taggers.type.tag(row)
        out["type"], out["type_source"] = labels[0], "auto"
    if given.get("stage"):
        out.update(stage=given["stage"], stage_source=given.get("stage_source", "given"),
                   stage_confidence=None)
    else:
        labels, conf = taggers.stage.tag(type_features(row, [out["type"]], taggers.type_names))
        out.update(stage=labels[0], stage_source="auto", stage_confidence=float(conf[0]))
    for key, (names, vecs) in (("personas", taggers.personas),
                               ("industries", taggers.industries)):
        if given.get(key) is not None:
            out[key] = list(given[key])
        else:
            out[key] = infer_terms(row, vecs, names, TEMPERATURE)[0]
            out["inferred"][key] = True
    return out
