"""Back up and restore Baton's whole state: every table as JSON Lines, plus stored files.

Secrets never leave: users are exported without password hashes (they must set a new password
after a restore) and API keys are not exported at all (mint new ones). Restoring needs an
empty database; it runs in one transaction, so a failed restore leaves nothing half-written.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Integer, LargeBinary, func, insert, select, text
from sqlalchemy.sql.sqltypes import Date, DateTime

from models import Base
from recommender.errors import ValidationError
from web.runtime import Baton

FORMAT_VERSION = 1
SKIPPED_TABLES = {"api_keys", "alembic_version"}
SECRET_COLUMNS = {("users", "password_hash")}
UNUSABLE_PASSWORD = "!restored-without-password"


@dataclass
class BackupReport:
    """Rows per table, and files copied."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0

    def summary(self) -> str:
        total = sum(self.rows.values())
        return f"{total} rows in {len(self.rows)} tables, {self.files} files"


def _encode(value):
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode(column, value):
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value["$b64"])
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _tables():
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def export_state(baton: Baton, out_dir: Path) -> BackupReport:
    """Write every table (without secrets) and the stored files under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BackupReport()
    with baton.engine.connect() as conn:
        for table in _tables():
            count = 0
            order = list(table.primary_key.columns) or list(table.columns)
            with open(out_dir / f"{table.name}.jsonl", "w", encoding="utf-8") as fh:
                for row in conn.execute(select(table).order_by(*order)).mappings():
                    record = {}
                    for key, value in row.items():
                        if (table.name, key) in SECRET_COLUMNS:
                            value = None
                        record[key] = _encode(value)
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
            report.rows[table.name] = count
    for name in ("files", "artifacts"):
        source = Path(baton.settings.instance_path) / name
        if source.is_dir():
            shutil.copytree(source, out_dir / name, dirs_exist_ok=True)
            report.files += sum(1 for p in (out_dir / name).rglob("*") if p.is_file())
    manifest = {"format_version": FORMAT_VERSION, "tables": report.rows, "files": report.files}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    return report


def import_state(baton: Baton, in_dir: Path) -> BackupReport:
    """Restore a backup written by ``export_state`` into an empty database."""
    in_dir = Path(in_dir)
    manifest_path = in_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ValidationError(f"{in_dir}: no manifest.json; not a Baton backup folder")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValidationError(f"{manifest_path}: unsupported format_version "
                              f"{manifest.get('format_version')!r}")
    report = BackupReport()
    with baton.engine.begin() as conn:
        for table in _tables():
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise ValidationError(
                    f"the database is not empty (table {table.name!r} has rows); "
                    "restore into a fresh database"
                )
        for table in _tables():
            path = in_dir / f"{table.name}.jsonl"
            if not path.is_file():
                continue
            batch: list[dict] = []
            count = 0
            with open(path, encoding="utf-8") as fh:
                for line_no, line in enumerate(fh, 1):
                    try:
                        raw = json.loads(line)
                        record = {c.name: _decode(c, raw.get(c.name)) for c in table.columns
                                  if c.name in raw}
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ValidationError(f"{path}:{line_no}: unreadable row: {exc}") from exc
                    if (table.name, "password_hash") in SECRET_COLUMNS and table.name == "users":
                        record["password_hash"] = UNUSABLE_PASSWORD
                    batch.append(record)
                    if len(batch) >= 1000:
                        conn.execute(insert(table), batch)
                        count += len(batch)
                        batch = []
            if batch:
                conn.execute(insert(table), batch)
                count += len(batch)
            report.rows[table.name] = count
        _reset_sequences(conn)
    for name in ("files", "artifacts"):
        source = in_dir / name
        if source.is_dir():
            target = Path(baton.settings.instance_path) / name
            shutil.copytree(source, target, dirs_exist_ok=True)
            report.files += sum(1 for p in source.rglob("*") if p.is_file())
    return report


def _reset_sequences(conn) -> None:
    """On PostgreSQL, move each serial sequence past the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer):
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
            ))
