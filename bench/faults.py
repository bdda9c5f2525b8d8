"""Fault drills, repeated: ``kill -9`` of ``baton ingest`` mid-library and of ``baton import-crm``
mid-file (12,000 rows), of ``baton train`` mid-fit, ``kill -9`` of the
server (gunicorn master and workers) mid-burst of event writes, and PostgreSQL going away
behind a loopback TCP proxy (when ``BATON_TEST_POSTGRES_URL`` is set). The drills that CI also
runs are its tests, run here by pytest in a child process (so each asserts exactly what CI
asserts: integrity check ok, re-run equals an uninterrupted run, no acknowledged event lost,
503 then recovery); this prints one row per drill.

    python bench/faults.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.server import BATON, run_baton, sqlite_env  # noqa: E402

FAULTS = "tests/reliability/test_faults.py::"
DATABASE_AWAY = ("tests/reliability/test_database_away.py::"
                 "test_database_away_gives_503_then_recovers")


def ci_test(node_id: str, needs_postgres: bool = False) -> Callable[[Path], None]:
    """Return a drill that runs one CI test by pytest in a child process."""

    def drill(tmp: Path) -> None:
        if needs_postgres and not os.environ.get("BATON_TEST_POSTGRES_URL"):
            raise RuntimeError("skipped: BATON_TEST_POSTGRES_URL is not set")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", node_id, "-q", "-p", "no:cacheprovider",
             "--basetemp", str(tmp / "pytest")],
            cwd=REPO, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(_failure(result.stdout))

    return drill


def _failure(output: str) -> str:
    """Return the first assertion or error line of a pytest report, else its last line."""
    lines = output.strip().splitlines()
    reasons = [line for line in lines if line.startswith("E ")]
    return (reasons or lines or ["pytest failed without output"])[0]


def kill_9_mid_train(tmp: Path) -> None:
    """Train once, kill -9 a second ``baton train`` mid-fit: the first model keeps serving,
    and a re-run publishes the same model an uninterrupted run would (same model_version)."""
    env = sqlite_env(tmp, "fault-secret")
    for args in (["init"], ["simulate", str(tmp / "world"), "--opportunities", "1500"],
                 ["ingest", str(tmp / "world" / "content")],
                 ["import-crm", str(tmp / "world"), "--format", "baton"], ["train"]):
        result = run_baton(args, env, timeout=300)
        assert result.returncode == 0, (args, result.stderr[-500:])
    current = tmp / "artifacts" / "current.json"
    first = json.loads(current.read_text())
    opp = "SIM-000000"
    proc = subprocess.Popen([BATON, "train"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(3.0)  # the import and data loading take about 2.5 s on the dev machine
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with sqlite3.connect(tmp / "baton.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert json.loads(current.read_text()) == first, "the killed run replaced the model"
    assert (tmp / "artifacts" / first["artifact"]).is_file()
    served = run_baton(["recommend", opp, "--json"], env)
    assert served.returncode == 0, served.stderr[-500:]
    assert run_baton(["train"], env, timeout=300).returncode == 0
    assert json.loads(current.read_text())["model_version"] == first["model_version"]


DRILLS: list[tuple[str, Callable[[Path], None]]] = [
    ("kill -9 baton ingest mid-library",
     ci_test(FAULTS + "test_kill_9_mid_ingest_then_rerun_matches_an_uninterrupted_run")),
    ("kill -9 baton import-crm mid-file",
     ci_test(FAULTS + "test_kill_9_mid_import_crm_then_rerun_matches_an_uninterrupted_run")),
    ("kill -9 baton train mid-fit", kill_9_mid_train),
    ("kill -9 server mid-write burst",
     ci_test(FAULTS + "test_kill_9_of_the_server_loses_no_acknowledged_event")),
    ("PostgreSQL away (proxy) -> 503 -> recovers", ci_test(DATABASE_AWAY, needs_postgres=True)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'drill':<46}{'rounds':>7}{'survived':>9}{'seconds':>9}")
    for name, drill in DRILLS:
        survived, started, notes = 0, time.monotonic(), []
        for _ in range(max(1, args.rounds)):
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    drill(Path(tmp))
                    survived += 1
                except Exception as exc:  # report every failure, keep drilling
                    notes.append(str(exc).splitlines()[0][:120] if str(exc) else
                                 traceback.format_exc(limit=1))
        print(f"{name:<46}{args.rounds:>7}{survived:>9}{time.monotonic() - started:>9.1f}")
        for note in dict.fromkeys(notes):
            print("   ", note)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
