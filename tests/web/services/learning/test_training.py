"""Training from the database: atomic artifacts, reload without restart, failures are safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from models.learning import TrainingRun
from recommender.errors import ModelError
from recommender.learning.effects import ContentEffectModel
from recommender.learning.simulator import simulate_world
from tests.support.learning_data import add_events, load_world
from web.cli import main
from web.services.learning import training


@pytest.fixture(scope="module")
def small_world():
    return simulate_world(9, n_opportunities=300)


@pytest.fixture
def loaded(baton, small_world):
    half = len(small_world.events) // 2
    load_world(baton, small_world, events=False)
    with baton.session() as session:
        add_events(session, small_world.events[:half])
    return baton


def runs(baton):
    with baton.session() as session:
        return session.scalars(select(TrainingRun).order_by(TrainingRun.id)).all()


def test_train_writes_artifact_and_records_run(loaded, small_world):
    assert training.current_model(loaded) is None
    report = training.train(loaded)
    path = Path(report.artifact_path)
    assert path.exists() and path.parent == loaded.settings.artifacts_dir
    assert not list(path.parent.glob(".*.tmp"))  # no temp files left behind
    data = json.loads(path.read_text())
    assert data["meta"]["data_fingerprint"]["opportunities"] == len(small_world.opportunities)
    assert data["meta"]["code_version"]
    assert report.figures["visits"] > len(small_world.opportunities)
    assert "trained" in report.summary()
    [run] = runs(loaded)
    assert run.status == "succeeded" and run.artifact_path == str(path)
    assert run.figures["estimates"] > 0 and run.finished_at >= run.started_at
    model = training.current_model(loaded)
    assert isinstance(model, ContentEffectModel)
    assert model.version == report.model_version


def test_second_train_replaces_and_current_model_reloads(loaded, small_world):
    first = training.train(loaded)
    model1 = training.current_model(loaded)
    assert training.current_model(loaded) is model1  # cached: no reload without a change
    half = len(small_world.events) // 2
    with loaded.session() as session:
        add_events(session, small_world.events[half:])
    second = training.train(loaded)
    assert second.artifact_path != first.artifact_path
    model2 = training.current_model(loaded)
    assert model2 is not model1
    assert model2.version == second.model_version != first.model_version
    pointer = json.loads((loaded.settings.artifacts_dir / training.POINTER).read_text())
    assert pointer["artifact"] == Path(second.artifact_path).name


def test_failed_fit_keeps_previous_artifact(loaded, monkeypatch):
    good = training.train(loaded)
    pointer = loaded.settings.artifacts_dir / training.POINTER
    before = pointer.read_text()

    def boom(self, *args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(ContentEffectModel, "fit", boom)
    with pytest.raises(RuntimeError, match="exploded"):
        training.train(loaded)
    assert pointer.read_text() == before
    assert Path(good.artifact_path).exists()
    assert training.current_model(loaded).version == good.model_version
    last = runs(loaded)[-1]
    assert last.status == "failed" and "solver exploded" in last.error


def test_train_without_data_is_a_clear_error(baton):
    with pytest.raises(ModelError, match="import"):
        training.train(baton)
    assert runs(baton)[-1].status == "failed"
    assert training.current_model(baton) is None


def test_damaged_pointer_keeps_serving_the_loaded_model(loaded):
    training.train(loaded)
    model = training.current_model(loaded)
    pointer = loaded.settings.artifacts_dir / training.POINTER
    pointer.write_text("{half written")
    assert training.current_model(loaded) is model


def test_cli_simulate_and_train(runner, loaded, tmp_path):
    out = tmp_path / "world"
    result = runner.invoke(main, ["simulate", str(out), "--seed", "3", "--opportunities", "50"])
    assert result.exit_code == 0, result.output
    assert (out / "truth.json").exists() and (out / "content_events.csv").exists()
    result = runner.invoke(main, ["train", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["figures"]["estimates"] > 0 and Path(doc["artifact"]).exists()


def test_train_on_any_database(any_db_baton):
    runtime = any_db_baton
    load_world(runtime, simulate_world(2, n_opportunities=120))
    report = training.train(runtime)
    assert report.figures["visits"] > 120
    assert training.current_model(runtime).version == report.model_version
    assert runs(runtime)[-1].status == "succeeded"
