"""``baton export`` / ``baton import`` round-trip the whole state, without secrets."""

from datetime import datetime

import numpy as np
from sqlalchemy import select

from models import (
    ApiKey,
    Asset,
    Base,
    ContentEvent,
    ContentRequest,
    Opportunity,
    Passage,
    StageChange,
    User,
)
from web.cli import main
from web.config import Settings
from web.runtime import Baton
from web.services import accounts, backup


def _fill(baton: Baton) -> None:
    vec = np.arange(4, dtype=np.float32).tobytes()
    with baton.session() as s:
        s.add(Asset(id="cs-a", title="Case A", type="case_study", stage="consideration",
                    content_hash="h", text="text", embedding=vec, embedding_model="m",
                    embedding_dim=4, personas=["cfo"], industries=["retail"],
                    passages=[Passage(position=0, text="p0", embedding=vec)]))
        s.add(Opportunity(opportunity_id="o1", name="Deal", stage="Qualification",
                          buying_stage="awareness", created_at=datetime(2026, 1, 2, 3, 4)))
        s.flush()
        s.add(StageChange(opportunity_id="o1", from_stage=None, to_stage="Qualification",
                          changed_at=datetime(2026, 1, 3)))
        s.add(ContentEvent(event_id="e1", opportunity_id="o1", asset_id="cs-a",
                           event_type="shared", occurred_at=datetime(2026, 1, 4),
                           propensity=0.25))
        s.add(ContentRequest(opportunity_id="o1", need="a logistics ROI calculator",
                             buying_stage="consideration"))
    with baton.session() as s:
        accounts.create_user(s, "rep@example.com", "rep", "a-long-password")
        accounts.create_api_key(s, "admin")
    files = baton.settings.files_dir
    files.mkdir(parents=True, exist_ok=True)
    (files / "upload.pdf").write_bytes(b"%PDF-1.4 stored file")


def _snapshot(baton: Baton) -> dict:
    out = {}
    with baton.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in backup.SKIPPED_TABLES:
                continue
            cols = [c for c in table.columns if (table.name, c.name) not in backup.SECRET_COLUMNS]
            rows = conn.execute(select(*cols).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def test_export_then_import_restores_everything_but_secrets(baton, tmp_path, embedder,
                                                           any_db_url):
    _fill(baton)
    before = _snapshot(baton)
    assert before["assets"] and before["content_events"] and before["users"]

    report = backup.export_state(baton, tmp_path / "backup")
    assert report.rows["assets"] == 1 and report.files == 1
    dumped = (tmp_path / "backup" / "users.jsonl").read_text()
    assert "password_hash\": null" in dumped and "pbkdf2" not in dumped and "scrypt" not in dumped
    assert not (tmp_path / "backup" / "api_keys.jsonl").exists()

    if any_db_url.startswith("sqlite"):
        any_db_url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = Baton(Settings(instance_path=str(tmp_path / "restored"), database_url=any_db_url,
                            embedding_model="baton-hashing", secret_key="x"), embedder=embedder)
    target.init_database()
    backup.import_state(target, tmp_path / "backup")
    assert _snapshot(target) == before
    assert (target.settings.files_dir / "upload.pdf").read_bytes() == b"%PDF-1.4 stored file"
    with target.session() as s:
        assert s.scalar(select(ApiKey)) is None
        user = s.scalar(select(User))
        assert accounts.authenticate_user(s, user.email, "a-long-password") is None
        accounts.set_password(s, user.email, "new-password-1")
        assert accounts.authenticate_user(s, user.email, "new-password-1") is not None
        # Serial ids continue after the restored ones.
        s.add(ContentRequest(need="another", buying_stage="decision"))
        s.flush()
    target.close()


def test_import_refuses_a_non_empty_database_and_changes_nothing(baton, tmp_path):
    _fill(baton)
    backup.export_state(baton, tmp_path / "backup")
    before = _snapshot(baton)
    try:
        backup.import_state(baton, tmp_path / "backup")
    except Exception as exc:
        assert "not empty" in str(exc)
    else:
        raise AssertionError("import into a non-empty database must fail")
    assert _snapshot(baton) == before


def test_cli_export_import(runner, baton, tmp_path):
    _fill(baton)
    result = runner.invoke(main, ["export", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    bad = runner.invoke(main, ["import", str(tmp_path)])
    assert bad.exit_code == 1
    assert "no manifest.json" in bad.output
