"""Effect estimates in the learner's output shape, for the analytics and review tests."""

from __future__ import annotations

from dataclasses import dataclass

STAGES = ["awareness", "consideration", "decision"]


@dataclass
class Estimate:
    """An EffectEstimate-like record (the learner's output shape)."""

    asset_id: str
    buying_stage: str
    effect: float
    lower: float
    upper: float
    support: int
    segment: str = ""
