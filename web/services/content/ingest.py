"""The content library: ingest files and uploads, re-embed.

Ingest is idempotent by content hash (sha256 of the file and its sidecar): unchanged files cost
a hash and no embedding work; changed files are re-extracted and re-embedded; ``prune`` retires
assets whose files are gone. Each asset is written in its own transaction, so a bad file fails
alone and never changes what is stored. Passages of many assets are embedded in one batch (the
model's throughput depends on batch size), then each asset is stored.

The asset vector is the normalised mean of its passage vectors: it covers the whole text
(a title+text embedding would see only the model's first 256 tokens) and costs no extra
encoding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from models import Asset, Passage
from recommender.content.asset_files import (
    AssetFile,
    LoadedAsset,
    content_hash,
    default_id,
    discover,
    load_asset,
    parse_metadata,
    parse_yaml_mapping,
)
from recommender.content.embedding import normalize_rows
from recommender.content.extract import extract, format_for_name
from recommender.content.passages import split_passages
from recommender.content.tagging import Taggers, infer_tags
from recommender.errors import BatonError, ConflictError, ExtractionError
from web.runtime import Baton
from web.services.content.index import invalidate_library, model_name
from web.services.content.tagging import fit_taggers, retag

BATCH_ASSETS = 128  # assets whose passages are embedded together (one sort by length)


@dataclass
class IngestReport:
    """What one ingest did, by asset id; ``failed`` holds ``(path, reason)``."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    tagging: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"new {len(self.new)}, updated {len(self.updated)}, "
                f"unchanged {len(self.unchanged)}, retired {len(self.retired)}, "
                f"failed {len(self.failed)}")


@dataclass
class _Work:
    file: AssetFile | None
    loaded: LoadedAsset
    passages: list[str]
    display: str
    stored_file: str | None = None


def display_path(path: Path | str) -> str:
    """Return ``path`` relative to the working directory when inside it, else absolute."""
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def _progress(enabled: bool | Callable, total: int) -> Iterator[Callable[[int], None]]:
    if callable(enabled):
        done = [0]

        def step(n: int = 1) -> None:
            done[0] += n
            enabled(done[0], total)

        yield step
    elif enabled and total:
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("ingesting", total=total)

            def advance(n: int = 1) -> None:
                bar.advance(task, n)

            yield advance
    else:
        yield _no_progress


def _no_progress(n: int = 1) -> None:
    """Count nothing: progress display is off."""


