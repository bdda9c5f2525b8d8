"""Load the stage configuration (buying stages, pipelines, vocabularies) from YAML."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from recommender.domain import (
    BuyingStage,
    Pipeline,
    PipelineStage,
    StageConfig,
    VocabularyTerm,
)
from recommender.errors import ConfigError

DEFAULT_STAGES_FILE = "stages.yaml"


def _terms(raw: Any, key: str, source: str) -> tuple[VocabularyTerm, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: {key!r} must be a list")
    terms = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not item.get("name"):
            raise ConfigError(f"{source}: {key}[{i}] needs a 'name'")
        terms.append(
            VocabularyTerm(
                name=str(item["name"]),
                label=str(item.get("label") or item["name"]),
                description=str(item.get("description") or ""),
            )
        )
    return tuple(terms)


def parse_stage_config(data: Any, source: str = "stages config") -> StageConfig:
    """Build a ``StageConfig`` from parsed YAML, checking every mapping.

    Raises ``ConfigError`` naming the source and the offending key.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    raw_buying = data.get("buying_stages")
    if not isinstance(raw_buying, list) or not raw_buying:
        raise ConfigError(f"{source}: 'buying_stages' must be a non-empty list")
    buying = [
        BuyingStage(name=t.name, label=t.label, description=t.description)
        for t in _terms(raw_buying, "buying_stages", source)
    ]
    buying_names = {b.name for b in buying}

    raw_pipelines = data.get("pipelines")
    if not isinstance(raw_pipelines, list) or not raw_pipelines:
        raise ConfigError(f"{source}: 'pipelines' must be a non-empty list")
    pipelines = []
    for i, raw in enumerate(raw_pipelines):
        if not isinstance(raw, dict) or not raw.get("name") or not isinstance(
            raw.get("stages"), list
        ):
            raise ConfigError(f"{source}: pipelines[{i}] needs a 'name' and a 'stages' list")
        stages = []
        for order, st in enumerate(raw["stages"]):
            where = f"{source}: pipeline {raw['name']!r} stage {order}"
            if not isinstance(st, dict) or not st.get("name"):
                raise ConfigError(f"{where} needs a 'name'")
            outcome = st.get("outcome")
            if outcome not in (None, "won", "lost"):
                raise ConfigError(f"{where}: outcome must be 'won' or 'lost', not {outcome!r}")
            bstage = st.get("buying_stage")
            if outcome is None and bstage not in buying_names:
                raise ConfigError(
                    f"{where} ({st['name']!r}): buying_stage {bstage!r} is not one of "
                    f"{', '.join(sorted(buying_names))}"
                )
            prob = st.get("probability")
            stages.append(
                PipelineStage(
                    name=str(st["name"]),
                    label=str(st.get("label") or st["name"]),
                    buying_stage=None if outcome else str(bstage),
                    order=order,
                    probability=float(prob) if prob is not None else None,
                    outcome=outcome,
                )
            )
        pipelines.append(Pipeline(name=str(raw["name"]), stages=tuple(stages)))

    default = str(data.get("default_pipeline") or pipelines[0].name)
    if default not in {p.name for p in pipelines}:
        raise ConfigError(f"{source}: default_pipeline {default!r} is not a defined pipeline")
    return StageConfig(
        buying_stages=tuple(buying),
        pipelines=tuple(pipelines),
        default_pipeline=default,
        asset_types=_terms(data.get("asset_types"), "asset_types", source),
        personas=_terms(data.get("personas"), "personas", source),
        industries=_terms(data.get("industries"), "industries", source),
        products=_terms(data.get("products"), "products", source),
    )


def load_stage_config(path: str | Path | None = None) -> StageConfig:
    """Load the stage config from ``path``, or the defaults shipped with Baton."""
    if path is None:
        text = resources.files("recommender").joinpath(DEFAULT_STAGES_FILE).read_text("utf-8")
        source = "default stages.yaml"
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"stage config {str(p)!r} does not exist")
        text = p.read_text("utf-8")
        source = str(p)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_stage_config(data, source)
