"""The effect-model interface ranking needs, and the neutral model used before any is trained.

``EffectModel`` is what ranking asks of a model: a ``posterior`` per asset and a ``version``
logged with every list. ``recommender.learning.effects.ContentEffectModel`` is the learned one;
``NeutralEffects`` says "no evidence either way": a zero effect with a wide standard deviation,
so Thompson sampling explores every asset at a controlled rate until outcomes are learned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

NEUTRAL_SD = 0.05  # five points of chance-to-advance: wide next to typical learned effects


class EffectModel(Protocol):
    """An effect model as ranking uses it."""

    @property
    def version(self) -> str:
        """A short name of the fitted effects, logged with every served list."""
        ...

    def posterior(self, asset_ids: Sequence[str], buying_stage: str,
                  context: Mapping | None = None,
                  asset_types: Mapping[str, str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Return the effect posterior ``(mean, sd)``, each of shape (len(asset_ids),)."""
        ...


class NeutralEffects:
    """The effect model of an untrained Baton: every asset's effect is 0 ± ``sd``.

    Parameters
    ----------
    sd : float
        Posterior standard deviation given to every asset, in probability units.
    """

    def __init__(self, sd: float = NEUTRAL_SD):
        self.sd = float(sd)

    @property
    def version(self) -> str:
        """The version logged with lists served before any model is trained."""
        return "neutral"

    def posterior(self, asset_ids: Sequence[str], buying_stage: str,
                  context: Mapping | None = None,
                  asset_types: Mapping[str, str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(mean, sd)``, each of shape (len(asset_ids),): zeros and ``self.sd``."""
        n = len(asset_ids)
        return np.zeros(n, dtype=np.float64), np.full(n, self.sd, dtype=np.float64)
