"""CI smoke of bench/load_test.py: the production server (gunicorn, 2 workers) on loopback,
32 clients for 10 s on SQLite: nothing lost or doubled, nothing failed except by design."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load_test.py"


def _bench():
    spec = importlib.util.spec_from_file_location("baton_load_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mixed_load_loses_nothing(tmp_path):
    bench = _bench()
    result = bench.load_run(f"sqlite:///{tmp_path / 'baton.db'}", seconds=10, clients=32,
                            instance=tmp_path)
    assert result["requests"] > 100
    assert not result["unexpected"], sorted(set(result["unexpected"]))[:10]
    assert result["by_design"] > 0  # the invalid events were sent and refused
    assert result["distinct_sent"] > 50
    assert result["stored"] == result["distinct_sent"]  # replays never double count