def _embed(baton: Baton, work: list[_Work]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Embed the passages of every item in one call; return (asset vector, passage vectors)."""
    texts = [p for item in work for p in item.passages]
    vectors = baton.embedder.encode(texts) if texts else np.zeros((0, 0), np.float32)
    out, start = [], 0
    for item in work:
        block = vectors[start:start + len(item.passages)]
        start += len(item.passages)
        out.append((normalize_rows(block.mean(axis=0, keepdims=True))[0], block))
    return out


def _store(baton: Baton, item: _Work, vector: np.ndarray, passage_vectors: np.ndarray,
           taggers: Taggers, model: str, old_id: str | None) -> bool:
    """Write one asset and its passages in one transaction; return True when it was new."""
    meta = item.loaded.metadata
    given = item.loaded.given
    with baton.session() as session:
        asset = session.get(Asset, meta.id)
        created = asset is None
        if asset is None:
            asset = Asset(id=meta.id)
            session.add(asset)
        stage_given = {"stage": meta.stage, "stage_source": "given"}
        if meta.stage is None and asset.stage_source == "confirmed":
            stage_given = {"stage": asset.stage, "stage_source": "confirmed"}
        tags = infer_tags(taggers, vector, {
            "type": meta.type, **stage_given,
            "personas": meta.personas if "personas" in given else None,
            "industries": meta.industries if "industries" in given else None,
        })
        asset.title = meta.title
        asset.url, asset.expires, asset.owner = meta.url, meta.expires, meta.owner
        asset.review_by, asset.products = meta.review_by, list(meta.products)
        for column in ("type", "type_source", "stage", "stage_source", "stage_confidence",
                       "personas", "industries", "inferred"):
            setattr(asset, column, tags[column])
        if asset.status == "retired" or created:
            asset.status = "active"
        asset.source_path = str(item.file.path) if item.file else None
        asset.stored_file = item.stored_file
        asset.media_type = item.loaded.extracted.media_type
        asset.file_size = item.loaded.file_size
        asset.content_hash = item.loaded.content_hash
        asset.text = item.loaded.extracted.text
        asset.word_count = len(asset.text.split())
        asset.embedding = vector.astype(np.float32).tobytes()
        asset.embedding_model, asset.embedding_dim = model, int(vector.shape[0])
        if not created:  # replace the passages: delete first, the (asset, position) is unique
            asset.passages.clear()
            session.flush()
        asset.passages.extend(
            Passage(position=i, text=text, embedding=passage_vectors[i].tobytes())
            for i, text in enumerate(item.passages)
        )
        if old_id and old_id != meta.id:  # the file now declares another id: retire the old
            old = session.get(Asset, old_id)
            if old is not None and old.status != "retired":
                old.status = "retired"
    return created


def ingest_paths(baton: Baton, paths, prune: bool = False,
                 progress: bool | Callable = False) -> IngestReport:
    """Ingest asset files and folders: new and changed files embedded, the rest untouched."""
    report = IngestReport()
    files, missing = discover(list(paths))
    report.failed.extend((display_path(p), reason) for p, reason in missing)
    model = model_name(baton)
    with baton.sessions() as session:  # read only
        stored = {r.id: r for r in session.execute(
            select(Asset.id, Asset.source_path, Asset.content_hash, Asset.embedding_model,
                   Asset.status))}
    owner: dict[str, str] = {}  # asset id -> the file that claims it in this run
    todo = _changed_files(files, stored, model, owner, report)
    taggers: Taggers | None = None
    with _progress(progress, len(files)) as step:
        step(len(files) - len(todo))
        for start in range(0, len(todo), BATCH_ASSETS):
            chunk = todo[start:start + BATCH_ASSETS]
            work = _load_batch(baton, chunk, owner, stored, report)
            if work:
                if taggers is None:
                    with baton.sessions() as session:  # read only
                        taggers = fit_taggers(baton, session, model)
                _store_batch(baton, work, taggers, model, owner, report)
            step(len(chunk))

    if prune:
        report.retired.extend(_prune(baton, [Path(p) for p in paths], files))
    if report.new or report.updated or report.retired:
        report.tagging = retag(baton, model).as_dict()
        invalidate_library(baton)
    return report


def _changed_files(files: list[AssetFile], stored: dict, model: str, owner: dict[str, str],
                   report: IngestReport) -> list[tuple[AssetFile, str | None]]:
    """Return the files to (re-)ingest with the id stored for their path; note the unchanged."""
    by_path = {r.source_path: r for r in stored.values()
               if r.source_path and r.status != "retired"}
    todo: list[tuple[AssetFile, str | None]] = []
    for file in files:
        try:
            digest = content_hash(file.path)
        except OSError as exc:
            report.failed.append((display_path(file.path), f"cannot read: {exc.strerror}"))
            continue
        row = by_path.get(str(file.path))
        if row is not None and row.content_hash == digest and row.embedding_model == model:
            report.unchanged.append(row.id)
            owner[row.id] = display_path(file.path)
            continue
        todo.append((file, row.id if row is not None else None))
    return todo


def _load_batch(baton: Baton, chunk: list[tuple[AssetFile, str | None]], owner: dict[str, str],
                stored: dict, report: IngestReport) -> list[tuple[_Work, str | None]]:
    """Read and split the files of one batch; files that cannot be read go to ``failed``."""
    settings = baton.settings
    work: list[tuple[_Work, str | None]] = []
    for file, old_id in chunk:
        shown = display_path(file.path)
        try:
            loaded = load_asset(file, stages=baton.stages, max_bytes=settings.max_file_bytes,
                                max_pdf_pages=settings.max_pdf_pages)
            _claim(loaded.metadata.id, shown, file, owner, stored)
        except BatonError as exc:
            report.failed.append((shown, str(exc)))
            continue
        except OSError as exc:
            report.failed.append((shown, f"cannot read: {exc.strerror or exc}"))
            continue
        passages = split_passages(loaded.extracted.text, settings.passage_words)
        work.append((_Work(file, loaded, passages, shown), old_id))
    return work


def _store_batch(baton: Baton, work: list[tuple[_Work, str | None]], taggers: Taggers,
                 model: str, owner: dict[str, str], report: IngestReport) -> None:
    """Embed one batch in one call, then store each asset in its own transaction."""
    embedded = _embed(baton, [w for w, _ in work])
    for (item, old_id), (vector, passage_vectors) in zip(work, embedded, strict=True):
        try:
            created = _store(baton, item, vector, passage_vectors, taggers, model, old_id)
        except (SQLAlchemyError, BatonError) as exc:
            owner.pop(item.loaded.metadata.id, None)
            report.failed.append((item.display, f"could not be stored: {exc}"))
            continue
        (report.new if created else report.updated).append(item.loaded.metadata.id)
        if old_id and old_id != item.loaded.metadata.id:
            report.retired.append(old_id)


def _claim(asset_id: str, shown: str, file: AssetFile, owner: dict[str, str],
           stored: dict) -> None:
    """Register ``asset_id`` for ``file``; raise when another file already holds it."""
    if asset_id in owner:
        raise ExtractionError(f"duplicate id {asset_id!r}: also used by {owner[asset_id]}")
    row = stored.get(asset_id)
    if row is not None and row.status != "retired" and row.source_path != str(file.path):
        if row.source_path is None:
            raise ExtractionError(f"duplicate id {asset_id!r}: already used by an uploaded asset")
        if Path(row.source_path).exists():
            raise ExtractionError(
                f"duplicate id {asset_id!r}: also used by {display_path(row.source_path)}"
            )
    owner[asset_id] = shown


def _prune(baton: Baton, roots: list[Path], files: list[AssetFile]) -> list[str]:
    """Retire assets whose source file is gone from under the ingested folders."""
    folders = [r.resolve() for r in roots if r.is_dir()]
    present = {str(f.path) for f in files}
    retired = []
    with baton.session() as session:
        for asset in session.scalars(select(Asset).where(Asset.status != "retired",
                                                         Asset.source_path.is_not(None))):
            source = asset.source_path
            assert source is not None  # excluded by the query
            path = Path(source)
            inside = any(path.is_relative_to(folder) for folder in folders)
            if inside and source not in present and not path.exists():
                asset.status = "retired"
                retired.append(asset.id)
    return retired


def ingest_upload(baton: Baton, filename: str, data: bytes, metadata: dict) -> str:
    """Store an uploaded file under the instance's files folder and ingest it; return its id."""
    settings = baton.settings
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(filename)).name).strip("-.") or "upload"
    format_for_name(safe)
    extracted = extract(safe, data, max_bytes=settings.max_file_bytes,
                        max_pdf_pages=settings.max_pdf_pages)
    raw = {k: v for k, v in (metadata or {}).items() if v is not None}
    if extracted.front_matter is not None:
        raw = {**parse_yaml_mapping(extracted.front_matter, "front matter"), **raw}
    meta, given = parse_metadata(
        raw, stages=baton.stages, default_asset_id=default_id(Path(safe), Path(".")),
        default_title=extracted.title or Path(safe).stem)
    with baton.sessions() as session:  # read only
        existing = session.get(Asset, meta.id)
        if existing is not None and existing.status != "retired":
            raise ConflictError(f"asset {meta.id!r} already exists")
    digest = hashlib.sha256(data).hexdigest()
    loaded = LoadedAsset(meta, extracted, digest, len(data), given)
    folder = settings.files_dir
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{meta.id}{Path(safe).suffix.lower()}"
    (folder / stored_name).write_bytes(data)
    item = _Work(None, loaded, split_passages(extracted.text, settings.passage_words), safe,
                 stored_file=stored_name)
    model = model_name(baton)
    with baton.sessions() as session:  # read only
        taggers = fit_taggers(baton, session, model)
    vector, passage_vectors = _embed(baton, [item])[0]
    _store(baton, item, vector, passage_vectors, taggers, model, None)
    retag(baton, model)
    invalidate_library(baton)
    return meta.id


