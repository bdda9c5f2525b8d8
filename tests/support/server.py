"""The ``baton`` command and the production server (``baton serve``) as child processes.

Shared by the reliability tests and the load and fault benchmarks.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BATON = str(Path(sys.executable).with_name("baton"))
SERVER_START_SECONDS = 60


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def baton_env(instance: Path, database_url: str, secret_key: str) -> dict[str, str]:
    """Return the environment that points ``baton`` at ``instance`` and ``database_url``."""
    return {**os.environ, "BATON_INSTANCE_PATH": str(instance),
            "BATON_DATABASE_URL": database_url, "BATON_EMBEDDING_MODEL": "baton-hashing",
            "BATON_SECRET_KEY": secret_key}


def sqlite_env(instance: Path, secret_key: str) -> dict[str, str]:
    """Return the environment for a SQLite database ``baton.db`` inside ``instance``."""
    return baton_env(instance, f"sqlite:///{instance / 'baton.db'}", secret_key)


def run_baton(args: list[str], env: dict[str, str],
              timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run one ``baton`` command to the end; return its exit status and output."""
    return subprocess.run([BATON, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def start_server(env: dict[str, str], port: int, workers: int = 2,
                 threads: int | None = None) -> subprocess.Popen:
    """Start ``baton serve`` on loopback ``port``; return once it answers the OpenAPI page.

    The server gets its own process group (``stop_server`` ends master and workers) and logs
    into ``server.log`` in the instance folder.
    """
    command = [BATON, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    log = Path(env["BATON_INSTANCE_PATH"]) / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:  # a file, not a pipe nobody reads (it would fill and block)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink,
                                start_new_session=True)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if _answers(port):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
    stop_server(proc)
    raise RuntimeError(f"server did not start within {SERVER_START_SECONDS} s")


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/v1/openapi.json")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        time.sleep(0.2)
        return False
    finally:
        conn.close()


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server's whole process group (gunicorn master and workers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
