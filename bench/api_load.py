"""Load test of the recommendations endpoint on the production server (``baton serve``, gunicorn).

Builds, once, a SQLite database per library size under bench/out/ (synthetic assets with random
unit vectors and passages, 100k opportunities with stage history, 1M content events, inserted
with executemany), starts ``baton serve`` on a free loopback port, warms every worker, then runs
16 keep-alive clients (threads, ``http.client``) for 30 s against
``GET /api/v1/opportunities/<random open deal>/recommendations?k=5`` and prints p50, p99 and
requests/s. Every request is a real served, logged list (one log row, 5 items, 5 events).

    python bench/api_load.py [--assets 10000 100000] [--clients 16] [--seconds 30]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import Asset, Opportunity, Passage, StageChange  # noqa: E402
from recommender.content.embedding import HashingEmbedder  # noqa: E402
from recommender.domain import ASSET_TYPES  # noqa: E402
from tests.support.server import baton_env, free_port, start_server, stop_server  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.accounts import create_api_key  # noqa: E402

OUT = ROOT / "bench" / "out"
MODEL = "baton-hashing-384"
DIM = 384
STAGES = ["awareness", "consideration", "decision"]
PERSONAS = ["cfo", "cio", "operations", "procurement", "security", "fleet-manager"]
INDUSTRIES = ["logistics", "retail", "manufacturing", "healthcare", "food-beverage"]
PIPELINE = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
            "Proposal/Price Quote", "Negotiation/Review"]
BUYING = ["awareness", "awareness", "consideration", "consideration", "decision", "decision"]
EVENT_TYPES = ["recommended"] * 6 + ["shared"] * 2 + ["viewed", "helpful"]
NOTES = ["pricing objection from procurement", "integration questions from IT",
         "route planning for a regional fleet", "security review pending", "needs ROI numbers",
         "comparing against a competitor", "renewal with expansion", "pilot at two depots"]
BATCH = 20_000


def schema_tag() -> str:
    """Return a short hash of the migrations, so a schema change rebuilds the databases."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def _settings(path: Path) -> Settings:
    return Settings(instance_path=str(path.parent / f"instance_{path.stem}"),
                    database_url=f"sqlite:///{path}", embedding_model=MODEL, secret_key="bench")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(path: Path, n_assets: int, n_opps: int, n_events: int, passages: int,
          seed: int = 0) -> str:
    """Write the synthetic database at ``path``; return a rep API key for it."""
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    baton = Baton(_settings(tmp), embedder=HashingEmbedder(DIM))
    baton.init_database()
    t0 = time.perf_counter()
    base = datetime(2025, 1, 1)
    with baton.engine.begin() as conn:
        for start in range(0, n_assets, BATCH):
            ids = range(start, min(start + BATCH, n_assets))
            vecs = _unit(rng, len(ids))
            conn.execute(insert(Asset), [{
                "id": f"asset-{i:06d}", "title": f"Asset {i}", "type": ASSET_TYPES[i % 18],
                "stage": STAGES[i % 3], "stage_source": "given",
                "personas": [PERSONAS[i % 6]], "industries": [INDUSTRIES[i % 5]],
                "products": [], "url": f"https://example.com/a/{i}", "content_hash": str(i),
                "text": "", "status": "active", "embedding": vecs[j].tobytes(),
                "embedding_model": MODEL, "embedding_dim": DIM}
                for j, i in enumerate(ids)])
            rows = []
            for j, i in enumerate(ids):
                p = vecs[j] + 0.5 * rng.standard_normal((passages, DIM)).astype(np.float32)
                p /= np.linalg.norm(p, axis=1, keepdims=True)
                rows += [{"asset_id": f"asset-{i:06d}", "position": q,
                          "text": f"Passage {q} of asset {i}: {NOTES[(i + q) % len(NOTES)]}.",
                          "embedding": p[q].tobytes()} for q in range(passages)]
            conn.execute(insert(Passage), rows)
        print(f"  {n_assets:,} assets, {n_assets * passages:,} passages "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        for start in range(0, n_opps, BATCH):
            opps, changes = [], []
            for i in range(start, min(start + BATCH, n_opps)):
                s = i % len(PIPELINE)
                created = base + timedelta(days=int(rng.integers(0, 600)))
                entered = created + timedelta(days=int(rng.integers(0, 60)))
                opps.append({
                    "opportunity_id": f"opp-{i}", "name": f"Deal {i}", "account": f"Acct {i}",
                    "industry": INDUSTRIES[i % 5], "persona": PERSONAS[i % 6],
                    "amount": float(10_000 + (i * 37) % 200_000), "owner": f"rep-{i % 50}",
                    "created_at": created, "pipeline": "salesforce", "stage": PIPELINE[s],
                    "buying_stage": BUYING[s], "stage_entered_at": entered, "status": "open",
                    "notes": f"Deal {i}: {NOTES[i % len(NOTES)]}", "products": []})
                changes.append({"opportunity_id": f"opp-{i}", "from_stage": None,
                                "to_stage": PIPELINE[s], "changed_at": entered})
            conn.execute(insert(Opportunity), opps)
            conn.execute(insert(StageChange), changes)
        print(f"  {n_opps:,} opportunities ({time.perf_counter() - t0:.0f} s)", flush=True)
        sql = ('INSERT INTO content_events (event_id, opportunity_id, asset_id, event_type, '
               'stage, buying_stage, occurred_at, "user", created_at) '
               'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        now = str(datetime(2026, 11, 1))
        for start in range(0, n_events, BATCH * 5):
            count = min(BATCH * 5, n_events - start)
            opp = rng.integers(0, n_opps, count)
            asset = rng.integers(0, n_assets, count)
            kind = rng.integers(0, len(EVENT_TYPES), count)
            minutes = rng.integers(0, 600 * 24 * 60, count)
            # Plain DB-API tuples: ~10x faster than ORM dicts for a million rows.
            conn.exec_driver_sql(sql, [(
                f"ev-{start + j}", f"opp-{opp[j]}", f"asset-{asset[j]:06d}",
                EVENT_TYPES[kind[j]], PIPELINE[opp[j] % len(PIPELINE)],
                BUYING[opp[j] % len(PIPELINE)],
                str(base + timedelta(minutes=int(minutes[j]))), "bench", now)
                for j in range(count)])
        print(f"  {n_events:,} events ({time.perf_counter() - t0:.0f} s)", flush=True)
    with baton.session() as session:
        key, _row = create_api_key(session, "rep", label="api_load bench")
    baton.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(path)
    return key


def _get(port: int, path: str, headers: dict, timeout: float = 120.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def server_env(path: Path) -> dict[str, str]:
    """Return the production environment of ``baton serve`` on the database at ``path``."""
    env = baton_env(path.parent / f"instance_{path.stem}", f"sqlite:///{path}", "bench")
    return {**env, "BATON_EMBEDDING_MODEL": MODEL, "BATON_PRODUCTION": "1"}


def load(port: int, key: str, n_opps: int, clients: int, seconds: float, k: int) -> dict:
    headers = {"Authorization": f"Bearer {key}", "Connection": "keep-alive"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        rng = np.random.default_rng(100 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < stop_at:
            path = f"/api/v1/opportunities/opp-{int(rng.integers(0, n_opps))}/recommendations?k={k}"
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and len(json.loads(body)["recommendations"]) == k
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies[n].append(time.perf_counter() - start)
            if not ok:
                errors[n] += 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    all_ms = np.asarray([x for lat in latencies for x in lat]) * 1000
    return {"requests": len(all_ms), "errors": sum(errors), "p50": np.percentile(all_ms, 50),
            "p99": np.percentile(all_ms, 99), "rps": len(all_ms) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--passages", type=int, default=2, help="passages per asset")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="build the databases, exit")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.assets:
        path = OUT / (f"api_{n}_{args.opportunities}_{args.events}_{args.passages}_"
                      f"{schema_tag()}.db")
        key_file = path.with_suffix(".key")
        if not path.exists() or not key_file.exists():
            print(f"building {path.name} (once; reused later)", flush=True)
            key_file.write_text(build(path, n, args.opportunities, args.events, args.passages))
        key = key_file.read_text().strip()
        if args.build_only:
            continue
        port = free_port()
        proc = start_server(server_env(path), port, args.workers, args.threads)
        try:
            warm = {"Authorization": f"Bearer {key}"}
            t0 = time.perf_counter()
            # Warm every worker: each builds its cached library arrays on first use.
            statuses = [_get(port, f"/api/v1/opportunities/opp-{i}/recommendations", warm)
                        for i in range(4 * args.workers)]
            if any(s != 200 for s in statuses):
                raise RuntimeError(f"warm-up answered {statuses}")
            warmup = time.perf_counter() - t0
            result = load(port, key, args.opportunities, args.clients, args.seconds, args.k)
        finally:
            stop_server(proc)
        rows.append((n, result, warmup))
        print(f"  {n:,} assets: {result['requests']} requests, p50 {result['p50']:.1f} ms, "
              f"p99 {result['p99']:.1f} ms, {result['rps']:.1f} req/s", flush=True)
    print()
    print(f"gunicorn {args.workers} workers x {args.threads} threads (gthread), SQLite WAL; "
          f"{args.clients} keep-alive clients for {args.seconds:g} s on loopback; "
          f"k={args.k}; {args.opportunities:,} opportunities, {args.events:,} events; "
          f"{args.passages} passages per asset, {DIM}-d vectors")
    print()
    print("| assets | requests | errors | p50 ms | p99 ms | requests/s | warm-up s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, r, warmup in rows:
        print(f"| {n:,} | {r['requests']:,} | {r['errors']} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['rps']:.1f} | {warmup:.1f} |")


if __name__ == "__main__":
    main()
