"""Acceptance fixtures: drive Baton only through its fixed contracts (CLI, files, HTTP API).

``baton_env`` is a fresh instance (SQLite in a temp folder, hashing embedder); ``sh`` runs the
real ``baton`` console script as a subprocess; ``cli`` runs the same click entry point in-process
(faster, used to load data for the HTTP checks). ``api`` is a Flask test client bound to that
instance with one API key per role.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
BATON_BIN = Path(sys.executable).parent / "baton"


@dataclass
class Result:
    """What one ``baton`` invocation did."""

    code: int
    stdout: str
    stderr: str

    def json(self):
        """The stdout as one JSON document (fails the test if it is not)."""
        return json.loads(self.stdout)


def make_env(tmp_path: Path) -> dict[str, str]:
    """``BATON_*`` variables for a fresh instance under ``tmp_path``."""
    return {
        "BATON_INSTANCE_PATH": str(tmp_path / "instance"),
        "BATON_DATABASE_URL": f"sqlite:///{tmp_path / 'acceptance.db'}",
        "BATON_EMBEDDING_MODEL": "baton-hashing",
        "BATON_SECRET_KEY": "acceptance-secret",
    }


@pytest.fixture
def baton_env(tmp_path) -> dict[str, str]:
    return make_env(tmp_path)


def run_sh(env: dict[str, str], *args: str, input: str | None = None,
           timeout: float = 180) -> Result:
    """Run the installed ``baton`` script as a subprocess with ``env`` added."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    full.update(env)
    proc = subprocess.run([str(BATON_BIN), *args], env=full, input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO))
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_cli(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    """Run ``baton`` in-process through click (same entry point as the console script)."""
    from web.cli import main

    result = CliRunner(env=env).invoke(main, list(args), input=input, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def sh(baton_env):
    return lambda *args, **kw: run_sh(baton_env, *args, **kw)


@pytest.fixture
def cli(baton_env):
    return lambda *args, **kw: run_cli(baton_env, *args, **kw)


def api_key(env: dict[str, str], role: str) -> str:
    """Create an API key through the CLI and return it (the last stdout line)."""
    res = run_cli(env, "api-key", "create", "--role", role)
    assert res.code == 0, res.stderr
    return res.stdout.strip().splitlines()[-1].strip()


def make_app(env: dict[str, str]):
    """The real Flask app for ``env``'s instance and embedding model."""
    from web import create_app

    return create_app({
        "instance_path": env["BATON_INSTANCE_PATH"],
        "database_url": env["BATON_DATABASE_URL"],
        "embedding_model": env.get("BATON_EMBEDDING_MODEL", "baton-hashing"),
        "secret_key": env["BATON_SECRET_KEY"],
        "testing": True,
    })


@pytest.fixture(scope="package")
def trained_world(tmp_path_factory):
    """An instance loaded with the independent world (content + baton CSVs) and trained."""
    from tests.acceptance import world

    root = tmp_path_factory.mktemp("world")
    world.write_content(root / "content")
    world.simulate(root / "crm", seed=11, n=600)
    env = make_env(root)
    for args in (("ingest", str(root / "content")),
                 ("import-crm", str(root / "crm"), "--format", "baton"),
                 ("train",)):
        res = run_cli(env, *args)
        assert res.code == 0, (args, res.stdout, res.stderr)
    return {"env": env, "root": root}


class Api:
    """A test client on the real app with one Bearer key per role."""

    def __init__(self, env: dict[str, str]):
        self.app = make_app(env)
        self.client = self.app.test_client()
        self.keys = {role: api_key(env, role) for role in ("rep", "marketer", "admin")}

    def call(self, method: str, path: str, role: str | None = "admin", **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if role:
            headers["Authorization"] = f"Bearer {self.keys[role]}"
        return self.client.open(path, method=method, headers=headers, **kw)

    def close(self) -> None:
        self.app.extensions["baton"].close()


@pytest.fixture
def api(baton_env):
    run_cli(baton_env, "init")
    client = Api(baton_env)
    yield client
    client.close()
