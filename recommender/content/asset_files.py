"""Asset files on disk: discovery, front matter / sidecar metadata, validation and hashing.

An asset is a file (Markdown, PDF, DOCX, PPTX, HTML, text). Its metadata comes from YAML front
matter (Markdown) or a ``NAME.meta.yaml`` sidecar next to it (any format; a sidecar's keys win
over front matter). Discovery skips hidden files and folders, names starting with ``_``, and the
sidecars themselves.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from recommender.content.extract import extract
from recommender.content.extracted import Extracted
from recommender.domain import ASSET_TYPES, AssetMetadata, StageConfig, normalize_name, slugify
from recommender.errors import ExtractionError, MetadataError, UnknownStageError

SIDECAR_SUFFIX = ".meta.yaml"
ALLOWED_KEYS: tuple[str, ...] = (
    "id", "title", "type", "stage", "personas", "industries", "products", "url", "expires",
    "owner", "review_by",
)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


@dataclass
class AssetFile:
    """A file found under an ingested root; ``root`` is where its default id is relative to."""

    path: Path
    root: Path

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)


@dataclass
class LoadedAsset:
    """An asset file read and validated: metadata, text and which keys the marketer gave."""

    metadata: AssetMetadata
    extracted: Extracted
    content_hash: str
    file_size: int
    given: set[str] = field(default_factory=set)


def sidecar_path(path: Path) -> Path:
    """Return the sidecar path of ``path`` (``report.pdf`` → ``report.pdf.meta.yaml``)."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _sidecar_candidates(path: Path) -> list[Path]:
    # Both ``report.pdf.meta.yaml`` and ``report.meta.yaml`` are accepted.
    return [sidecar_path(path), path.with_name(path.stem + SIDECAR_SUFFIX)]


def find_sidecar(path: Path) -> Path | None:
    """Return the existing sidecar of ``path``, if any."""
    for candidate in _sidecar_candidates(path):
        if candidate.is_file():
            return candidate
    return None


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.startswith("_")


def discover(paths: list[str | Path]) -> tuple[list[AssetFile], list[tuple[str, str]]]:
    """Find asset files under ``paths`` (files or folders), in a stable sorted order.

    Returns
    -------
    files : list of AssetFile
    missing : list of (path, reason) for paths that do not exist
    """
    files: list[AssetFile] = []
    missing: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            root = path.resolve()
            found = []
            for candidate in root.rglob("*"):
                rel = candidate.relative_to(root)
                if any(_skipped(part) for part in rel.parts):
                    continue
                if candidate.name.endswith(SIDECAR_SUFFIX) or not candidate.is_file():
                    continue
                found.append(candidate)
            for candidate in sorted(found):
                if candidate not in seen:
                    seen.add(candidate)
                    files.append(AssetFile(candidate, root))
        elif path.is_file():
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append(AssetFile(resolved, resolved.parent))
        else:
            missing.append((str(raw), "no such file or directory"))
    return files, missing


