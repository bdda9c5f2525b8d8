"""Outcome learning benchmark: Baton vs naive attribution vs popularity on simulated worlds.

    python bench/learning/run.py [--seeds 1 2 3] [--opportunities 4000]

For each seed: simulate a world (``recommender.learning.simulator``), build episodes, fit
``ContentEffectModel`` and score three rankings of every asset x buying stage against the truth:

* **baton**: posterior mean of the causal effect (segment-aware for a deal's context);
* **naive**: win rate of closed deals where the asset was used minus where it was not;
* **popularity**: number of visits in which the asset was shared in that stage.

Figures: Spearman of scores vs true effects (all asset x stage cells the model reports),
precision@5 per stage, decoys (zero-effect assets favoured by strong reps) in each stage's top 5,
90% interval coverage (baton only), and for open deals the share of the oracle's lift that the
top-3 captures, ``(policy - random) / (oracle - random)``, with true effects of the deal's stage
and segment, candidates = the whole library.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from recommender.learning.effects import ContentEffectModel  # noqa: E402
from recommender.learning.episodes import build_episodes  # noqa: E402
from recommender.learning.simulator import simulate_world  # noqa: E402
from recommender.stage_config import load_stage_config  # noqa: E402

STAGES = ("awareness", "consideration", "decision")


def true_effect(truth: dict, asset: str, stage: str, industry: str, persona: str) -> float:
    entry = truth[asset]
    seg = entry["segments"].get(stage)
    if seg:
        for key in (f"industry={industry}", f"persona={persona}"):
            if key in seg:
                return seg[key]
        return seg.get("other", entry["effects"][stage])
    return entry["effects"][stage]


def evaluate(seed: int, n: int) -> dict[str, dict[str, float]]:
    t = time.perf_counter()
    world = simulate_world(seed, n)
    t_sim = time.perf_counter() - t
    stages = load_stage_config(None)
    t = time.perf_counter()
    ep = build_episodes(world.opportunities, world.stage_history, world.events, stages,
                        now=world.end)
    model = ContentEffectModel(random_state=seed).fit(
        ep, asset_types={a["id"]: a["type"] for a in world.assets},
        asset_stages={a["id"]: a["stage"] for a in world.assets})
    t_fit = time.perf_counter() - t
    truth = world.truth["assets"]
    ids = [a["id"] for a in world.assets]
    cells = [e for e in model.effects_ if e.segment is None]
    scores: dict[str, dict[tuple[str, str], float]] = {"baton": {}, "naive": {},
                                                       "popularity": {}}
    for e in cells:
        key = (e.asset_id, e.buying_stage)
        scores["baton"][key] = e.effect
        scores["naive"][key] = (e.naive_rate or 0.0) - (e.naive_rate_unused or 0.0)
        scores["popularity"][key] = float(e.support)
    out: dict[str, dict[str, float]] = {}
    true_cells = [truth[a]["effects"][s] for a, s in scores["baton"]]
    for name, sc in scores.items():
        res = {"spearman": float(spearmanr(list(sc.values()), true_cells)[0])}
        precisions, decoys = [], 0
        for stage in STAGES:
            if name == "baton":
                mean, _ = model.posterior(ids, stage)
                full = dict(zip(ids, mean, strict=True))
            else:
                full = {a: sc.get((a, stage), -1e9) for a in ids}
            top = sorted(ids, key=lambda a: -full[a])[:5]
            best = sorted(ids, key=lambda a: -truth[a]["effects"][stage])[:5]
            precisions.append(len(set(top) & set(best)) / 5)
            decoys += sum(truth[a]["decoy"] for a in top)
            res[f"p@5 {stage[:5]}"] = precisions[-1]
        res["decoys top5"] = decoys
        if name == "baton":
            res["coverage"] = float(np.mean([e.lower <= truth[e.asset_id]["effects"][
                e.buying_stage] <= e.upper for e in cells]))
        gain = regret = 0.0
        for o in world.opportunities:
            if o["status"] != "open":
                continue
            stage = stages.resolve_buying_stage(o["stage"])
            tv = np.array([true_effect(truth, a, stage, o["industry"], o["persona"])
                           for a in ids])
            if name == "baton":
                s, _ = model.posterior(ids, stage, {"industry": o["industry"],
                                                    "persona": o["persona"]})
            else:
                s = np.array([sc.get((a, stage), -1e9) for a in ids])
            pick = np.argsort(-s, kind="stable")[:3]
            oracle = np.sort(tv)[-3:].sum()
            rand = 3 * tv.mean()
            gain += tv[pick].sum() - rand
            regret += oracle - rand
        res["lift"] = gain / regret if regret else float("nan")
        out[name] = res
    out["_time"] = {"simulate_s": t_sim, "fit_s": t_fit, "events": len(world.events)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--opportunities", type=int, default=4000)
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        res = evaluate(seed, args.opportunities)
        results.append(res)
        tm = res["_time"]
        print(f"seed {seed}: {tm['events']} events, simulate {tm['simulate_s']:.1f}s, "
              f"episodes+fit {tm['fit_s']:.1f}s", flush=True)
    metrics = [k for k in results[0]["baton"]]
    print()
    print(f"{args.opportunities} opportunities x seeds {args.seeds} (mean over seeds; "
          f"min..max in brackets)")
    header = f"| {'metric':14s} | " + " | ".join(f"{m:>22s}" for m in
                                                 ("baton", "naive", "popularity")) + " |"
    print(header)
    print("|" + "-" * 16 + "|" + "|".join(["-" * 24] * 3) + "|")
    for metric in metrics:
        cells = []
        for name in ("baton", "naive", "popularity"):
            vals = [r[name][metric] for r in results if metric in r[name]]
            if not vals:
                cells.append(f"{'-':>22s}")
                continue
            if metric == "decoys top5":
                cells.append(f"{sum(vals):>10.0f} (total)      ")
            else:
                cells.append(f"{np.mean(vals):8.3f} [{min(vals):5.2f}..{max(vals):5.2f}]")
        print(f"| {metric:14s} | " + " | ".join(cells) + " |")
    targets = {"spearman": ">= 0.75", "coverage": "0.85..0.95", "lift": ">= 0.8",
               "decoys top5": "0"}
    print()
    print("targets (baton): " + ", ".join(f"{k} {v}" for k, v in targets.items()))


if __name__ == "__main__":
    main()
