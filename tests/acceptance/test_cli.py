"""Contract 4: the ``baton`` console script, run as a real subprocess."""

from __future__ import annotations

import csv
import filecmp
import io
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.acceptance.conftest import BATON_BIN, REPO, make_app, run_sh
from tests.acceptance.world import ASSETS

ITEM_KEYS = {"asset_id", "title", "url", "type", "stage", "score", "reasons", "recommendation_id"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float) -> tuple[int, bytes]:
    """GET ``url`` until the server answers (any HTTP status) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_api_key_create_prints_key_alone_on_last_line_and_it_works(sh, baton_env):
    res = sh("api-key", "create", "--role", "marketer", "--label", "acceptance")
    assert res.code == 0, res.stderr
    key = res.stdout.rstrip("\n").splitlines()[-1]
    assert key == key.strip() and " " not in key and len(key) >= 20
    app = make_app(baton_env)
    try:
        client = app.test_client()
        ok = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
        assert client.delete("/api/v1/assets/none", headers={
            "Authorization": f"Bearer {key}"}).status_code == 404  # marketer may, asset absent
    finally:
        app.extensions["baton"].close()
    bad = sh("api-key", "create", "--role", "superuser")
    assert bad.code != 0 and bad.stdout.strip() == ""


def test_user_create_password_stdin_and_duplicate(sh):
    res = sh("user", "create", "ann@acme.test", "--role", "rep", "--password-stdin",
             input="s3cret-Password!\n")
    assert res.code == 0, res.stderr
    assert "s3cret" not in res.stdout + res.stderr
    res = sh("user", "create", "bob@acme.test", "--role", "admin", "--password", "An0ther-pass!")
    assert res.code == 0, res.stderr
    dup = sh("user", "create", "ANN@acme.test", "--role", "rep", "--password", "x-Password-9")
    assert dup.code != 0
    lines = [ln for ln in dup.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "ann@acme.test" in lines[0].lower(), dup.stderr


def test_recommend_influence_gaps_train_on_a_trained_world(trained_world):
    env = trained_world["env"]
    res = run_sh(env, "recommend", "ACC-00599", "--k", "3", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()  # exactly one JSON document
    items = doc["recommendations"]
    assert len(items) == 3 and all(ITEM_KEYS <= set(i) for i in items)
    assert all(i["asset_id"] in ASSETS for i in items)
    missing = run_sh(env, "recommend", "NO-SUCH-DEAL", "--json")
    assert missing.code != 0 and missing.stdout.strip() == ""
    assert len(missing.stderr.strip().splitlines()) == 1 and "NO-SUCH-DEAL" in missing.stderr
    table = run_sh(env, "influence", "--stage", "Needs Analysis", "--csv")
    assert table.code == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert rows and {r["buying_stage"] for r in rows} == {"consideration"}
    assert {"asset_id", "effect", "lower", "upper", "support"} <= set(rows[0])
    gaps = run_sh(env, "gaps", "--json")
    assert gaps.code == 0, gaps.stderr
    json.loads(gaps.stdout)
    plain = run_sh(env, "gaps")
    assert plain.code == 0 and plain.stdout.strip()


def test_simulate_is_reproducible_by_seed(tmp_path, sh):
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        res = sh("simulate", str(tmp_path / name), "--seed", seed, "--opportunities", "60")
        assert res.code == 0, res.stderr
    def files(folder):
        return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    a, b, c = (tmp_path / n for n in "abc")
    assert files(a) == files(b) and len(files(a)) > 3
    for rel in files(a):
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    assert not filecmp.cmp(a / "opportunities.csv", c / "opportunities.csv", shallow=False) \
        if (a / "opportunities.csv").exists() else True
    # the simulated world imports cleanly
    crm = [p for p in a.rglob("*.csv")]
    assert crm
    content = [p for p in a.iterdir() if p.is_dir()]
    assert content, files(a)
    assert sh("ingest", *map(str, content)).code == 0
    res = sh("import-crm", *map(str, crm), "--json")
    assert res.code == 0, res.stderr
    assert res.json()["counts"]["opportunities_created"] == 60


def test_serve_answers_on_host_and_port(sh, baton_env):
    assert sh("init").code == 0
    assert sh("init").code == 0  # idempotent
    port = free_port()
    proc = subprocess.Popen([str(BATON_BIN), "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", "1"], cwd=str(REPO),
                            env={**{k: v for k, v in os.environ.items()
                                    if not k.startswith("BATON_")}, **baton_env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status, body = wait_http(f"http://127.0.0.1:{port}/api/v1/openapi.json", 90)
        assert status == 200 and json.loads(body)["openapi"].startswith("3.")
        status, body = wait_http(f"http://127.0.0.1:{port}/api/v1/assets", 10)
        assert status == 401 and "error" in json.loads(body)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_demo_builds_and_serves(tmp_path, baton_env):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BATON_")}, **baton_env}
    proc = subprocess.Popen([str(BATON_BIN), "demo", "--port", str(port)], cwd=str(REPO),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        status, body = wait_http(f"http://127.0.0.1:{port}/api/v1/openapi.json", 240)
        assert status == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    res = run_sh(baton_env, "influence", "--json")
    assert res.code == 0 and res.json()["model_trained"] is True, (res.stderr, out[-2000:])
