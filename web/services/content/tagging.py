"""Auto-tagging glue: label prototypes, taggers fitted on the labelled library, re-tagging.

Stage: ``LabelTagger`` (zero-shot on the stage description phrases, with a prior from the
asset type's description, until enough marketer-labelled
assets exist, then the best of zero-shot / logistic regression / kNN by cross-validated
accuracy). Type: the same, on embeddings only, against the type descriptions. Personas and
industries: multi-label zero-shot against the vocabulary descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Asset
from recommender.content.tagging import (
    LabelTagger,
    describe,
    description_phrases,
    infer_terms,
    type_features,
    type_stage_affinity,
)
from recommender.domain import ASSET_TYPES
from web.runtime import Baton

LABELLED = ("given", "confirmed")
TEMPERATURE = 0.05


@dataclass
class Taggers:
    """Fitted taggers and term prototypes for one model and one labelled library."""

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


def prototypes(baton: Baton) -> dict:
    """Return the vocabularies' names and description vectors, cached per model and config.

    ``stage`` holds phrase prototypes (rows, class index per row) and the type prior matrix.
    """
    key = ("library.prototypes", baton.embedder.name, id(baton.stages))
    cached = baton.cache.get(key)
    if cached is not None:
        return cached
    stages = baton.stages
    stage_texts, owner = [], []
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
    vectors = baton.embedder.encode(texts)
    stage_vecs, start = vectors[:len(stage_texts)], len(stage_texts)
    out: dict = {}
    for name, pairs in vocab.items():
        out[name] = ([n for n, _ in pairs], vectors[start:start + len(pairs)])
        start += len(pairs)
    owner_arr = np.asarray(owner, dtype=np.int64)
    out["stage"] = (stages.buying_stage_names, stage_vecs, owner_arr,
                    type_stage_affinity(out["type"][1], stage_vecs, owner_arr,
                                        len(stages.buying_stages)))
    baton.cache[key] = out
    return out


def fit_taggers(baton: Baton, session: Session, model: str) -> Taggers:
    """Fit the stage and type taggers on the labelled assets embedded with ``model``."""
    protos = prototypes(baton)
    stage_names, stage_vecs, stage_owner, affinity = protos["stage"]
    type_names, type_vecs = protos["type"]
    rows = session.execute(
        select(Asset.embedding, Asset.stage, Asset.stage_source, Asset.type, Asset.type_source)
        .where(Asset.status != "retired", Asset.embedding_model == model,
               Asset.embedding.is_not(None))
        .order_by(Asset.id)
    ).all()
    d = stage_vecs.shape[1]
    vecs = np.asarray([np.frombuffer(r[0], dtype=np.float32) for r in rows
                       if len(r[0]) == 4 * d], dtype=np.float32).reshape(-1, d)
    rows = [r for r in rows if len(r[0]) == 4 * d]
    staged = [i for i, r in enumerate(rows) if r[2] in LABELLED and r[1] in stage_names]
    stage = LabelTagger(stage_vecs, stage_names, TEMPERATURE, prototype_class=stage_owner,
                        extra_scores=affinity, random_state=baton.settings.seed)
    stage.fit(type_features(vecs[staged], [rows[i][3] for i in staged], type_names),
              [rows[i][1] for i in staged])
    typed = [i for i, r in enumerate(rows) if r[4] in LABELLED and r[3] in type_names]
    type_tagger = LabelTagger(type_vecs, type_names, TEMPERATURE,
                              random_state=baton.settings.seed)
    type_tagger.fit(vecs[typed], [rows[i][3] for i in typed])
    return Taggers(stage, type_tagger, type_names, protos["personas"], protos["industries"])


def infer(taggers: Taggers, vector: np.ndarray, given: dict) -> dict:
    """Return tag columns for one asset: given values kept, the others inferred.

    ``given`` holds the marketer's ``type``, ``stage``, ``personas``, ``industries`` (None when
    absent). Returns ``type``, ``type_source``, ``stage``, ``stage_source``,
    ``stage_confidence``, ``personas``, ``industries`` and ``inferred``.
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
    for key in ("personas", "industries"):
        if given.get(key) is not None:
            out[key] = list(given[key])
        else:
            names, vecs = getattr(taggers, key)
            out[key] = infer_terms(row, vecs, names, TEMPERATURE)[0]
            out["inferred"][key] = True
    return out


def retag(baton: Baton, model: str) -> Taggers:
    """Refit the taggers and re-tag every auto-tagged stage and type; one transaction."""
    with baton.session() as session:
        taggers = fit_taggers(baton, session, model)
        assets = session.scalars(
            select(Asset).where(Asset.status != "retired", Asset.embedding_model == model,
                                (Asset.stage_source == "auto") | (Asset.type_source == "auto"))
        ).all()
        for asset in assets:
            vector = np.frombuffer(asset.embedding, dtype=np.float32)
            given = {
                "type": asset.type if asset.type_source != "auto" else None,
                "stage": asset.stage if asset.stage_source != "auto" else None,
                "stage_source": asset.stage_source,
                "personas": asset.personas, "industries": asset.industries,
            }
            tags = infer(taggers, vector, given)
            for column in ("type", "type_source", "stage", "stage_source"):
                if getattr(asset, column) != tags[column]:
                    setattr(asset, column, tags[column])
            conf = tags["stage_confidence"]
            if asset.stage_confidence is None or conf is None or \
                    abs(asset.stage_confidence - conf) > 1e-6:
                asset.stage_confidence = conf
    baton.cache["library.taggers"] = taggers
    return taggers
