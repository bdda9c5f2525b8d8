"""PostgreSQL going away: the API answers 503 with the JSON envelope, and serves again by
itself when the database returns. Simulated with a loopback TCP proxy that the test stops and
starts (the real server, which others use, is never touched), on a dedicated database."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from recommender.content.embedding import HashingEmbedder
from tests.support.api import bearer, make_keys, seed
from web import create_app
from web.config import Settings
from web.runtime import Baton

POSTGRES_URL = os.environ.get("BATON_TEST_POSTGRES_URL", "")
DATABASE = "baton_faults"


class Proxy:
    """A loopback TCP forwarder to ``target`` that can drop every connection and refuse new."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self.up.clear()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def start(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.closed = True
        self.stop()
        self.listener.close()


@pytest.fixture
def proxied_url():
    if not POSTGRES_URL:
        pytest.skip("needs BATON_TEST_POSTGRES_URL (PostgreSQL) for the proxy")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    url = make_url(POSTGRES_URL)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(database=DATABASE, host="127.0.0.1", port=proxy.port)
    yield proxied.render_as_string(hide_password=False), proxy
    proxy.close()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


def test_database_away_gives_503_then_recovers(proxied_url, tmp_path):
    url, proxy = proxied_url
    embedder = HashingEmbedder()
    settings = Settings(instance_path=str(tmp_path), database_url=url,
                        embedding_model="baton-hashing", secret_key="s")
    baton = Baton(settings, embedder=embedder)
    baton.init_database()
    seed(baton, embedder)
    keys = make_keys(baton)
    baton.close()
    app = create_app({"instance_path": str(tmp_path), "database_url": url,
                      "embedding_model": "baton-hashing", "secret_key": "s", "testing": True},
                     embedder=embedder)
    client = app.test_client()
    path = "/api/v1/opportunities/opp-1"
    try:
        assert client.get(path, headers=bearer(keys["rep"])).status_code == 200
        proxy.stop()
        for _ in range(3):
            down = client.get(path, headers=bearer(keys["rep"]))
            assert down.status_code == 503, down.get_data(as_text=True)[:300]
            assert down.get_json()["error"]["code"] == "database_unavailable"
            assert down.headers["Retry-After"]
        proxy.start()
        up = client.get(path, headers=bearer(keys["rep"]))
        assert up.status_code == 200, up.get_data(as_text=True)[:300]
        assert up.get_json()["opportunity_id"] == "opp-1"
    finally:
        app.extensions["baton"].close()
