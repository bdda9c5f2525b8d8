"""Ingest throughput of the sample library vs the bare model, and re-ingest of an unchanged library.

1. Load the embedding model once (not timed in either figure), warm it up with one untimed
   ingest (imports, caches).
2. ``library.ingest_paths`` of ``content_library/`` into a fresh SQLite database.
3. The bare ``SentenceTransformer.encode()`` of exactly the passage texts Baton embedded, same
   batch size, in the same process; ingest and bare encode alternate, best of ``--repeat``.
4. Re-ingest of the unchanged library (hashing only, no embedding work).

Run: ``python bench/ingest_bench.py [--model all-MiniLM-L6-v2] [--repeat 2]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from models import Asset, Passage  # noqa: E402
from recommender.content.embedding import load_embedder  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.content import ingest as library  # noqa: E402


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ingest_once(embedder, folder: Path) -> tuple[tuple, tuple, list[str], int]:
    """Ingest ``folder`` into a fresh database, then again; return (wall, cpu) of each."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, instance_path=tmp, embedding_model=embedder.name)
        baton = Baton(settings, embedder=embedder)
        baton.init_database()
        start, cpu = time.perf_counter(), time.process_time()
        report = library.ingest_paths(baton, [folder])
        first = (time.perf_counter() - start, time.process_time() - cpu)
        if report.failed:
            print(f"warning: {len(report.failed)} files failed", file=sys.stderr)
        start, cpu = time.perf_counter(), time.process_time()
        again = library.ingest_paths(baton, [folder])
        second = (time.perf_counter() - start, time.process_time() - cpu)
        assert not again.new and not again.updated, "re-ingest was not a no-op"
        with baton.session() as s:
            texts = list(s.scalars(select(Passage.text).order_by(Passage.asset_id,
                                                                  Passage.position)))
            assets = s.scalar(select(func.count(Asset.id)))
        baton.close()
    return first, second, texts, assets


def bare_encode(embedder, texts: list[str]) -> tuple[float, float]:
    """Time the bare sentence-transformers ``encode()`` of ``texts``: (wall, cpu) seconds."""
    model = getattr(embedder, "_model", None)
    start, cpu = time.perf_counter(), time.process_time()
    if model is not None:
        model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                     show_progress_bar=False)
    else:
        embedder.encode(texts)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--folder", default=str(REPO / "content_library"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch intra-op threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]

    embedder = load_embedder(args.model)
    embedder.encode(["warm up the model"] * 64)
    firsts, seconds, bares = [], [], []
    texts: list[str] = []
    assets = 0
    texts, assets = ingest_once(embedder, Path(args.folder))[2:]
    for repeat in range(args.repeat):
        # Alternate the order so drift in the machine's load does not favour either side.
        for step in ("ingest", "bare") if repeat % 2 else ("bare", "ingest"):
            if step == "ingest":
                first, second, texts, assets = ingest_once(embedder, Path(args.folder))
                firsts.append(first)
                seconds.append(second)
            else:
                bares.append(bare_encode(embedder, texts))
    first = (min(f[0] for f in firsts), min(f[1] for f in firsts))
    second = (min(f[0] for f in seconds), min(f[1] for f in seconds))
    bare = (min(b[0] for b in bares), min(b[1] for b in bares))
    words = sum(len(t.split()) for t in texts)
    rows = [
        ("assets / passages / words", f"{assets} / {len(texts)} / {words}", "", ""),
        ("bare model.encode() of the passages", f"{bare[0]:.2f} s", f"{bare[1]:.2f} s",
         f"{len(texts) / bare[0]:.1f} passages/s wall"),
        ("baton ingest (first, fresh database)", f"{first[0]:.2f} s", f"{first[1]:.2f} s",
         f"{assets / first[0]:.2f} assets/s wall"),
        ("overhead ratio ingest / bare encode", f"{first[0] / bare[0]:.3f}x",
         f"{first[1] / bare[1]:.3f}x", "target <= 1.15x"),
        ("re-ingest unchanged library", f"{second[0]:.3f} s", f"{second[1]:.3f} s",
         f"{100 * second[0] / first[0]:.2f}% of first wall (target <= 3%)"),
    ]
    print(f"model {embedder.name}, commit {git_commit()}, best of {args.repeat} runs, "
          f"torch threads {args.threads or 'default'}, load average "
          f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| measure | wall | CPU (process) | note |")
    print("|---|---:|---:|---|")
    for name, wall, cpu, note in rows:
        print(f"| {name} | {wall} | {cpu} | {note} |")


if __name__ == "__main__":
    main()
