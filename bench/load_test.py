"""Mixed load on the production server: ``baton serve`` (gunicorn, 2 workers) on loopback.

32 keep-alive clients (threads) for ``--seconds`` mix recommendations, searches and event posts;
every 5th post replays an event already sent (must not double count) and every 25th is invalid on
purpose (unknown event type: 422 by design). Afterwards the number of stored ``load-*`` events
must equal the number of distinct event ids sent, and no request may fail except by design.

    python bench/load_test.py [--seconds 60] [--clients 32] [--postgres URL]

With ``--postgres`` the run uses a dedicated database ``baton_load`` created on that server (the
URL's database is only used to create it). Prints one table row per database.
The load itself lives in tests/support/load.py, which the CI smoke test runs too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.support.load import load_run  # noqa: E402


def postgres_load_url(admin_url: str) -> str:
    """Create (afresh) the dedicated ``baton_load`` database; return its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS baton_load WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE baton_load"))
    engine.dispose()
    return make_url(admin_url).set(database="baton_load").render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres", default=os.environ.get("BATON_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    targets = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    print(f"{'database':<11}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'422 by design':>14}{'failed':>8}{'events sent':>12}{'stored':>8}{'lost':>6}")
    for name, admin_url in targets:
        with tempfile.TemporaryDirectory() as tmp:
            url = (f"sqlite:///{Path(tmp) / 'baton.db'}" if admin_url is None
                   else postgres_load_url(admin_url))
            r = load_run(url, args.seconds, args.clients, Path(tmp))
        print(f"{name:<11}{r['requests']:>9}{r['rps']:>8.0f}{r['p50_ms']:>8.1f}"
              f"{r['p99_ms']:>8.1f}{r['by_design']:>14}{len(r['unexpected']):>8}"
              f"{r['distinct_sent']:>12}{r['stored']:>8}{r['lost_or_doubled']:>6}")
        for line in sorted(set(r["unexpected"]))[:10]:
            print("   unexpected:", line)


if __name__ == "__main__":
    main()
