"""Settings, declared once: read from the environment with typed fallbacks, checked at start-up.

Every key is ``BATON_<NAME>``; a bad value fails at start-up with the key's name.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from recommender.errors import ConfigError


def _default_instance_path() -> str:
    return str(Path.cwd() / "instance")


def _instance_secret(folder: Path) -> str:
    """Return the development secret kept in ``folder/.secret_key`` (created 0600 once)."""
    path = folder / ".secret_key"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it right now
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise ConfigError(f"{path} is empty; delete it or set BATON_SECRET_KEY") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


@dataclass
class Settings:
    """Baton's settings. Build with ``Settings.from_env()``; override fields in tests."""

    instance_path: str = field(default_factory=_default_instance_path)
    database_url: str = ""  # default: sqlite:///<instance_path>/baton.db
    embedding_model: str = "all-MiniLM-L6-v2"
    stages: str = ""  # path to a stages.yaml; empty = shipped defaults
    secret_key: str = ""
    production: bool = False
    max_file_mb: float = 25.0  # largest file ingest or upload accepts
    max_request_mb: float = 30.0  # largest HTTP request body (413 above)
    max_pdf_pages: int = 500
    passage_words: int = 120  # target passage length when splitting documents
    low_confidence: float = 0.6  # auto-tags below this are listed for review
    cors_origins: str = ""  # comma-separated origins allowed to call the API
    frame_ancestors: str = ""  # comma-separated CRM origins allowed to frame the sidebar
    sidebar_token_minutes: int = 60
    exploration: float = 0.1  # share of recommendation slots given to exploration
    holdout: float = 0.1  # share of lists served at random (exposure holdout)
    stuck_percentile: float = 75.0
    stuck_fallback_days: float = 30.0
    seed: int = 0
    page_size_max: int = 100
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Read ``BATON_*`` variables, converting each to its field's type."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            key = f"BATON_{f.name.upper()}"
            if key not in env:
                continue
            raw = env[key]
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            try:
                if kind == "bool":
                    if raw.strip().lower() not in {"1", "0", "true", "false", "yes", "no", ""}:
                        raise ValueError(raw)
                    values[f.name] = raw.strip().lower() in {"1", "true", "yes"}
                elif kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise ConfigError(f"{key}={raw!r} is not a valid {kind}") from None
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Fail with the key's name when a setting is out of range or missing."""
        if not 0.0 <= self.exploration <= 1.0:
            raise ConfigError(f"BATON_EXPLORATION={self.exploration} must be within 0..1")
        if not 0.0 <= self.holdout <= 1.0:
            raise ConfigError(f"BATON_HOLDOUT={self.holdout} must be within 0..1")
        if self.max_file_mb <= 0 or self.max_request_mb <= 0:
            raise ConfigError("BATON_MAX_FILE_MB and BATON_MAX_REQUEST_MB must be positive")
        if self.production and not self.secret_key:
            raise ConfigError("BATON_SECRET_KEY is required when BATON_PRODUCTION is on")
        if not self.database_url:
            self.database_url = f"sqlite:///{Path(self.instance_path) / 'baton.db'}"
        if not self.secret_key:
            # Development only: one key per instance folder, so every gunicorn worker signs
            # sessions and sidebar tokens alike (a per-process key broke them across workers).
            self.secret_key = _instance_secret(Path(self.instance_path))

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * 1024 * 1024)

    @property
    def files_dir(self) -> Path:
        """Where uploaded asset files are kept."""
        return Path(self.instance_path) / "files"

    @property
    def artifacts_dir(self) -> Path:
        """Where trained model artifacts are written."""
        return Path(self.instance_path) / "artifacts"

    def origins(self, which: str) -> list[str]:
        raw = self.cors_origins if which == "cors" else self.frame_ancestors
        return [o.strip() for o in raw.split(",") if o.strip()]
