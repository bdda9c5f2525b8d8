"""Sanity figures for off-policy evaluation (recommender.learning.ope): estimates vs a known truth.

1. Open Bandit Dataset (real logs, ZOZO): estimate the uniform-random policy's click rate from the
   Bernoulli Thompson sampling logs and compare with the random logs' own click rate (on-policy
   truth, itself noisy: its standard error is printed). Reads the extract in tests/data/obd, or
   ``--obd-dir`` pointing at ``obp/dataset/obd`` of the obp 0.5.7 sdist for all three campaigns.
2. Synthetic slate worlds with exact marginal propensities (independent inclusion) and Bernoulli
   item rewards: bias, RMSE and 90% interval coverage of IPS / SNIPS / DR for a deterministic
   top-3 target, with good and poor overlap.
3. Simulator worlds (recommender.learning.simulator, through the real import and the
   policy-evaluation service): the uniform-random lists' value estimated from the ε = 0.15
   logs, against the same world simulated with ε = 1 (every list random), for both rewards.
4. Speed: one evaluation (bootstrap, 300 resamples) on 100,000 logged lists.

Run: ``python bench/learning/ope_check.py`` (add ``--replications 200`` for tighter coverage).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from recommender.content.embedding import HashingEmbedder  # noqa: E402
from recommender.learning.logged_lists import LoggedLists  # noqa: E402
from recommender.learning.ope import evaluate_policy  # noqa: E402
from recommender.learning.simulator import simulate_world  # noqa: E402
from recommender.learning.simulator_files import write_world  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.content import ingest as library  # noqa: E402
from web.services.crm.importing import import_crm  # noqa: E402
from web.services.learning.policy_evaluation import evaluate_logged  # noqa: E402


def read_obd(path: Path) -> dict[str, np.ndarray]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in
            ("item_id", "position", "click", "propensity_score")}


def obd_section(obd_dir: Path | None) -> None:
    if obd_dir is None:
        pairs = [("all", REPO / "tests/data/obd/random_all.csv.gz",
                  REPO / "tests/data/obd/bts_all.csv.gz")]
    else:
        pairs = [(c, obd_dir / f"random/{c}/{c}.csv", obd_dir / f"bts/{c}/{c}.csv")
                 for c in ("all", "men", "women")]
    print("## Open Bandit Dataset: uniform-random policy estimated from Bernoulli-TS logs\n")
    print("| campaign | items | truth (random logs) ± se | estimator | clip | estimate | "
          "90% interval | rel. error | ESS |")
    print("|---|---:|---|---|---:|---:|---|---:|---:|")
    for campaign, random_path, bts_path in pairs:
        rnd, bts = read_obd(random_path), read_obd(bts_path)
        truth = rnd["click"].mean()
        se = np.sqrt(truth * (1 - truth) / len(rnd["click"]))
        n_items = int(max(rnd["item_id"].max(), bts["item_id"].max())) + 1
        pos = bts["position"].astype(int)
        items = bts["item_id"].astype(int)
        target = [{(int(p), j): 1.0 / n_items for j in range(n_items)} for p in pos]
        logged = LoggedLists(np.arange(len(items)), list(zip(pos.tolist(), items.tolist(),
                                                             strict=True)),
                             bts["click"], bts["propensity_score"], target)
        for clip in (None, 100.0):
            res = evaluate_policy(logged, clip=clip, n_boot=500, seed=0)
            for est in res.estimates:
                print(f"| {campaign} | {n_items} | {truth:.5f} ± {se:.5f} | {est.estimator} | "
                      f"{clip or '–'} | {est.value:.5f} | {est.lower:.5f}–{est.upper:.5f} | "
                      f"{(est.value - truth) / truth:+.1%} | {res.effective_sample_size:.0f} |")
        print(f"| {campaign} | {n_items} | | logging (BTS on-policy) | | "
              f"{res.logging.value:.5f} | {res.logging.lower:.5f}–{res.logging.upper:.5f} | "
              f"{(res.logging.value - truth) / truth:+.1%} | |")
    print()


def slate_world(rng: np.random.Generator, n_lists: int, n_items: int, k: int,
                incl_low: float, incl_high: float):
    q = rng.uniform(0.02, 0.4, n_items)
    incl = rng.uniform(incl_low, incl_high, n_items)
    target_items = np.argsort(-q)[:k]
    shown = rng.random((n_lists, n_items)) < incl
    lst, item = np.nonzero(shown)
    rewards = (rng.random(len(item)) < q[item]).astype(float)
    target = [{int(j): 1.0 for j in target_items}] * n_lists
    logged = LoggedLists(lst, item.tolist(), rewards, incl[item], target)
    return logged, float(q[target_items].sum())


def synthetic_section(replications: int) -> None:
    print("## Synthetic slate worlds: top-3 target, 12 items, 2,000 lists per replication\n")
    print("| overlap | logging inclusion prob. | estimator | mean bias | RMSE | "
          "90% coverage (normal) | 90% coverage (bootstrap) |")
    print("|---|---|---|---:|---:|---:|---:|")
    for label, lo, hi in (("good", 0.1, 0.6), ("poor", 0.01, 0.6)):
        errors: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
        cover_n = {k: 0 for k in errors}
        cover_b = {k: 0 for k in errors}
        for r in range(replications):
            rng = np.random.default_rng(1000 + r)
            logged, truth = slate_world(rng, 2000, 12, 3, lo, hi)
            normal = evaluate_policy(logged, interval="normal", seed=r)
            boot = evaluate_policy(logged, interval="bootstrap", n_boot=200, seed=r)
            for est_n, est_b in zip(normal.estimates, boot.estimates, strict=True):
                errors[est_n.estimator].append(est_n.value - truth)
                cover_n[est_n.estimator] += est_n.lower <= truth <= est_n.upper
                cover_b[est_b.estimator] += est_b.lower <= truth <= est_b.upper
        for name, errs in errors.items():
            e = np.array(errs)
            print(f"| {label} | {lo}–{hi} | {name} | {e.mean():+.4f} | "
                  f"{np.sqrt((e ** 2).mean()):.4f} | {cover_n[name] / replications:.2f} | "
                  f"{cover_b[name] / replications:.2f} |")
    print(f"\n({replications} replications per row; the target's true value is about 1.0 "
          "share per list.)\n")


def speed_section() -> None:
    rng = np.random.default_rng(7)
    logged, _ = slate_world(rng, 100_000, 50, 5, 0.02, 0.2)
    start = time.perf_counter()
    res = evaluate_policy(logged, n_boot=300)
    took = time.perf_counter() - start
    print("## Speed\n")
    print("| lists | shown items | estimators | interval | seconds |")
    print("|---:|---:|---|---|---:|")
    print(f"| {res.n_lists:,} | {res.n_items:,} | ips, snips, dr | bootstrap ×300 | "
          f"{took:.1f} |\n")


def uniform_target(stage, candidates, k, context):
    """uniform k-subset of the stage's assets"""
    return {a: k / len(candidates) for a in candidates}


