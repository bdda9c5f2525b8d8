"""Faults: ``kill -9`` mid-write leaves a sound database, and re-running gives the end state of
an uninterrupted run; acknowledged events survive a ``kill -9`` of the server.

bench/faults.py repeats these drills (and a ``baton train`` one) and prints one row per drill.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from tests.support.load import prepare_load_database
from tests.support.server import (
    BATON,
    free_port,
    run_baton,
    sqlite_env,
    start_server,
    stop_server,
)


def env_for(instance: Path) -> dict[str, str]:
    return sqlite_env(instance, "fault-secret")


def make_library(folder: Path, count: int = 400) -> None:
    folder.mkdir()
    for i in range(count):
        words = " ".join(f"freight{i % 17} route{i % 13} savings{i % 7} pricing" for _ in range(60))
        (folder / f"doc-{i:04d}.md").write_text(
            f"---\ntitle: Document {i}\nstage: consideration\ntype: whitepaper\n---\n{words}\n")


def end_state(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assets = conn.execute("SELECT id, content_hash, title, stage, type, status, word_count "
                              "FROM assets ORDER BY id").fetchall()
        passages = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    return assets, passages


def test_kill_9_mid_ingest_then_rerun_matches_an_uninterrupted_run(tmp_path):
    library = tmp_path / "library"
    make_library(library)
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    for instance in (clean, broken):
        instance.mkdir()
        assert run_baton(["init"], env_for(instance)).returncode == 0
    assert run_baton(["ingest", str(library)], env_for(clean)).returncode == 0
    reference = end_state(clean / "baton.db")
    assert len(reference[0]) == 400

    proc = subprocess.Popen([BATON, "ingest", str(library)], env=env_for(broken),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = broken / "baton.db"
    deadline = time.monotonic() + 120
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:  # kill once some rows landed
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM assets").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored >= 32:
            proc.send_signal(signal.SIGKILL)
            killed_at = stored
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_at is not None and killed_at < 400, "ingest finished before the kill"
    partial = end_state(db)  # integrity_check runs inside
    assert len(partial[0]) < 400
    assert run_baton(["ingest", str(library)], env_for(broken)).returncode == 0
    assert end_state(db) == reference


def test_kill_9_of_the_server_loses_no_acknowledged_event(tmp_path):
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    env, key = prepare_load_database(tmp_path, url)
    port = free_port()
    proc = start_server(env, port)
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for n in range(2000):
            if stop.is_set():
                break
            event_id = f"fault-{number}-{n}"
            body = json.dumps({"event_id": event_id, "opportunity_id": "opp-1",
                               "asset_id": "pricing", "event_type": "helpful"})
            try:
                conn.request("POST", "/api/v1/events", body=body, headers={
                    "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                break  # the server is gone
            if response.status == 201:
                with lock:
                    acked.add(event_id)
        conn.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)
        os.killpg(proc.pid, signal.SIGKILL)  # master and workers, mid-burst
        proc.wait(timeout=20)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        stop_server(proc)
    assert len(acked) > 10
    with sqlite3.connect(tmp_path / "baton.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in conn.execute(
            "SELECT event_id FROM content_events WHERE event_id LIKE 'fault-%'")}
    assert acked <= stored  # every acknowledged event is durable
    # The restarted server serves again.
    proc = start_server(env, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/opportunities/opp-1/recommendations?k=3",
                     headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200
    finally:
        stop_server(proc)


OPP_COLUMNS = ("opportunity_id, name, account, industry, persona, amount, owner, created_at, "
               "stage, buying_stage, stage_entered_at, status, closed_at, notes")


def make_crm(folder: Path, count: int = 12000) -> None:
    folder.mkdir()
    stages = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote"]
    lines = ["opportunity_id,name,account,industry,persona,amount,owner,created_at,stage,"
             "stage_entered_at,status,closed_at,notes"]
    for i in range(count):
        lines.append(f"opp-{i:06d},Deal {i},Account {i % 300},logistics,cfo,{1000 + i},"
                     f"rep{i % 9},2026-01-{1 + i % 28:02d}T09:00:00,{stages[i % 4]},"
                     f"2026-02-{1 + i % 28:02d}T09:00:00,open,,\"notes, {i}\"")
    (folder / "opportunities.csv").write_text("\n".join(lines) + "\n")


def crm_state(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(f"SELECT {OPP_COLUMNS} FROM opportunities ORDER BY 1").fetchall()
        changes = conn.execute("SELECT COUNT(*) FROM stage_changes").fetchone()[0]
    return rows, changes


def kill_when(proc: subprocess.Popen, db: Path, sql: str, at_least: int) -> int | None:
    """SIGKILL ``proc`` once ``sql`` counts ``at_least`` rows; return that count (None: done)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute(sql).fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return stored
        time.sleep(0.02)
    proc.wait(timeout=30)
    return None


def test_kill_9_mid_import_crm_then_rerun_matches_an_uninterrupted_run(tmp_path):
    crm = tmp_path / "crm"
    make_crm(crm)
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    for instance in (clean, broken):
        instance.mkdir()
        assert run_baton(["init"], env_for(instance)).returncode == 0
    done = run_baton(["import-crm", str(crm), "--format", "baton"], env_for(clean))
    assert done.returncode == 0, done.stderr[-1000:]
    reference = crm_state(clean / "baton.db")
    assert len(reference[0]) == 12000
    proc = subprocess.Popen([BATON, "import-crm", str(crm), "--format", "baton"],
                            env=env_for(broken), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    killed_at = kill_when(proc, broken / "baton.db", "SELECT COUNT(*) FROM opportunities", 1000)
    assert killed_at is not None and killed_at < 12000, "import finished before the kill"
    assert len(crm_state(broken / "baton.db")[0]) < 12000  # integrity_check runs inside
    again = run_baton(["import-crm", str(crm), "--format", "baton"], env_for(broken))
    assert again.returncode == 0, again.stderr[-1000:]
    assert crm_state(broken / "baton.db") == reference
