"""Mixed load on the production server: ``baton serve`` (gunicorn, 2 workers) on loopback.

32 keep-alive clients (threads) for ``--seconds`` mix recommendations, searches and event posts;
every 5th post replays an event already sent (must not double count) and every 25th is invalid on
purpose (unknown event type: 422 by design). Afterwards the number of stored ``load-*`` events
must equal the number of distinct event ids sent, and no request may fail except by design.

    python bench/load_test.py [--seconds 60] [--clients 32] [--postgres URL]

With ``--postgres`` the run uses a dedicated database ``baton_load`` created on that server (the
URL's database is only used to create it). Prints one table row per database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(instance: Path, database_url: str) -> tuple[dict[str, str], str]:
    """Create the schema, a small library, 20 open deals and an admin key; return env, key."""
    from recommender.content.embedding import HashingEmbedder
    from tests.support.api import seed
    from web.config import Settings
    from web.runtime import Baton
    from web.services.accounts import create_api_key

    settings = Settings(instance_path=str(instance), database_url=database_url,
                        embedding_model="baton-hashing", secret_key="load-secret")
    baton = Baton(settings, embedder=HashingEmbedder())
    baton.init_database()
    seed(baton, baton.embedder, "opp-0")
    from tests.support.recommend_data import add_opportunity

    with baton.session() as session:
        for i in range(1, 20):
            add_opportunity(session, f"opp-{i}")
        key, _row = create_api_key(session, "admin", label="load")
    baton.close()
    env = {**os.environ, "BATON_INSTANCE_PATH": str(instance), "BATON_DATABASE_URL":
           database_url, "BATON_EMBEDDING_MODEL": "baton-hashing",
           "BATON_SECRET_KEY": "load-secret"}
    return env, key


def start_server(env: dict[str, str], port: int, workers: int = 2) -> subprocess.Popen:
    baton = str(Path(sys.executable).with_name("baton"))
    log = Path(env["BATON_INSTANCE_PATH"]) / "server.log"
    with open(log, "ab") as sink:  # a file, not a pipe nobody reads (it would fill and block)
        proc = subprocess.Popen([baton, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                                stderr=sink, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/v1/openapi.json")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
    stop_server(proc)
    raise RuntimeError("server did not start within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def run_clients(port: int, key: str, seconds: float, clients: int) -> dict:
    """Run the mixed load; return latencies, statuses and the distinct event ids accepted."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lock = threading.Lock()
    out = {"latencies": [], "unexpected": [], "by_design": 0, "requests": 0, "sent": set()}
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, unexpected, sent, by_design, n = [], [], set(), 0, 0
        last_event = None
        while time.monotonic() < stop_at and n < 100_000:
            n += 1
            opp = f"opp-{(number + n) % 20}"
            kind, expect = n % 4, (200, 201)
            body = None
            if kind == 0:
                method, path = "GET", f"/api/v1/opportunities/{opp}/recommendations?k=5"
            elif kind == 1:
                method, path = "GET", "/api/v1/assets?q=freight+pricing+roi"
            else:
                method, path = "POST", "/api/v1/events"
                event = {"event_id": f"load-{number}-{n}", "opportunity_id": opp,
                         "asset_id": "pricing", "event_type": "helpful"}
                if n % 5 == 2 and last_event:
                    event = last_event  # deliberate replay of the same event
                elif n % 25 == 3:
                    event["event_type"] = "exploded"  # deliberately invalid
                    expect = (422,)
                body = json.dumps(event)
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
            latencies.append(time.perf_counter() - start)
            if status not in expect:
                unexpected.append(f"{method} {path} -> {status}")
            elif expect == (422,):
                by_design += 1
            elif method == "POST":
                last_event = json.loads(body)
                sent.add(last_event["event_id"])
        conn.close()
        with lock:
            out["latencies"].extend(latencies)
            out["unexpected"].extend(unexpected)
            out["sent"] |= sent
            out["by_design"] += by_design
            out["requests"] += n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return out


def stored_load_events(database_url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from models import ContentEvent

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(ContentEvent).where(
            ContentEvent.event_id.like("load-%")))
    engine.dispose()
    return int(count)


def load_run(database_url: str, seconds: float, clients: int, instance: Path) -> dict:
    env, key = prepare(instance, database_url)
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


def postgres_load_url(admin_url: str) -> str:
    """Create (afresh) the dedicated ``baton_load`` database; return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS baton_load WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE baton_load"))
    engine.dispose()
    return make_url(admin_url).set(database="baton_load").render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres", default=os.environ.get("BATON_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    targets = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    print(f"{'database':<11}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'422 by design':>14}{'failed':>8}{'events sent':>12}{'stored':>8}{'lost':>6}")
    for name, admin_url in targets:
        with tempfile.TemporaryDirectory() as tmp:
            url = (f"sqlite:///{Path(tmp) / 'baton.db'}" if admin_url is None
                   else postgres_load_url(admin_url))
            r = load_run(url, args.seconds, args.clients, Path(tmp))
        print(f"{name:<11}{r['requests']:>9}{r['rps']:>8.0f}{r['p50_ms']:>8.1f}"
              f"{r['p99_ms']:>8.1f}{r['by_design']:>14}{len(r['unexpected']):>8}"
              f"{r['distinct_sent']:>12}{r['stored']:>8}{r['lost_or_doubled']:>6}")
        for line in sorted(set(r["unexpected"]))[:10]:
            print("   unexpected:", line)


if __name__ == "__main__":
    main()
