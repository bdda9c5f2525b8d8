"""CI smoke of the mixed load (bench/load_test.py runs it longer): the production server
(gunicorn, 2 workers) on loopback, 32 clients for 10 s on SQLite: nothing lost or doubled,
nothing failed except by design."""

from __future__ import annotations

from tests.support.load import load_run


def test_mixed_load_loses_nothing(tmp_path):
    result = load_run(f"sqlite:///{tmp_path / 'baton.db'}", seconds=10, clients=32,
                      instance=tmp_path)
    assert result["requests"] > 100
    assert not result["unexpected"], sorted(set(result["unexpected"]))[:10]
    assert result["by_design"] > 0  # the invalid events were sent and refused
    assert result["distinct_sent"] > 50
    assert result["stored"] == result["distinct_sent"]  # replays never double count