def load_world(world, root: Path):
    """A fresh database holding a simulated world (content ingested, CRM imported)."""
    write_world(world, root / "world")
    baton = Baton(Settings(instance_path=str(root / "inst"), database_url=f"sqlite:///{root}/b.db",
                           embedding_model="baton-hashing", secret_key="bench"),
                  embedder=HashingEmbedder())
    baton.init_database()
    library.ingest_paths(baton, [root / "world" / "content"])
    import_crm(baton, [root / "world"], format="baton")
    return baton


def simulator_section(seeds: list[int], n_opportunities: int) -> None:
    """Uniform-random lists' value estimated from the ε = 0.15 logs of a simulated world.

    Truth: the same world (same seed, same assets, reps and effects) simulated with ε = 1, so
    every list is uniformly random; its on-policy value is measured with the same reward code.
    """
    print("## Simulator worlds: uniform-random lists estimated from the ε = 0.15 logs\n")
    print("| seed | deals | reward | truth (ε = 1 world) | estimator | estimate | 90% interval "
          "| rel. error | ESS / items |")
    print("|---:|---:|---|---:|---|---:|---|---:|---:|")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            logs = load_world(simulate_world(seed, n_opportunities, epsilon=0.15),
                              Path(tmp) / "logs")
            truth_world = load_world(simulate_world(seed, n_opportunities, epsilon=1.0),
                                     Path(tmp) / "truth")
            for reward in ("engaged", "advanced"):
                with truth_world.session() as session:
                    truth = evaluate_logged(truth_world, session, reward=reward,
                                            target=uniform_target, interval="normal")
                with logs.session() as session:
                    rep = evaluate_logged(logs, session, reward=reward, target=uniform_target,
                                          n_boot=300, seed=seed)
                value = truth.result.logging.value
                res = rep.result
                for est in [*res.estimates, res.logging]:
                    name = "logging (ε = 0.15)" if est.estimator == "on-policy" else est.estimator
                    print(f"| {seed} | {n_opportunities} | {reward} | {value:.4f} ± "
                          f"{truth.result.logging.se:.4f} | {name} | {est.value:.4f} | "
                          f"{est.lower:.4f}–{est.upper:.4f} | {(est.value - value) / value:+.1%} "
                          f"| {res.effective_sample_size:.0f} / {res.n_items} |")
            logs.close()
            truth_world.close()
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obd-dir", type=Path, help="obp/dataset/obd of the obp 0.5.7 sdist")
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--opportunities", type=int, default=4000)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["obd", "synthetic", "simulator", "speed"])
    args = parser.parse_args()
    if "obd" not in args.skip:
        obd_section(args.obd_dir)
    if "synthetic" not in args.skip:
        synthetic_section(args.replications)
    if "simulator" not in args.skip:
        simulator_section(args.seeds, args.opportunities)
    if "speed" not in args.skip:
        speed_section()


if __name__ == "__main__":
    main()
