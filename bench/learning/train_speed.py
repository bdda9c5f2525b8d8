"""End-to-end ``train`` time on about a million content events (SQLite, this machine).

    python bench/learning/train_speed.py [--opportunities 26000] [--seed 1] [--keep DIR]

Simulates a world big enough for ~1M events, bulk-inserts it into a fresh SQLite database
(not timed), then times ``web.services.learning.training.train`` (read the tables as column tuples,
build episodes, fit, write the artifact atomically) and prints a table with a breakdown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert  # noqa: E402

from models.crm import ContentEvent, Opportunity, StageChange  # noqa: E402
from models.library import Asset  # noqa: E402
from recommender.learning.effects import ContentEffectModel  # noqa: E402
from recommender.learning.episodes import build_episodes  # noqa: E402
from recommender.learning.simulator import simulate_world  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.learning import training as learning  # noqa: E402


def _dt(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def load(baton: Baton, world, chunk: int = 50_000) -> None:
    """Bulk-insert the world (assets, opportunities, history, events) in chunks."""
    with baton.session() as s:
        s.execute(insert(Asset), [{"id": a["id"], "title": a["title"], "type": a["type"],
                                   "stage": a["stage"], "content_hash": a["id"]}
                                  for a in world.assets])
        s.execute(insert(Opportunity), [
            {"opportunity_id": o["opportunity_id"], "name": o["name"], "account": o["account"],
             "industry": o["industry"], "persona": o["persona"], "amount": float(o["amount"]),
             "owner": o["owner"], "created_at": _dt(o["created_at"]), "stage": o["stage"],
             "stage_entered_at": _dt(o["stage_entered_at"]), "status": o["status"],
             "closed_at": _dt(o["closed_at"])} for o in world.opportunities])
        s.execute(insert(StageChange), [
            {"opportunity_id": h["opportunity_id"], "from_stage": h["from_stage"],
             "to_stage": h["to_stage"], "changed_at": _dt(h["changed_at"])}
            for h in world.stage_history])
    for i in range(0, len(world.events), chunk):
        with baton.session() as s:
            s.execute(insert(ContentEvent), [
                {"event_id": e["event_id"], "opportunity_id": e["opportunity_id"],
                 "asset_id": e["asset_id"], "event_type": e["event_type"], "stage": e["stage"],
                 "occurred_at": _dt(e["occurred_at"]), "user": e["user"],
                 "propensity": float(e["propensity"]) if e["propensity"] else None}
                for e in world.events[i:i + chunk]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=26000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="instance folder to keep (default: a temp folder)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="baton-speed-"))
    settings = Settings(instance_path=str(folder), embedding_model="baton-hashing",
                        secret_key="bench")
    settings.check()
    baton = Baton(settings)
    baton.init_database()
    t = time.perf_counter()
    world = simulate_world(args.seed, args.opportunities)
    t_sim = time.perf_counter() - t
    t = time.perf_counter()
    load(baton, world)
    t_load = time.perf_counter() - t
    n_events, n_opps = len(world.events), len(world.opportunities)
    del world
    t = time.perf_counter()
    report = learning.train(baton)
    t_train = time.perf_counter() - t
    # Breakdown (a second pass over the same data).
    t = time.perf_counter()
    with baton.session() as session:
        opps, changes, shares, types, extra = learning.load_training_data(baton, session)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    ep = build_episodes(opps, changes, shares, baton.stages)
    t_ep = time.perf_counter() - t
    t = time.perf_counter()
    ContentEffectModel(random_state=0).fit(ep, types, extra["stages"])
    t_fit = time.perf_counter() - t
    print(f"world: {n_opps} opportunities, {n_events} events "
          f"({report.figures['shares']} shares), {ep.n_visits} visits, {ep.n_rows} weekly rows; "
          f"simulated in {t_sim:.0f}s, loaded into SQLite in {t_load:.0f}s")
    print()
    print("| step                          | seconds |")
    print("|-------------------------------|--------:|")
    print(f"| baton train, end to end       | {t_train:7.1f} |")
    print(f"|   read tables (column tuples) | {t_read:7.1f} |")
    print(f"|   build episodes              | {t_ep:7.1f} |")
    print(f"|   fit ContentEffectModel      | {t_fit:7.1f} |")
    print()
    print(f"target: < 120 s end to end; artifact {report.artifact_path}")
    baton.close()


if __name__ == "__main__":
    main()
