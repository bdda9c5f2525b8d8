"""Train the outcome model from the database and serve the newest artifact.

Artifacts are JSON files under ``settings.artifacts_dir``: each run writes
``effects-<run id>-<timestamp>.json`` through a temporary file and ``os.replace`` (never a
half-written model), then swaps the pointer file ``current.json`` the same way. Readers only
follow the pointer, so the previous model stays in service until the new one is complete, and
a failed run leaves it untouched. ``current_model`` checks the pointer's modification time on
every call (one ``stat``) and reloads when it changed: a running server picks up a new model
without a restart, in every worker process.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from models.crm import ContentEvent, Opportunity, StageChange
from models.learning import TrainingRun
from models.library import Asset
from recommender.domain import utcnow
from recommender.errors import ModelError
from recommender.learning.effects import ContentEffectModel
from recommender.learning.episodes import (
    CHANGE_FIELDS,
    EVENT_FIELDS,
    OPPORTUNITY_FIELDS,
    build_episodes,
)
from web.runtime import Baton

POINTER = "current.json"
KEEP_ARTIFACTS = 5
CACHE_KEY = "learning.current_model"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainingReport:
    """What a training run did: its run id, artifact, model version and figures."""

    run_id: int
    artifact_path: str
    model_version: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        f = self.figures
        return (f"trained {self.model_version} on {f.get('opportunities', 0)} opportunities, "
                f"{f.get('visits', 0)} stage visits ({f.get('advanced', 0)} advanced, "
                f"{f.get('exited', 0)} exited, {f.get('censored', 0)} open), "
                f"{f.get('shares', 0)} shares: {f.get('estimates', 0)} effect estimates, "
                f"{f.get('helps', 0)} helping, {f.get('hurts', 0)} hurting "
                f"in {self.seconds:.1f}s -> {self.artifact_path}")


def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    try:
        version = metadata.version("baton-recommender")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = ""
    head = REPO_ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_file = REPO_ROOT / ".git" / ref[5:]
            if ref_file.exists():
                commit = ref_file.read_text().strip()
            else:
                packed = (REPO_ROOT / ".git" / "packed-refs").read_text().splitlines()
                commit = next((ln.split()[0] for ln in packed if ln.endswith(ref[5:])), "")
        else:
            commit = ref
    except OSError:
        pass
    return f"{version}+{commit[:12]}" if commit else version


def _columns(rows: list, names: tuple[str, ...]) -> dict[str, list]:
    if not rows:
        return {n: [] for n in names}
    return {n: list(col) for n, col in zip(names, zip(*rows, strict=True), strict=True)}


def load_training_data(baton: Baton, session) -> tuple[dict, dict, dict, dict, dict]:
    """Read opportunities, stage changes, shares and asset tags as column tuples (no ORM)."""
    o = Opportunity
    opp_rows = session.execute(select(
        o.opportunity_id, o.owner, o.industry, o.persona, o.amount, o.created_at, o.stage,
        o.stage_entered_at, o.status, o.closed_at)).all()
    s = StageChange
    chg_rows = session.execute(select(s.opportunity_id, s.from_stage, s.to_stage,
                                      s.changed_at)).all()
    e = ContentEvent
    evt_rows = session.execute(select(e.opportunity_id, e.asset_id, e.event_type,
                                      e.occurred_at).where(e.event_type == "shared")).all()
    assets = session.execute(select(Asset.id, Asset.type, Asset.stage)).all()
    fingerprint = {
        "opportunities": len(opp_rows), "stage_changes": len(chg_rows),
        "shares": len(evt_rows),
        "events": session.execute(select(func.count(e.id))).scalar_one(),
        "max_event_id": session.execute(select(func.max(e.id))).scalar_one(),
        "max_stage_change_id": session.execute(select(func.max(s.id))).scalar_one(),
        "max_opportunity_update": str(session.execute(select(func.max(o.updated_at)))
                                      .scalar_one() or ""),
        "assets": len(assets),
    }
    return (_columns(opp_rows, OPPORTUNITY_FIELDS), _columns(chg_rows, CHANGE_FIELDS),
            _columns(evt_rows, EVENT_FIELDS), {a.id: a.type for a in assets},
            {"stages": {a.id: a.stage for a in assets}, "fingerprint": fingerprint})


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(folder: Path, keep: str) -> None:
    old = sorted(folder.glob("effects-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in old[KEEP_ARTIFACTS:]:
        if path.name != keep:
            path.unlink(missing_ok=True)


def train(baton: Baton, now=None, **params) -> TrainingReport:
    """Fit the outcome model on the database and publish it atomically; record the run."""
    started = time.perf_counter()
    with baton.session() as session:
        run = TrainingRun(status="running", code_version=code_version())
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        with baton.session() as session:
            opps, changes, shares, types, extra = load_training_data(baton, session)
        episodes = build_episodes(opps, changes, shares, baton.stages, now=now)
        if episodes.n_visits == 0:
            raise ModelError("no stage visits to learn from: import CRM history first "
                             "(baton import-crm)")
        params.setdefault("random_state", baton.settings.seed)
        model = ContentEffectModel(**params).fit(episodes, asset_types=types,
                                                 asset_stages=extra["stages"])
        folder = Path(baton.settings.artifacts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        artifact = folder / f"effects-{run_id:05d}-{stamp}.json"
        seconds = time.perf_counter() - started
        figures = dict(episodes.summary(), shares=extra["fingerprint"]["shares"],
                       estimates=sum(e.segment is None for e in model.effects_),
                       segment_estimates=sum(e.segment is not None for e in model.effects_),
                       helps=sum(e.segment is None and e.lower > 0 for e in model.effects_),
                       hurts=sum(e.segment is None and e.upper < 0 for e in model.effects_),
                       baseline=model.baseline_, seconds=round(seconds, 2))
        meta = {"run_id": run_id, "code_version": code_version(),
                "data_fingerprint": extra["fingerprint"], "trained_at": utcnow().isoformat(),
                "model_version": model.version}
        data = model.to_dict()
        data["meta"] = meta
        _atomic_write(artifact, json.dumps(data, default=str))
        _atomic_write(folder / POINTER, json.dumps({"artifact": artifact.name,
                                                    "model_version": model.version,
                                                    "run_id": run_id}))
        _prune(folder, artifact.name)
    except BaseException as exc:
        with baton.session() as session:
            failed = session.get_one(TrainingRun, run_id)
            failed.status, failed.finished_at = "failed", utcnow()
            failed.error = f"{type(exc).__name__}: {exc}"
        raise
    with baton.session() as session:
        done = session.get_one(TrainingRun, run_id)
        done.status, done.finished_at = "succeeded", utcnow()
        done.artifact_path, done.model_version = str(artifact), model.version
        done.data_fingerprint, done.figures = extra["fingerprint"], figures
    return TrainingReport(run_id=run_id, artifact_path=str(artifact),
                          model_version=model.version, seconds=seconds, figures=figures)


def current_model(baton: Baton) -> ContentEffectModel | None:
    """Return the newest published model, reloading when a newer artifact appears; None if none."""
    pointer = Path(baton.settings.artifacts_dir) / POINTER
    try:
        st = pointer.stat()
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
    except OSError:
        baton.cache.pop(CACHE_KEY, None)
        return None
    cached = baton.cache.get(CACHE_KEY)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        target = json.loads(pointer.read_text("utf-8"))["artifact"]
        model = ContentEffectModel.load(pointer.parent / Path(target).name)
    except (OSError, ValueError, KeyError, ModelError):
        # A pointer caught mid-swap or a damaged artifact: keep serving what we had.
        return cached[1] if cached is not None else None
    baton.cache[CACHE_KEY] = (stamp, model)
    return model
