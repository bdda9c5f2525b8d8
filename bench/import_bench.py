"""Benchmark: import a 1M-row content_events.csv (issue 3): rows/s and peak memory.

Generates a baton-format export (opportunities, stage history, content events; assets are
inserted directly), imports it with ``baton import-crm``'s service in a child process, then
imports it again (the idempotent replay), and prints a table. Peak memory is the child's
maximum resident set size (``resource.getrusage``), so the generator does not count.

    python bench/import_bench.py                      # 1,000,000 events on SQLite
    python bench/import_bench.py --events 100000
    python bench/import_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
          "Proposal/Price Quote", "Negotiation/Review"]
BUYING = ["awareness", "consideration", "decision"]
EVENT_TYPES = ["recommended", "shared", "viewed", "helpful", "not_helpful"]


def generate(folder: Path, n_events: int, n_opportunities: int, seed: int = 0) -> None:
    """Write opportunities.csv, stage_history.csv and content_events.csv, streaming."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    opp_stage: list[tuple[datetime, int]] = []
    with (folder / "opportunities.csv").open("w", newline="", encoding="utf-8") as fo, \
            (folder / "stage_history.csv").open("w", newline="", encoding="utf-8") as fh:
        wo, wh = csv.writer(fo), csv.writer(fh)
        wo.writerow(["opportunity_id", "name", "account", "industry", "persona", "amount",
                     "owner", "created_at", "stage", "stage_entered_at", "status",
                     "closed_at", "notes"])
        wh.writerow(["opportunity_id", "from_stage", "to_stage", "changed_at"])
        for i in range(n_opportunities):
            created = start + timedelta(days=rng.randrange(300), minutes=rng.randrange(1440))
            depth = rng.randrange(len(STAGES))
            when, previous = created, None
            for s in range(depth + 1):
                wh.writerow([f"opp-{i}", previous or "", STAGES[s], when.isoformat()])
                previous = STAGES[s]
                when += timedelta(days=rng.randrange(1, 30))
            wo.writerow([f"opp-{i}", f"Deal {i}", f"Account {i % 997}", "logistics", "cfo",
                         rng.randrange(1000, 200000), f"rep{i % 40}", created.isoformat(),
                         STAGES[depth], "", "open", "", "Wants to cut freight costs."])
            opp_stage.append((created, depth))
    with (folder / "content_events.csv").open("w", newline="", encoding="utf-8") as fe:
        we = csv.writer(fe)
        we.writerow(["event_id", "opportunity_id", "asset_id", "event_type", "stage",
                     "occurred_at", "user", "propensity"])
        for i in range(n_events):
            o = rng.randrange(n_opportunities)
            created, depth = opp_stage[o]
            stage = "" if i % 5 == 0 else BUYING[min(2, depth // 2)]
            when = created + timedelta(days=rng.randrange(60), seconds=rng.randrange(86400))
            we.writerow([f"ev-{i}", f"opp-{o}", f"asset-{rng.randrange(500)}",
                         EVENT_TYPES[i % 5], stage, when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         f"rep{o % 40}", f"{rng.uniform(0.05, 1):.4f}" if i % 2 else ""])


def child(database_url: str, folder: str, phase: str) -> None:
    """Run one import in this process and print its figures as JSON."""
    sys.path.insert(0, str(REPO))
    from models import Asset
    from web.config import Settings
    from web.runtime import Baton
    from web.services.crm.importing import import_crm

    settings = Settings(instance_path=str(Path(folder) / "instance"),
                        database_url=database_url, embedding_model="baton-hashing",
                        secret_key="bench")
    baton = Baton(settings)
    baton.init_database()
    out: dict = {}

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    if phase == "setup":
        with baton.session() as session:
            session.add_all(Asset(id=f"asset-{i}", title=f"Asset {i}", type="case_study",
                                  stage="consideration", content_hash="0" * 64)
                            for i in range(500))
        t, c = time.perf_counter(), cpu()
        report = import_crm(baton, [Path(folder) / "opportunities.csv",
                                    Path(folder) / "stage_history.csv"])
        out["seconds"], out["cpu"] = time.perf_counter() - t, cpu() - c
        out["counts"] = dict(report.counts)
    else:
        t, c = time.perf_counter(), cpu()
        report = import_crm(baton, [Path(folder) / "content_events.csv"])
        out["seconds"], out["cpu"] = time.perf_counter() - t, cpu() - c
        out["counts"] = dict(report.counts)
    out["rejected"] = report.n_rejected
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    baton.close()
    print(json.dumps(out))


def run_child(database_url: str, folder: Path, phase: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", phase, "--database-url", database_url,
         "--folder", str(folder)], capture_output=True, text=True, check=False, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--folder", default="")
    parser.add_argument("--child", choices=["setup", "events"])
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.folder, args.child)
        return
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="baton-import-bench-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        if url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        t = time.perf_counter()
        generate(folder, args.events, args.opportunities)
        gen_s = time.perf_counter() - t
        size_mb = (folder / "content_events.csv").stat().st_size / 1e6
        setup = run_child(url, folder, "setup")
        first = run_child(url, folder, "events")
        again = run_child(url, folder, "events")
    backend = url.split(":", 1)[0]
    print(f"CRM import benchmark: {args.events:,} events ({size_mb:.0f} MB CSV), "
          f"{args.opportunities:,} opportunities, 500 assets, {backend}; "
          f"generated in {gen_s:.0f} s")
    print()
    print(f"load average at the start: {load[0]:.1f} (2 cores shared: wall-clock rows/s "
          "drops with load; rows per CPU-second does not)")
    print()
    print("| step | rows | wall s | rows/s (wall) | CPU s | rows per CPU-s | peak RSS (MB) "
          "| rejected |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    opp_rows = setup["counts"]["opportunities_created"] + setup["counts"]["stage_changes_added"]
    rows = [
        ("opportunities + stage history", opp_rows, setup),
        ("content_events.csv, first import", first["counts"]["events_added"], first),
        ("content_events.csv, re-import (no change)", first["counts"]["events_added"], again),
    ]
    for label, n, r in rows:
        print(f"| {label} | {n:,} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | "
              f"{r['cpu']:.1f} | {n / r['cpu']:,.0f} | {r['peak_rss_mb']:.0f} | "
              f"{r['rejected']} |")
    assert again["counts"]["events_added"] == 0, "re-import added events"


if __name__ == "__main__":
    main()
