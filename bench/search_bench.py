"""Search latency p50/p99 at 1k, 10k and 100k assets, with and without a stage filter.

Two paths, both the code ``search_assets`` runs:

* **index**: ``filter_mask`` + ``search_index`` over a ``LibraryIndex`` of synthetic unit
  vectors (384 dimensions like all-MiniLM-L6-v2, 2 passages per asset) — the in-memory part of
  every query once the index is cached;
* **service**: ``search_assets`` end to end on a SQLite database holding that many synthetic
  assets (fingerprint query, cached index, filters, query embedding with the hashing embedder,
  top-k, best passage), after a first call that builds the index (its build time is reported).

The real model's query embedding (one short query) is timed separately: add it to either path.

Run: ``python bench/search_bench.py [--sizes 1000,10000,100000] [--queries 300]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest_bench import git_commit  # noqa: E402
from models import Asset, Passage  # noqa: E402
from recommender.content.embedding import HashingEmbedder, load_embedder  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.content.index import (  # noqa: E402
    filter_mask,
    get_library_arrays,
    search_assets,
)

DIM = 384
STAGES = ("awareness", "consideration", "decision")


def unit(rng, n, d=DIM):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fill(baton: Baton, n: int, rng) -> None:
    """Insert ``n`` synthetic assets with 2 passages each, in bulk."""
    vectors, passages = unit(rng, n), unit(rng, 2 * n)
    model = baton.embedder.name
    assets, rows = [], []
    for i in range(n):
        assets.append(dict(
            id=f"a{i:06d}", title=f"Asset {i}", type="blog_post", type_source="given",
            stage=STAGES[i % 3], stage_source="given", personas=["cfo"], industries=[],
            products=[], inferred={}, status="active", content_hash="x", text="",
            embedding=vectors[i].tobytes(), embedding_model=model, embedding_dim=DIM))
        for j in range(2):
            rows.append(dict(asset_id=f"a{i:06d}", position=j, text=f"passage {j} of {i}",
                             embedding=passages[2 * i + j].tobytes()))
    with baton.session() as s:
        for start in range(0, n, 5000):
            s.execute(Asset.__table__.insert(), assets[start:start + 5000])
        for start in range(0, 2 * n, 10000):
            s.execute(Passage.__table__.insert(), rows[start:start + 10000])


def percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--model", default="all-MiniLM-L6-v2",
                        help="model timed for query embedding")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    embedder = HashingEmbedder(DIM)
    out = []
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env({}, instance_path=tmp, embedding_model="baton-hashing")
            baton = Baton(settings, embedder=embedder)
            baton.init_database()
            fill(baton, n, rng)
            with baton.session() as s:
                start, tick = time.perf_counter(), time.process_time()
                index = get_library_arrays(baton, s)
                build = time.perf_counter() - start
                build_cpu = time.process_time() - tick
            queries = unit(rng, args.queries)
            for stage in (None, "Negotiation/Review"):
                wall, cpu = [], []
                for q in queries:
                    start, tick = time.perf_counter(), time.process_time()
                    mask = filter_mask(baton, index, stage=stage)
                    index.search(q, 10, mask)
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - tick)
                out.append((n, "index", stage or "-", *percentiles(wall), *percentiles(cpu)))
                wall, cpu = [], []
                with baton.session() as s:
                    for i in range(args.queries):
                        start, tick = time.perf_counter(), time.process_time()
                        hits = search_assets(baton, s, f"fleet fuel costs {i}", k=10, stage=stage)
                        wall.append(time.perf_counter() - start)
                        cpu.append(time.process_time() - tick)
                assert len(hits) == 10
                out.append((n, "service", stage or "-", *percentiles(wall), *percentiles(cpu)))
            out.append((n, "index build (first query)", "-", build * 1000, build * 1000,
                        build_cpu * 1000, build_cpu * 1000))
            baton.close()
    real = load_embedder(args.model)
    real.encode(["warm up"])
    samples = []
    for i in range(50):
        start = time.perf_counter()
        real.encode([f"how much does route planning save a cold chain fleet {i}"])
        samples.append(time.perf_counter() - start)
    p50, p99 = percentiles(samples)
    print(f"commit {git_commit()}, k=10, {DIM} dims, {args.queries} queries per row; "
          f"query embedding with {real.name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| assets | path | stage filter | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for n, path, stage, a, b, c, d in out:
        print(f"| {n:,} | {path} | {stage} | {a:.2f} | {b:.2f} | {c:.2f} | {d:.2f} |")


if __name__ == "__main__":
    main()
