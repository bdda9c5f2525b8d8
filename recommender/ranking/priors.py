"""A neutral effect model: what ranking uses before any outcome model is trained.

It offers the same ``posterior`` interface as ``recommender.learning.effects.ContentEffectModel`` and says
"no evidence either way": a zero effect with a wide standard deviation, so Thompson sampling
explores every asset at a controlled rate until outcomes are learned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

NEUTRAL_SD = 0.05  # five points of chance-to-advance: wide next to typical learned effects


class NeutralEffects:
    """The effect model of an untrained Baton: every asset's effect is 0 ± ``sd``.

    Parameters
    ----------
    sd : float
        Posterior standard deviation given to every asset, in probability units.
    """

    version = "neutral"

    def __init__(self, sd: float = NEUTRAL_SD):
        self.sd = float(sd)

    def posterior(self, asset_ids: Sequence[str], buying_stage: str,
                  context: dict | None = None,
                  asset_types: Mapping[str, str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(mean, sd)``, each of shape (len(asset_ids),): zeros and ``self.sd``."""
        n = len(asset_ids)
        return np.zeros(n, dtype=np.float64), np.full(n, self.sd, dtype=np.float64)
