"""Map CRM pipeline stage names to buying stages, tolerating names from other pipelines."""

from __future__ import annotations

from recommender.domain import StageConfig
from recommender.errors import UnknownStageError


class StageMapper:
    """Resolve pipeline stage names to buying stages, once per (name, pipeline).

    A name unknown in the deal's pipeline is looked up in every pipeline; a name unknown
    everywhere (or a closed stage) maps to None, so history rows from renamed stages are skipped
    rather than failing a whole report.

    Parameters
    ----------
    stages : StageConfig
    """

    def __init__(self, stages: StageConfig):
        self.stages = stages
        self.cache: dict[tuple[str, str | None], str | None] = {}

    def __call__(self, name: str | None, pipeline: str | None = None) -> str | None:
        if not name:
            return None
        key = (name, pipeline)
        if key not in self.cache:
            try:
                self.cache[key] = self.stages.resolve_buying_stage(name, pipeline)
            except UnknownStageError:
                try:
                    self.cache[key] = self.stages.resolve_buying_stage(name)
                except UnknownStageError:
                    self.cache[key] = None
        return self.cache[key]