def content_hash(path: Path) -> str:
    """Return sha256 of the file's bytes followed by its sidecar's bytes (if any)."""
    digest = hashlib.sha256(path.read_bytes())
    sidecar = find_sidecar(path)
    if sidecar is not None:
        digest.update(b"\x00sidecar\x00")
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def default_id(path: Path, root: Path) -> str:
    """Return the slug of ``path`` relative to ``root``, without its extension."""
    rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    name = rel.name
    for suffix in (".markdown", ".md", ".txt", ".text", ".html", ".htm", ".pdf", ".docx",
                   ".pptx"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return slugify(str(rel.with_name(name))) or slugify(path.name) or "asset"


def parse_yaml_mapping(text: str, source: str) -> dict[str, Any]:
    """Parse a YAML mapping; not-YAML or not-a-mapping raises ``MetadataError``."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506  a safe loader, C when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MetadataError(f"{source} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(f"{source} must be a YAML mapping of keys, not {type(data).__name__}")
    return data


def _string(value: Any, key: str, max_len: int = 2000) -> str:
    if isinstance(value, (dict, list)):
        raise MetadataError(f"{key} must be a single value, not a {type(value).__name__}")
    text = " ".join(str(value).split())
    if len(text) > max_len:
        raise MetadataError(f"{key} is {len(text)} characters, over the limit of {max_len}")
    return text


def parse_terms(value: Any, key: str, aliases: dict[str, str] | None = None) -> list[str]:
    """Return a list of slugs; a vocabulary term's label maps to its name (``aliases``)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;]", value)]
    if not isinstance(value, list):
        raise MetadataError(f"{key} must be a list of names, not {value!r}")
    out: list[str] = []
    for item in value:
        if isinstance(item, (dict, list)) or item is None:
            raise MetadataError(f"{key} must be a list of names; got {item!r}")
        slug = slugify(str(item))
        slug = (aliases or {}).get(slug, slug)
        if slug and slug not in out:
            out.append(slug)
    return out


def vocabulary_aliases(terms) -> dict[str, str]:
    """Map the slug of each term's label (and name) to the term's name."""
    aliases = {slugify(t.label): t.name for t in terms}
    aliases.update({slugify(t.name): t.name for t in terms})
    return aliases


def parse_date(value: Any, key: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise MetadataError(f"{key} {value!r} is not a date (use YYYY-MM-DD)") from None


def resolve_type(value: Any, stages: StageConfig) -> str:
    """Map a type name or label (any case, spaces or dashes) to an asset type; unknown raises."""
    key = normalize_name(str(value)).replace("-", "_").replace(" ", "_")
    known = [t.name for t in stages.asset_types] or list(ASSET_TYPES)
    for term in stages.asset_types:
        if key in (term.name, normalize_name(term.label).replace(" ", "_")):
            return term.name
    if key in known:
        return key
    raise MetadataError(f"unknown type {value!r}; known types: {', '.join(known)}")


def resolve_stage(value: Any, stages: StageConfig) -> str:
    """Map a buying or pipeline stage name to its buying stage; unknown/terminal raise."""
    name = _string(value, "stage", 200)
    try:
        buying = stages.resolve_buying_stage(name)
    except UnknownStageError as exc:
        raise MetadataError(str(exc)) from None
    if buying is None:
        raise MetadataError(
            f"stage {name!r} is a closing pipeline stage with no buying stage; use one of "
            f"{', '.join(stages.buying_stage_names)}"
        )
    return buying


def parse_metadata(raw: dict[str, Any], *, stages: StageConfig, default_asset_id: str,
                   default_title: str) -> tuple[AssetMetadata, set[str]]:
    """Validate raw front matter / sidecar keys into ``AssetMetadata``.

    Returns the metadata and the set of keys the marketer gave (others are to be inferred).
    Raises ``MetadataError`` naming the key and the problem.
    """
    unknown = sorted(str(k) for k in raw if k not in ALLOWED_KEYS)
    if unknown:
        raise MetadataError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(ALLOWED_KEYS)}"
        )
    given = {k for k, v in raw.items() if v is not None and v != ""}
    asset_id = default_asset_id
    if "id" in given:
        asset_id = _string(raw["id"], "id", 200)
        if not _ID.fullmatch(asset_id):
            raise MetadataError(
                f"id {asset_id!r} must start with a letter or digit and contain only letters, "
                "digits, '.', '_' and '-'"
            )
    title = _string(raw["title"], "title", 500) if "title" in given else ""
    url = _string(raw["url"], "url") if "url" in given else None
    if url and not re.match(r"https?://", url, re.I):
        raise MetadataError(f"url {url!r} must start with http:// or https://")
    metadata = AssetMetadata(
        id=asset_id,
        title=title or default_title,
        type=resolve_type(raw["type"], stages) if "type" in given else None,
        stage=resolve_stage(raw["stage"], stages) if "stage" in given else None,
        personas=parse_terms(raw.get("personas"), "personas", vocabulary_aliases(stages.personas)),
        industries=parse_terms(raw.get("industries"), "industries",
                               vocabulary_aliases(stages.industries)),
        products=parse_terms(raw.get("products"), "products",
                             vocabulary_aliases(stages.products)),
        url=url,
        expires=parse_date(raw.get("expires"), "expires"),
        owner=_string(raw["owner"], "owner", 200) if "owner" in given else None,
        review_by=parse_date(raw.get("review_by"), "review_by"),
    )
    return metadata, given


def load_asset(file: AssetFile, *, stages: StageConfig, max_bytes: int,
               max_pdf_pages: int = 500) -> LoadedAsset:
    """Read, extract and validate one asset file.

    Raises ``ExtractionError`` or ``MetadataError`` with a one-line reason.
    """
    path = file.path
    size = path.stat().st_size
    if size > max_bytes:
        raise ExtractionError(
            f"file is {size / 1048576:.1f} MB, over the limit of {max_bytes / 1048576:.1f} MB "
            "(BATON_MAX_FILE_MB)"
        )
    data = path.read_bytes()
    extracted = extract(path.name, data, max_bytes=max_bytes, max_pdf_pages=max_pdf_pages)
    raw: dict[str, Any] = {}
    if extracted.front_matter is not None:
        raw.update(parse_yaml_mapping(extracted.front_matter, "front matter"))
    sidecar = find_sidecar(path)
    digest = hashlib.sha256(data)
    if sidecar is not None:
        sidecar_bytes = sidecar.read_bytes()
        digest.update(b"\x00sidecar\x00")
        digest.update(sidecar_bytes)
        try:
            sidecar_text = sidecar_bytes.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MetadataError(
                f"sidecar {sidecar.name} is not UTF-8 (byte 0x{sidecar_bytes[exc.start]:02x} "
                f"at offset {exc.start})"
            ) from None
        raw.update(parse_yaml_mapping(sidecar_text, f"sidecar {sidecar.name}"))
    title = extracted.title or path.stem.replace("_", " ").replace("-", " ")
    metadata, given = parse_metadata(
        raw, stages=stages, default_asset_id=default_id(path, file.root), default_title=title
    )
    return LoadedAsset(metadata, extracted, digest.hexdigest(), len(data), given)
