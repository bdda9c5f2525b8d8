"""Mixed load on the production server: keep-alive clients mixing recommendations, searches
and event posts (with deliberate replays and deliberately invalid events).

Shared by the CI smoke (tests/reliability/test_load_smoke.py), the server fault test and
``bench/load_test.py``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select

from models import ContentEvent
from recommender.content.embedding import HashingEmbedder
from tests.support.api import seed
from tests.support.recommend_data import add_opportunity
from tests.support.server import baton_env, free_port, start_server, stop_server
from web.config import Settings
from web.runtime import Baton
from web.services.accounts import create_api_key

OPEN_DEALS = 20
SECRET_KEY = "load-secret"


def prepare_load_database(instance: Path, database_url: str) -> tuple[dict[str, str], str]:
    """Create the schema, a small library, 20 open deals and an admin key; return env, key."""
    settings = Settings(instance_path=str(instance), database_url=database_url,
                        embedding_model="baton-hashing", secret_key=SECRET_KEY)
    baton = Baton(settings, embedder=HashingEmbedder())
    baton.init_database()
    seed(baton, baton.embedder, "opp-0")
    with baton.session() as session:
        for i in range(1, OPEN_DEALS):
            add_opportunity(session, f"opp-{i}")
        key, _row = create_api_key(session, "admin", label="load")
    baton.close()
    return baton_env(instance, database_url, SECRET_KEY), key


def _next_request(number: int, n: int, last_event: dict | None):
    """Return method, path, JSON body (or None) and the statuses expected for request ``n``."""
    opp = f"opp-{(number + n) % OPEN_DEALS}"
    kind = n % 4
    if kind == 0:
        return "GET", f"/api/v1/opportunities/{opp}/recommendations?k=5", None, (200, 201)
    if kind == 1:
        return "GET", "/api/v1/assets?q=freight+pricing+roi", None, (200, 201)
    event = {"event_id": f"load-{number}-{n}", "opportunity_id": opp,
             "asset_id": "pricing", "event_type": "helpful"}
    expect: tuple = (200, 201)
    if n % 5 == 2 and last_event:
        event = last_event  # deliberate replay of the same event
    elif n % 25 == 3:
        event["event_type"] = "exploded"  # deliberately invalid
        expect = (422,)
    return "POST", "/api/v1/events", json.dumps(event), expect


def _client(port: int, headers: dict[str, str], number: int, stop_at: float) -> dict:
    """One keep-alive client until ``stop_at``; return what it saw."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seen = {"latencies": [], "unexpected": [], "sent": set(), "by_design": 0, "requests": 0}
    last_event = None
    n = 0
    while time.monotonic() < stop_at and n < 100_000:
        n += 1
        method, path, body, expect = _next_request(number, n, last_event)
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = f"{type(exc).__name__}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seen["latencies"].append(time.perf_counter() - start)
        if status not in expect:
            seen["unexpected"].append(f"{method} {path} -> {status}")
        elif expect == (422,):
            seen["by_design"] += 1
        elif method == "POST":
            last_event = json.loads(body)
            seen["sent"].add(last_event["event_id"])
    conn.close()
    seen["requests"] = n
    return seen


def run_clients(port: int, key: str, seconds: float, clients: int) -> dict:
    """Run the mixed load; return latencies, statuses and the distinct event ids accepted."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lock = threading.Lock()
    out = {"latencies": [], "unexpected": [], "by_design": 0, "requests": 0, "sent": set()}
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        seen = _client(port, headers, number, stop_at)
        with lock:
            out["latencies"].extend(seen["latencies"])
            out["unexpected"].extend(seen["unexpected"])
            out["sent"] |= seen["sent"]
            out["by_design"] += seen["by_design"]
            out["requests"] += seen["requests"]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return out


def stored_load_events(database_url: str) -> int:
    """Count the ``load-*`` events stored in the database."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(ContentEvent).where(
            ContentEvent.event_id.like("load-%")))
    engine.dispose()
    return int(count)


def load_run(database_url: str, seconds: float, clients: int, instance: Path) -> dict:
    """Prepare the database, serve it, run the load; return throughput, latency and counts."""
    env, key = prepare_load_database(instance, database_url)
    port = free_port()
    proc = start_server(env, port)
    started = time.monotonic()
    try:
        out = run_clients(port, key, seconds, clients)
    finally:
        elapsed = time.monotonic() - started
        stop_server(proc)
    latencies = sorted(out["latencies"])
    stored = stored_load_events(database_url)
    return {"requests": out["requests"], "rps": out["requests"] / elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
            "by_design": out["by_design"], "unexpected": out["unexpected"],
            "distinct_sent": len(out["sent"]), "stored": stored,
            "lost_or_doubled": stored - len(out["sent"])}
