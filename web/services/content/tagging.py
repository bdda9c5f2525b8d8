"""Auto-tagging of the library: fit the core's taggers on the labelled assets, re-tag the rest.

The taggers themselves (zero-shot, supervised, multi-label terms) live in
``recommender.content.tagging``; this module reads labelled assets from the database, calls
them and writes the tags back.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Asset
from recommender.content import tagging
from recommender.content.tagging import Taggers, infer_tags, tag_prototypes
from web.runtime import Baton

LABELLED = ("given", "confirmed")  # tag sources set by a marketer, not inferred


def prototypes(baton: Baton) -> dict:
    """Return the labels' description vectors (``tag_prototypes``), cached per model and config."""
    key = f"library.prototypes:{baton.embedder.name}:{id(baton.stages)}"
    cached = baton.cache.get(key)
    if cached is None:
        cached = baton.cache[key] = tag_prototypes(baton.stages, baton.embedder)
    return cached


def fit_taggers(baton: Baton, session: Session, model: str) -> Taggers:
    """Fit the stage and type taggers on the labelled assets embedded with ``model``."""
    protos = prototypes(baton)
    d = protos["stage"][1].shape[1]
    rows = [r for r in session.execute(
        select(Asset.embedding, Asset.stage, Asset.stage_source, Asset.type, Asset.type_source)
        .where(Asset.status != "retired", Asset.embedding_model == model,
               Asset.embedding.is_not(None))
        .order_by(Asset.id)
    ).all() if len(r.embedding) == 4 * d]
    vectors = np.asarray([np.frombuffer(r.embedding, dtype=np.float32) for r in rows],
                         dtype=np.float32).reshape(-1, d)
    return tagging.fit_taggers(
        protos, vectors, [r.type for r in rows],
        stage_labels=[r.stage if r.stage_source in LABELLED else None for r in rows],
        type_labels=[r.type if r.type_source in LABELLED else None for r in rows],
        random_state=baton.settings.seed)


def retag(baton: Baton, model: str) -> Taggers:
    """Refit the taggers and re-tag every auto-tagged stage and type; one transaction."""
    with baton.session() as session:
        taggers = fit_taggers(baton, session, model)
        assets = session.scalars(
            select(Asset).where(Asset.status != "retired", Asset.embedding_model == model,
                                (Asset.stage_source == "auto") | (Asset.type_source == "auto"))
        ).all()
        for asset in assets:
            assert asset.embedding is not None  # every asset with a model has its vector
            vector = np.frombuffer(asset.embedding, dtype=np.float32)
            tags = infer_tags(taggers, vector, {
                "type": asset.type if asset.type_source != "auto" else None,
                "stage": asset.stage if asset.stage_source != "auto" else None,
                "stage_source": asset.stage_source,
                "personas": asset.personas, "industries": asset.industries,
            })
            _write_stage_and_type(asset, tags)
    return taggers


def _write_stage_and_type(asset: Asset, tags: dict) -> None:
    """Set the asset's stage and type columns that changed (unchanged rows stay clean)."""
    if asset.type != tags["type"]:
        asset.type = tags["type"]
    if asset.type_source != tags["type_source"]:
        asset.type_source = tags["type_source"]
    if asset.stage != tags["stage"]:
        asset.stage = tags["stage"]
    if asset.stage_source != tags["stage_source"]:
        asset.stage_source = tags["stage_source"]
    conf = tags["stage_confidence"]
    if asset.stage_confidence is None or conf is None or \
            abs(asset.stage_confidence - conf) > 1e-6:
        asset.stage_confidence = conf
