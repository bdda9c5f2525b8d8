"""Latency of the recommend service in-process (rank + serve + propensities + log), by library size.

Builds a synthetic library (random unit vectors, 4 passages per asset, tags) in a SQLite file
under bench/out/, then calls ``web.services.ranking.recommendations.recommend`` for random open
deals and prints p50 / p99 / mean per call, and the share spent in the policy (ranking +
Monte-Carlo propensities) alone. The API benchmark (bench/api_load.py) measures the HTTP endpoint.

    OPENBLAS_NUM_THREADS=1 python bench/recommend_service.py [--assets 10000 100000] [--calls 300]

Wall-clock figures depend on what else runs on the machine; the CPU columns (process time of
the call, single-threaded BLAS) are the cost of the call itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import Asset, Opportunity, Passage  # noqa: E402
from recommender.content.embedding import HashingEmbedder  # noqa: E402
from recommender.domain import ASSET_TYPES  # noqa: E402
from recommender.ranking.policy import ThompsonPolicy  # noqa: E402
from recommender.ranking.scoring import DealContext  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.content.index import get_library_arrays  # noqa: E402
from web.services.ranking.recommendations import recommend  # noqa: E402

STAGES = ["awareness", "consideration", "decision"]
PERSONAS = ["cfo", "cio", "operations", "procurement", "security", "fleet-manager"]
INDUSTRIES = ["logistics", "retail", "manufacturing", "healthcare", "food-beverage"]
PIPELINE = ["Prospecting", "Needs Analysis", "Value Proposition", "Proposal/Price Quote",
            "Negotiation/Review"]
BUYING = ["awareness", "consideration", "consideration", "decision", "decision"]


def build(path: Path, n_assets: int, dim: int, n_opps: int, passages: int = 4,
          seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    baton = Baton(Settings(instance_path=str(path.parent / "instance"),
                           database_url=f"sqlite:///{path}", embedding_model="baton-hashing-384",
                           secret_key="bench"), embedder=HashingEmbedder(dim))
    baton.init_database()
    name = baton.embedder.name
    vecs = rng.standard_normal((n_assets, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with baton.engine.begin() as conn:
        conn.execute(insert(Asset), [{
            "id": f"asset-{i:06d}", "title": f"Asset {i}", "type": ASSET_TYPES[i % 18],
            "stage": STAGES[i % 3], "stage_source": "given",
            "personas": [PERSONAS[i % 6]], "industries": [INDUSTRIES[i % 5]], "products": [],
            "url": f"https://example.com/{i}", "content_hash": str(i), "text": "",
            "status": "active", "embedding": vecs[i].tobytes(), "embedding_model": name,
            "embedding_dim": dim} for i in range(n_assets)])
        rows = []
        for i in range(n_assets):
            p = vecs[i] + 0.5 * rng.standard_normal((passages, dim)).astype(np.float32)
            p /= np.linalg.norm(p, axis=1, keepdims=True)
            rows += [{"asset_id": f"asset-{i:06d}", "position": j,
                      "text": f"passage {j} of asset {i}", "embedding": p[j].tobytes()}
                     for j in range(passages)]
            if len(rows) >= 20000:
                conn.execute(insert(Passage), rows)
                rows = []
        if rows:
            conn.execute(insert(Passage), rows)
        conn.execute(insert(Opportunity), [{
            "opportunity_id": f"opp-{i}", "name": f"Deal {i}", "industry": INDUSTRIES[i % 5],
            "persona": PERSONAS[i % 6], "amount": 10000.0 + i, "owner": f"rep-{i % 20}",
            "stage": PIPELINE[i % 5], "buying_stage": BUYING[i % 5], "status": "open",
            "notes": f"deal {i}: pricing objection, integration questions, route planning",
            "products": []} for i in range(n_opps)])
    baton.close()


def measure(path: Path, dim: int, calls: int) -> dict:
    baton = Baton(Settings(instance_path=str(path.parent / "instance"),
                           database_url=f"sqlite:///{path}", embedding_model="baton-hashing-384",
                           secret_key="bench"), embedder=HashingEmbedder(dim))
    rng = np.random.default_rng(1)
    with baton.session() as session:
        recommend(baton, session, "opp-0", k=5)  # warm the cached library arrays
        times, cpu = [], []
        for _ in range(calls):
            opp = f"opp-{int(rng.integers(0, 200))}"
            start, start_cpu = time.perf_counter(), time.process_time()
            recommend(baton, session, opp, k=5)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        candidates = get_library_arrays(baton, session)
    n = len(candidates)
    deal = DealContext("decision", STAGES, candidates.asset_vectors[0], "logistics", "cfo")
    policy = ThompsonPolicy()
    mean, sd = np.zeros(n), np.full(n, 0.05)
    policy_times = []
    for seed in range(calls):
        start = time.perf_counter()
        policy.serve(candidates, deal, 5, mean, sd, seed=seed)
        policy_times.append(time.perf_counter() - start)
    baton.close()
    t = np.asarray(times) * 1000
    pt = np.asarray(policy_times) * 1000
    c = np.asarray(cpu) * 1000
    return {"p50": np.percentile(t, 50), "p99": np.percentile(t, 99), "mean": t.mean(),
            "cpu_p50": np.percentile(c, 50), "cpu_p99": np.percentile(c, 99),
            "policy_p50": np.percentile(pt, 50), "policy_p99": np.percentile(pt, 99),
            "passages": len(candidates.passage_asset)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[10000])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--passages", type=int, default=4, help="passages per asset")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    print("| assets | passages | service p50 ms | service p99 ms | mean ms | "
          "CPU p50 ms | CPU p99 ms | policy p50 ms | policy p99 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.assets:
        name = f"recommend_{n}_{args.dim}.db" if args.passages == 4 else \
            f"recommend_{n}_{args.dim}_{args.passages}p.db"
        path = out / name
        if not path.exists():
            build(path, n, args.dim, n_opps=1000, passages=args.passages)
        r = measure(path, args.dim, args.calls)
        print(f"| {n} | {r['passages']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['mean']:.1f} | "
              f"{r['cpu_p50']:.1f} | {r['cpu_p99']:.1f} | "
              f"{r['policy_p50']:.1f} | {r['policy_p99']:.1f} |")


if __name__ == "__main__":
    main()
