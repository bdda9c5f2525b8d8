"""Stage names resolve case-insensitively; unknown ones fail loudly with the known list."""

import pytest

from recommender.errors import ConfigError, UnknownStageError
from recommender.stage_config import load_stage_config, parse_stage_config


@pytest.fixture(scope="module")
def stages():
    return load_stage_config()


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Prospecting", "awareness"),
        ("  needs analysis ", "consideration"),
        ("NEGOTIATION/REVIEW", "decision"),
        ("contractsent", "decision"),
        ("Presentation Scheduled", "consideration"),
        ("awareness", "awareness"),
        ("Closed Won", None),
    ],
)
def test_pipeline_stages_map_to_buying_stages(stages, name, expected):
    assert stages.resolve_buying_stage(name) == expected


def test_unknown_stage_names_the_stage_and_lists_known_ones(stages):
    with pytest.raises(UnknownStageError) as info:
        stages.resolve_buying_stage("Discovery Call")
    message = str(info.value)
    assert "'Discovery Call'" in message
    assert "Prospecting" in message and "contractsent" in message


def test_terminal_stages_carry_outcomes(stages):
    assert stages.pipeline_stage("Closed Lost").outcome == "lost"
    assert stages.pipeline_stage("closedwon", "hubspot").outcome == "won"
    assert [s.name for s in stages.pipeline().open_stages][:2] == ["Prospecting", "Qualification"]


def test_override_file_is_validated(tmp_path):
    bad = tmp_path / "stages.yaml"
    bad.write_text("buying_stages: [a, b]\npipelines:\n  - name: p\n    stages:\n"
                   "      - {name: One, buying_stage: zzz}\n")
    with pytest.raises(ConfigError, match="zzz"):
        load_stage_config(bad)
    with pytest.raises(ConfigError, match="buying_stages"):
        parse_stage_config({"pipelines": []})
