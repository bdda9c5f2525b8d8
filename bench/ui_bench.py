"""UI benchmark: server time (p50/p99) of the main pages and their page weight.

Builds a throw-away SQLite database with ``--assets`` assets (hashing-embedder vectors, one
passage each) and ``--deals`` open deals, signs in through the real app's test client, and
times each page ``--repeat`` times after a warm-up (so per-process caches such as the library
index are built, as they are on a running server). Page weight = the HTML plus the CSS and
JavaScript it loads (Baton pages load no images, fonts or third-party files).

    python bench/ui_bench.py [--assets 10000] [--deals 300] [--repeat 50]

Targets (issue 5): p99 ≤ 200 ms, weight ≤ 500 KB.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import Asset, Opportunity, Passage  # noqa: E402
from recommender.content.embedding import HashingEmbedder  # noqa: E402
from recommender.domain import utcnow  # noqa: E402
from tests.support import ui as ui_support  # noqa: E402
from web import create_app  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402

TYPES = ["case_study", "whitepaper", "blog_post", "datasheet", "pricing_sheet", "ebook",
         "security_review", "roi_calculator", "webinar", "battlecard"]
STAGES = ["awareness", "consideration", "decision"]
PERSONAS = ["cfo", "cio", "operations"]
INDUSTRIES = ["logistics", "retail", "manufacturing"]
WORDS = ("freight route cost delivery warehouse carrier savings pricing security contract "
         "integration rollout visibility forecast inventory fleet dispatch compliance audit "
         "payback discount tier onboarding api dashboard").split()
PIPELINE = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
            "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
            "Negotiation/Review"]
BUYING = ["awareness", "awareness", "consideration", "consideration", "consideration",
          "consideration", "decision", "decision"]


def build(root: Path, n_assets: int, n_deals: int, seed: int = 3) -> dict:
    """Create the benchmark database; return the app config."""
    rng = np.random.default_rng(seed)
    config = {"instance_path": str(root / "instance"),
              "database_url": f"sqlite:///{root / 'bench.db'}",
              "embedding_model": "baton-hashing", "secret_key": "bench"}
    embedder = HashingEmbedder()
    baton = Baton(Settings(**config), embedder=embedder)
    baton.init_database()
    ui_support.add_users(baton)
    texts = [" ".join(rng.choice(WORDS, size=40)) for _ in range(n_assets)]
    vectors = embedder.encode(texts)
    with baton.session() as session:
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
            asset = Asset(
                id=f"asset-{i:05d}", title=f"Asset {i:05d}: {text[:40]}",
                type=TYPES[i % len(TYPES)], stage=STAGES[i % 3],
                stage_source="auto" if i % 7 == 0 else "given",
                stage_confidence=0.5 if i % 7 == 0 else None,
                personas=[PERSONAS[i % 3]], industries=[INDUSTRIES[(i // 3) % 3]], products=[],
                url=f"https://example.com/a/{i}", content_hash=f"h{i}", text=text,
                word_count=40, embedding=vector.tobytes(), embedding_model=embedder.name,
                embedding_dim=embedder.dimension)
            asset.passages = [Passage(position=0, text=text, embedding=vector.tobytes())]
            session.add(asset)
            if i % 1000 == 999:
                session.flush()
        now = utcnow()
        for j in range(n_deals):
            k = j % len(PIPELINE)
            session.add(Opportunity(
                opportunity_id=f"opp-{j:04d}", name=f"Deal {j:04d}", account=f"Account {j}",
                industry=INDUSTRIES[j % 3], persona=PERSONAS[j % 3],
                amount=float(rng.integers(5, 500) * 1000), owner=f"rep{j % 5}@example.com",
                stage=PIPELINE[k], buying_stage=BUYING[k], status="open",
                notes="pricing objection; needs security review",
                created_at=now - timedelta(days=int(rng.integers(20, 200))),
                stage_entered_at=now - timedelta(days=int(rng.integers(1, 90)))))
    baton.close()
    return config


def _assets_of(html: str) -> list[str]:
    return re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', html)


def measure(client, path: str, repeat: int) -> tuple[float, float, float]:
    """Return p50 and p99 server time in ms and the page weight in KB."""
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    html = response.get_data()
    weight = len(html) + sum(len(client.get(src).get_data()) for src in _assets_of(
        html.decode()))
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    return statistics.median(times), p99, weight / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10000)
    parser.add_argument("--deals", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        config = build(Path(tmp), args.assets, args.deals)
        print(f"built {args.assets} assets and {args.deals} open deals in "
              f"{time.perf_counter() - start:.1f} s")
        app = create_app({**config, "testing": True}, embedder=HashingEmbedder())
        client = app.test_client()
        ui_support.sign_in(client, "admin")
        pages = [
            ("library (browse, 24 cards)", "/library"),
            ("library (facets)", "/library?stage=decision&persona=cfo&type=case_study"),
            ("library (semantic search)", "/library?q=cut+freight+costs+for+the+cfo"),
            ("asset detail", "/library/assets/asset-00042"),
            ("deal desk (pipeline)", "/deals"),
            ("deal page (recommendations)", "/deals/opp-0007"),
            ("analytics: influence", "/analytics"),
            ("analytics: gaps", "/analytics/gaps"),
            ("analytics: funnel", "/analytics/funnel"),
            ("settings", "/settings"),
        ]
        print(f"\n{args.assets} assets, {args.deals} open deals, {args.repeat} timed requests "
              f"per page (Flask test client, server time only)\n")
        print("| page | p50 ms | p99 ms | weight KB |")
        print("|---|---:|---:|---:|")
        for label, path in pages:
            p50, p99, kb = measure(client, path, args.repeat)
            print(f"| {label} | {p50:.1f} | {p99:.1f} | {kb:.1f} |", flush=True)
        app.extensions["baton"].close()


if __name__ == "__main__":
    main()
