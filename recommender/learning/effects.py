"""The causal outcome learner: what sharing an asset does to a deal's chance to advance.

Method (defensible, and cheap enough for a million events on two cores):

1. **Episodes** (``recommender.learning.episodes``): every visit of a buying stage, cut into
   weeks, with time-varying exposures (an asset counts from the week after it was shared, and
   only if it was shared before the visit's outcome; open visits are censored, never losses).
   Comparing deals week by week *at the same time in stage* removes the immortal-time bias of
   "deals that live longer collect more touches".
2. **Pooled discrete-time hazard models** per buying stage (``recommender.learning.hazard``,
   fitted per stage in ``recommender.learning.stage_fit``): a logistic model of advancing in
   week *k* and one of exiting (lost / moved back) given no advance, with week-in-stage dummies,
   deal size, industry, persona, prior activity on the deal (shares in earlier stages), **rep
   effects** (the confounder "good reps share more and win more"; a Gaussian prior of sd
   ``rep_prior_sd`` on the log-odds, i.e. random-effect-like) and the asset exposure
   indicators. Segment effects come from a third model (advance, same covariates) with
   asset x industry / persona interactions where both sides of the segment have
   ``min_segment_support`` exposed visits; the pooled effects come from the models without
   them (with a full set of interactions the main effect is identified only by the prior).
3. **Effect** (the estimand, in probability units): the difference in the probability of
   advancing out of the stage within the visit if the asset is shared at the start of the visit
   versus never, other content held at none, averaged over the stage's observed visits
   (standardisation / g-formula over ``n_reference`` sampled visits, ``horizon_weeks`` weeks).
   Its standard error comes from the Laplace posterior of the two exposure coefficients
   (one-sd finite differences of the standardised probability, combined in quadrature).
4. **Empirical-Bayes shrinkage** (normal-normal): per stage the between-asset variance ``tau^2``
   (DerSimonian-Laird, separately for assets tagged with this stage and others) and a prior mean
   per asset type x stage (leave-one-out, pooled towards the stage mean). The posterior
   ``mean, sd`` are reported with a ``level`` interval. The type x stage prior is also the
   cold-start prior of new assets. Cells shared in fewer than ``min_support`` visits keep it.
   Segment cells are not shrunk further: their interaction prior (``segment_prior_sd``) already
   pulls them towards the pooled effect.
5. **Win effect**: the advance effect times the baseline probability of winning once past the
   stage (product of the later stages' baseline advance probabilities): the effect on the final
   win if content acts through the stage where it is shared.

Beside each estimate: ``naive_rate`` / ``naive_rate_unused``, the win rate of closed deals that
reached the stage with and without the asset ever shared (what commercial tools report).
Assumptions, stated: no unmeasured confounding given rep, deal covariates, time in stage and
prior activity (a rep who shares because a deal *feels* warm is not seen); content acts on the
visit during which it is shared. The randomized share of the logging policy's lists is what
makes the first checkable (``baton evaluate-policy``). The artifact is JSON (no pickle).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from recommender.errors import ModelError, NotFittedError, UnknownStageError, ValidationError
from recommender.learning.episodes import Episodes
from recommender.learning.shrinkage import shrink
from recommender.learning.stage_fit import StageFitParams, fit_stage

ARTIFACT_FORMAT = "baton-effects/1"


@dataclass
class EffectEstimate:
    """One asset x buying stage (x segment) effect, in probability-of-advancing units."""

    asset_id: str
    buying_stage: str
    segment: str | None
    effect: float  # posterior mean
    lower: float
    upper: float
    sd: float
    support: int  # visits in which the asset was exposed (shared before the outcome)
    n_visits: int  # visits of this stage (this segment) in the data
    naive_rate: float | None
    naive_rate_unused: float | None
    win_effect: float
    win_lower: float
    win_upper: float
    raw_effect: float | None = None  # adjusted estimate before shrinkage
    raw_se: float | None = None
    prior_mean: float = 0.0
    prior_sd: float = 0.0
    log_odds: float | None = None  # weekly advance-hazard coefficient
    asset_type: str | None = None


class ContentEffectModel:
    """Per asset x buying stage effect of sharing on advancing, with shrinkage and intervals.

    Parameters
    ----------
    max_week : int
        Weeks in stage get their own baseline hazard up to this; later weeks share one.
    rep_prior_sd, exposure_prior_sd, segment_prior_sd : float
        Prior sd (log-odds) of rep effects, asset exposures, asset x segment interactions.
    exit_prior_sd : float
        Prior sd of the exposures in the exit model: losses are rarer than advances, so the
        effect of content on losing is shrunk harder.
    min_support : int
        Exposed visits needed before an asset's own estimate is used (else its prior).
    min_segment_support : int
        Exposed visits needed in and outside a segment to estimate a segment effect.
    n_reference : int
        Visits sampled per stage to standardise effects over.
    horizon_weeks : int
        Weeks summed when turning hazards into a probability of advancing.
    level : float
        Interval level (0.90: 5% and 95% posterior quantiles).
    random_state : int or None
        Seed of the reference-visit sampling.
    """

    def __init__(self, max_week: int = 12, rep_prior_sd: float = 1.0,
                 exposure_prior_sd: float = 1.0, exit_prior_sd: float = 0.5,
                 segment_prior_sd: float = 0.5,
                 min_support: int = 5, min_segment_support: int = 40, n_reference: int = 300,
                 horizon_weeks: int = 52, level: float = 0.90, random_state: int | None = None):
        self.max_week = max_week
        self.rep_prior_sd = rep_prior_sd
        self.exposure_prior_sd = exposure_prior_sd
        self.exit_prior_sd = exit_prior_sd
        self.segment_prior_sd = segment_prior_sd
        self.min_support = min_support
        self.min_segment_support = min_segment_support
        self.n_reference = n_reference
        self.horizon_weeks = horizon_weeks
        self.level = level
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in (
            "max_week", "rep_prior_sd", "exposure_prior_sd", "exit_prior_sd",
            "segment_prior_sd", "min_support", "min_segment_support", "n_reference",
            "horizon_weeks", "level", "random_state")}

    # ------------------------------------------------------------------ fitting
    def fit(self, episodes: Episodes, asset_types: Mapping[str, str] | None = None,
            asset_stages: Mapping[str, str] | None = None) -> ContentEffectModel:
        """Fit the hazard models and the shrinkage on ``episodes``; returns ``self``.

        ``asset_types`` / ``asset_stages`` (asset id -> type / tagged buying stage) define the
        prior groups; assets without a type share their stage's prior.
        """
        if not isinstance(episodes, Episodes):
            raise ValidationError("fit expects recommender.learning.episodes.Episodes")
        if not 0 < self.level < 1:
            raise ValidationError("level must be within (0, 1)")
        rng = np.random.default_rng(self.random_state)
        ep = episodes
        types = dict(asset_types or {})
        tagged = dict(asset_stages or {})
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        stages = ep.stage_names
        p0: dict[str, float] = {}
        raw: dict[str, dict] = {}
        params = StageFitParams(
            max_week=self.max_week, rep_prior_sd=self.rep_prior_sd,
            exposure_prior_sd=self.exposure_prior_sd, exit_prior_sd=self.exit_prior_sd,
            segment_prior_sd=self.segment_prior_sd,
            min_segment_support=self.min_segment_support, n_reference=self.n_reference,
            horizon_weeks=self.horizon_weeks)
        # The matrices are small: BLAS threads only fight each other (and other processes).
        with threadpool_limits(1):
            for s, stage in enumerate(stages):
                raw[stage] = fit_stage(ep, s, rng, params)
                p0[stage] = raw[stage]["p0"]
        # Baseline P(win | advanced past stage s): product of later stages' advance probability.
        win_after = {}
        for s, stage in enumerate(stages):
            later = [p0[x] for x in stages[s + 1:]]
            win_after[stage] = float(np.prod(later)) if later else 1.0
        effects: list[EffectEstimate] = []
        priors: dict[str, dict[str, list[float]]] = {}
        for stage in stages:
            cells = raw[stage]["cells"]
            priors[stage] = shrink(cells, types, tagged, stage, self.min_support)
            for c in cells:
                ww = win_after[stage]
                effects.append(EffectEstimate(
                    asset_id=c["asset_id"], buying_stage=stage, segment=c["segment"],
                    effect=c["mean"], lower=c["mean"] - z * c["sd"],
                    upper=c["mean"] + z * c["sd"], sd=c["sd"], support=c["support"],
                    n_visits=c["n_visits"], naive_rate=c["naive"], naive_rate_unused=c["unused"],
                    win_effect=ww * c["mean"], win_lower=ww * (c["mean"] - z * c["sd"]),
                    win_upper=ww * (c["mean"] + z * c["sd"]), raw_effect=c["raw"],
                    raw_se=c["se"], prior_mean=c["prior_mean"], prior_sd=c["prior_sd"],
                    log_odds=c["log_odds"], asset_type=types.get(c["asset_id"])))
        self.effects_ = effects
        self.priors_ = priors
        self.asset_types_ = types
        self.stage_names_ = list(stages)
        self.baseline_ = dict(p0)
        self.n_visits_ = ep.n_visits
        self.summary_ = dict(ep.summary(), z=z)
        self.meta_: dict = {}
        self._index()
        return self

    # ------------------------------------------------------------------ serving
    def _index(self) -> None:
        """Lookup for ``posterior``: pooled cells, and segment cells that credibly differ.

        A segment estimate replaces the pooled one only when the pooled mean lies outside the
        segment's interval: a noisy segment estimate would otherwise trade bias for variance
        on every deal of that segment.
        """
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        pooled = {(e.asset_id, e.buying_stage): e for e in self.effects_ if e.segment is None}
        self._lookup = {}
        for e in self.effects_:
            base = pooled.get((e.asset_id, e.buying_stage))
            if e.segment is None or base is None or abs(e.effect - base.effect) > z * e.sd:
                self._lookup[(e.asset_id, e.buying_stage, e.segment)] = (e.effect, e.sd)

    def _check(self) -> None:
        if not hasattr(self, "effects_"):
            raise NotFittedError("ContentEffectModel is not fitted: call fit() or load()")

    def _stage(self, buying_stage: str) -> str:
        key = " ".join(str(buying_stage).split()).casefold()
        for name in self.stage_names_:
            if name.casefold() == key:
                return name
        raise UnknownStageError(str(buying_stage), list(self.stage_names_))

    def prior(self, buying_stage: str, asset_type: str | None = None) -> tuple[float, float]:
        """The cold-start prior ``(mean, sd)`` of a new asset of ``asset_type`` at a stage."""
        self._check()
        pri = self.priors_.get(self._stage(buying_stage), {})
        mean, sd = pri.get(asset_type or "*", pri.get("*", [0.0, 0.05]))
        return float(mean), float(sd)

    def posterior(self, asset_ids: Sequence[str], buying_stage: str,
                  context: Mapping | None = None,
                  asset_types: Mapping[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior ``(mean (n,), sd (n,))`` of each asset's effect at ``buying_stage``.

        ``context`` may carry the deal's ``industry`` / ``persona``: a segment estimate is used
        where one exists and credibly differs from the pooled one. Unknown (new) assets get the
        prior of their type x stage; pass ``asset_types`` for assets the model has not seen.
        """
        self._check()
        stage = self._stage(buying_stage)
        segs = []
        for kind in ("industry", "persona"):
            if context and context.get(kind):
                segs.append(f"{kind}={context[kind]}")
        mean = np.empty(len(asset_ids))
        sd = np.empty(len(asset_ids))
        types = dict(self.asset_types_)
        types.update(asset_types or {})
        for i, aid in enumerate(asset_ids):
            found = [self._lookup[(aid, stage, s)] for s in segs if (aid, stage, s) in self._lookup]
            if found:
                mean[i], sd[i] = min(found, key=lambda x: x[1])
            elif (aid, stage, None) in self._lookup:
                mean[i], sd[i] = self._lookup[(aid, stage, None)]
            else:
                mean[i], sd[i] = self.prior(stage, types.get(aid))
        return mean, sd

    @property
    def version(self) -> str:
        """A short content hash of the fitted effects (logged with recommendations)."""
        self._check()
        blob = json.dumps([asdict(e) for e in self.effects_], sort_keys=True).encode()
        return "effects-" + hashlib.sha256(blob).hexdigest()[:12]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        self._check()
        return {"format": ARTIFACT_FORMAT, "params": self.get_params(),
                "stage_names": self.stage_names_, "baseline": self.baseline_,
                "n_visits": self.n_visits_, "summary": self.summary_, "priors": self.priors_,
                "asset_types": self.asset_types_,
                "effects": [asdict(e) for e in self.effects_]}

    def save(self, path: str | Path, extra: Mapping | None = None) -> Path:
        """Write the fitted model as JSON (``extra`` adds metadata, e.g. data/code versions)."""
        data = self.to_dict()
        data["meta"] = dict(extra or {})
        path = Path(path)
        path.write_text(json.dumps(data, indent=1, default=str), "utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Mapping) -> ContentEffectModel:
        if not isinstance(data, Mapping) or data.get("format") != ARTIFACT_FORMAT:
            raise ModelError(f"not a {ARTIFACT_FORMAT} artifact")
        try:
            model = cls(**data["params"])
            model.effects_ = [EffectEstimate(**e) for e in data["effects"]]
            model.priors_ = data["priors"]
            model.asset_types_ = dict(data.get("asset_types") or {})
            model.stage_names_ = list(data["stage_names"])
            model.baseline_ = dict(data["baseline"])
            model.n_visits_ = int(data["n_visits"])
            model.summary_ = dict(data.get("summary") or {})
            model.meta_ = dict(data.get("meta") or {})
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"corrupt effects artifact: {exc}") from None
        model._index()
        return model

    @classmethod
    def load(cls, path: str | Path) -> ContentEffectModel:
        """Load a model written by ``save``; a missing or corrupt file raises ``ModelError``."""
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read effects artifact {path}: {exc}") from None
        return cls.from_dict(data)