def reembed(baton: Baton, all_assets: bool = False,
            progress: bool | Callable = False) -> list[str]:
    """Re-embed assets embedded with another model (all assets with ``all_assets``)."""
    model = model_name(baton)
    with baton.sessions() as session:  # read only
        query = select(Asset.id).where(Asset.status != "retired")
        if not all_assets:
            query = query.where((Asset.embedding_model != model) | Asset.embedding.is_(None)
                                | Asset.embedding_model.is_(None))
        ids = list(session.scalars(query.order_by(Asset.id)))
    done = []
    with _progress(progress, len(ids)) as step:
        for start in range(0, len(ids), BATCH_ASSETS):
            chunk = ids[start:start + BATCH_ASSETS]
            with baton.session() as session:
                assets = session.scalars(select(Asset).where(Asset.id.in_(chunk))).all()
                texts = [[p.text for p in a.passages] or
                         split_passages(a.text or a.title, baton.settings.passage_words)
                         for a in assets]
                flat = [t for block in texts for t in block]
                vectors = baton.embedder.encode(flat)
                offset = 0
                for asset, block in zip(assets, texts, strict=True):
                    pv = vectors[offset:offset + len(block)]
                    offset += len(block)
                    asset.passages.clear()
                    session.flush()
                    asset.passages.extend(
                        Passage(position=i, text=t, embedding=pv[i].tobytes())
                        for i, t in enumerate(block))
                    vector = normalize_rows(pv.mean(axis=0, keepdims=True))[0]
                    asset.embedding = vector.tobytes()
                    asset.embedding_model, asset.embedding_dim = model, int(vector.shape[0])
                    done.append(asset.id)
            step(len(chunk))
    if done:
        retag(baton, model)
        invalidate_library(baton)
    return done
